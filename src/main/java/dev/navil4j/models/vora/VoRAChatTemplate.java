package dev.navil4j.models.vora;

import dev.navil4j.chat.Conversation;

/**
 * VoRA's chat_template.json rendered for a {@link Conversation} with add_generation_prompt=True:
 * a default system message unless one is given, every user turn as
 * {@code <|im_start|>user\n} + (one {@code <image>} per image, unless the turn's text already contains
 * "<image>") + text + {@code <|im_end|>\n}, assistant answers likewise, then {@code <|im_start|>assistant\n}.
 * A turn's media are rendered before its text (the order every VoRA example and fixture uses).
 */
public final class VoRAChatTemplate {
    public static final String IMAGE_TOKEN = "<image>";
    static final String DEFAULT_SYSTEM = "You are a helpful assistant.";

    private VoRAChatTemplate() {}

    public static String render(Conversation conv) {
        StringBuilder b = new StringBuilder();
        // template: "if loop.first and message['role'] != 'system'" → the default system message
        b.append("<|im_start|>system\n").append(conv.system() != null ? conv.system() : DEFAULT_SYSTEM).append("<|im_end|>\n");
        for (Conversation.Turn t : conv.turns()) {
            String text = t.user() == null ? "" : t.user();
            b.append("<|im_start|>user\n");
            int images = 0;
            for (Conversation.Media m : t.media()) {
                if (!(m instanceof Conversation.Image)) throw new IllegalArgumentException("VoRA takes images only, not " + m.getClass().getSimpleName());
                images++;
            }
            // the template checks the (last) text item for '<image>' and then adds no placeholder of its own
            if (!text.contains(IMAGE_TOKEN)) b.append(IMAGE_TOKEN.repeat(images));
            b.append(text).append("<|im_end|>\n");
            if (t.assistant() != null) b.append("<|im_start|>assistant\n").append(t.assistant()).append("<|im_end|>\n");
        }
        return b.append("<|im_start|>assistant\n").toString();
    }
}
