package dev.navil4j.models.vora;

import dev.navil4j.tokenizer.PromptText;
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
    /** The tokens of the prompt format: never matched inside system/user text. */
    static final java.util.Set<String> STRUCTURAL = java.util.Set.of("<|im_start|>", "<|im_end|>", "<|endoftext|>");

    private VoRAChatTemplate() {}

    public static String render(Conversation conv) { return renderText(conv.withSpecialTokens(true)).text(); }

    /** {@link #render} with the system and user messages marked as content (special-token text in them stays text unless the conversation allows it). */
    public static PromptText renderText(Conversation conv) {
        PromptText b = new PromptText(conv.allowSpecialTokens(), STRUCTURAL);
        // template: "if loop.first and message['role'] != 'system'" → the default system message
        b.control("<|im_start|>system\n").content(conv.system() != null ? conv.system() : DEFAULT_SYSTEM).control("<|im_end|>\n");
        for (Conversation.Turn t : conv.turns()) {
            String text = t.user() == null ? "" : t.user();
            b.control("<|im_start|>user\n");
            int images = 0;
            for (Conversation.Media m : t.media()) {
                if (!(m instanceof Conversation.Image)) throw new IllegalArgumentException("VoRA takes images only, not " + m.getClass().getSimpleName());
                images++;
            }
            // the template checks the (last) text item for '<image>' and then adds no placeholder of its own
            if (!text.contains(IMAGE_TOKEN)) b.control(IMAGE_TOKEN.repeat(images));
            b.content(text).control("<|im_end|>\n");
            // answers: the model's own output, tokenized as the reference re-tokenizes the history
            if (t.assistant() != null) b.control("<|im_start|>assistant\n").control(t.assistant()).control("<|im_end|>\n");
        }
        return b.control("<|im_start|>assistant\n");
    }
}
