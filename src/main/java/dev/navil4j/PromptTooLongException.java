package dev.navil4j;

/**
 * A prompt that does not fit: more tokens than the model's context, or more media tokens than the
 * request's budget. Thrown before anything is generated; the message gives both numbers.
 */
public final class PromptTooLongException extends IllegalArgumentException {
    private final int tokens;
    private final int limit;

    /**
     * @param message what does not fit, with both numbers and what to change
     * @param tokens  tokens the prompt needs
     * @param limit   the limit it exceeds
     */
    public PromptTooLongException(String message, int tokens, int limit) {
        super(message);
        this.tokens = tokens;
        this.limit = limit;
    }

    /** Tokens the prompt needs (all positions, or media positions for a budget). */
    public int tokens() { return tokens; }

    /** The limit it exceeds. */
    public int limit() { return limit; }
}
