package dev.navil4j;

import dev.navil4j.chat.Conversation;

import java.util.List;

/**
 * One question: its text, the media it attaches and optional per-request settings. Build with
 * {@link #of(String, Conversation.Media...)}; immutable.
 * <p>Where the media go in the text follows the family's reference {@code chat()}: for InternVL, a
 * question with images and no {@code <image>} placeholder gets {@code "<image>\n"} in front; write
 * {@code "Image-1: <image>\nImage-2: <image>\n…"} to place several images yourself.
 *
 * @param text    the question
 * @param media   images or videos attached to this question (empty for text only)
 * @param options overrides of the model's generation defaults and media limits
 */
public record Request(String text, List<Conversation.Media> media, RequestOptions options) {
    /** Validates the text; null media = none, null options = defaults. */
    public Request {
        if (text == null) throw new IllegalArgumentException("question text is null");
        media = media == null ? List.of() : List.copyOf(media);
        if (options == null) options = RequestOptions.defaults();
    }

    /** A question with optional media and default options. */
    public static Request of(String text, Conversation.Media... media) {
        return new Request(text, media == null ? List.of() : List.of(media), RequestOptions.defaults());
    }

    /** This request with these options. */
    public Request with(RequestOptions o) { return new Request(text, media, o); }
}
