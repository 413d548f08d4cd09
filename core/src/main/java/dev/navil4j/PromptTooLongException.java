package dev.navil4j;

/**
 * A prompt that does not fit: more tokens than the model's context, or more media tokens than the
 * request's budget. Thrown before anything is generated; the message gives both numbers.
 */
public final class PromptTooLongException extends dev.navil4j.generate.ContextLimitException {

    /**
     * @param message what does not fit, with both numbers and what to change
     * @param tokens  tokens the prompt needs
     * @param limit   the limit it exceeds
     */
    public PromptTooLongException(String message, int tokens, int limit) {
        super(message, tokens, limit);
    }
}
