package dev.navil4j;

/**
 * The answer to one request, with token counts and timings.
 * <p>{@code rawText} is exactly the concatenation of what streaming delivered: the generated ids decoded
 * with special tokens skipped. {@code text} is the family's reference cleanup of it ({@code chat()}'s
 * Python {@code strip()} of leading/trailing whitespace, and the cut at a stop string), which is also what
 * goes into the session history.
 *
 * @param text          the cleaned answer
 * @param rawText       the decoded generated ids, before cleanup
 * @param tokenIds      the generated ids (with the stop id when generation stopped on one)
 * @param finish        why generation ended
 * @param promptTokens  prompt length in tokens (media positions included)
 * @param mediaTokens   prompt positions filled from media
 * @param prepareNanos  template + tokenization + image/video preprocessing and encoding
 * @param prefillNanos  running the prompt through the language model
 * @param decodeNanos   generating the tokens after the first
 * @param cachedTokens  prompt positions taken from the session's KV cache instead of being recomputed
 */
public record Response(String text, String rawText, int[] tokenIds, Finish finish, int promptTokens, int mediaTokens,
                       long prepareNanos, long prefillNanos, long decodeNanos, int cachedTokens) {
    /** Why generation ended. */
    public enum Finish {
        /** a stop token (e.g. {@code <|im_end|>}) was generated */
        STOP,
        /** max new tokens (or the end of the context) was reached */
        LENGTH,
        /** the stream was closed or cancelled by its consumer */
        CANCELLED
    }

    /** Copies the ids (a response is immutable). */
    public Response {
        tokenIds = tokenIds.clone();
    }

    /** A copy of the generated ids. */
    @Override
    public int[] tokenIds() { return tokenIds.clone(); }

    /** Number of generated tokens (the stop token included). */
    public int generatedTokens() { return tokenIds.length; }

    /** Prompt tokens per second of prefill. */
    public double prefillTokensPerSecond() { return (promptTokens - cachedTokens) / Math.max(1e-9, prefillNanos / 1e9); }

    /** Generated tokens per second after the first (which prefill produces); NaN with fewer than 2 tokens. */
    public double decodeTokensPerSecond() {
        return tokenIds.length <= 1 ? Double.NaN : (tokenIds.length - 1) / Math.max(1e-9, decodeNanos / 1e9);
    }

    @Override
    public String toString() { return text; }
}
