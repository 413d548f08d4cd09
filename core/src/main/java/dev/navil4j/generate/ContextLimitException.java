package dev.navil4j.generate;

/**
 * A request that does not fit: a prompt longer than the context, new tokens past its end, or media over a
 * budget. Thrown before anything is generated; the message gives both numbers.
 */
public class ContextLimitException extends IllegalArgumentException {
    private final int tokens, limit;

    public ContextLimitException(String message, int tokens, int limit) {
        super(message);
        this.tokens = tokens;
        this.limit = limit;
    }

    /** Tokens the request needs. */
    public int tokens() { return tokens; }

    /** The limit it exceeds. */
    public int limit() { return limit; }

    /**
     * The one context rule of the engine: prompt + generated tokens ≤ context (OpenAI's and vLLM's accounting), so a
     * prompt of {@code promptLen} tokens leaves {@code context - promptLen} new tokens and must leave at least one.
     * Returns the new-token limit to use: {@code requested} when it fits, else — when {@code strict} (the caller
     * asked for exactly that many) — an exception, otherwise the room left.
     */
    public static int fitNewTokens(int promptLen, int requested, int context, boolean strict) {
        if (promptLen >= context)
            throw new ContextLimitException("prompt of " + promptLen + " tokens " + (promptLen == context ? "fills" : "exceeds")
                    + " the model's context of " + context + " tokens and leaves no room for an answer; shorten the question or"
                    + " history, attach fewer images or frames, or lower max tiles", promptLen, context);
        int room = context - promptLen;
        if (requested <= room) return requested;
        if (strict)
            throw new ContextLimitException("prompt of " + promptLen + " tokens plus " + requested + " new tokens exceeds the context of "
                    + context + " tokens (room for " + room + ")", promptLen + requested, context);
        return room;
    }
}
