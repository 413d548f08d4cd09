package dev.navil4j.models;

import dev.navil4j.nn.KVCache;

import java.util.Arrays;

/**
 * One sequence's state: its KV cache and, per cached position, the {@link CacheKeys key} of what was computed
 * there — so a later prompt can keep the longest prefix it shares ({@link #reusablePrefix}) and recompute only
 * the rest. Owned by one thread at a time.
 */
public final class InferenceState {
    private final KVCache cache;
    private long[] keys;
    /** Rotary position of the next decoded token, valid while the cache holds exactly {@code recorded} positions. */
    private int nextPosition, recorded;

    public InferenceState(KVCache cache) {
        this.cache = cache;
        this.keys = new long[Math.min(cache.maxLength, 256)];
    }

    public KVCache cache() { return cache; }

    /** Tokens processed so far (prompt + fed-back generated tokens). */
    public int length() { return cache.length(); }

    /** Longest sequence this state holds. */
    public int capacity() { return cache.maxLength; }

    /** Bytes held (KV cache). */
    public long bytes() { return cache.bytes(); }

    /**
     * Rotary position of the next decoded token: one past the last recorded position; the cache length when rows
     * were appended without recording (a family's own reference forward), as positions are the index there.
     */
    public int nextPosition() { return recorded == length() ? nextPosition : length(); }

    /** Records what positions [length - n, length) hold, after the model appended them. */
    void recordKeys(int from, long[] k, int kOff, int n, int lastPosition) {
        if (from + n > keys.length) keys = Arrays.copyOf(keys, Math.max(from + n, Math.min(cache.maxLength, keys.length * 2)));
        System.arraycopy(k, kOff, keys, from, n);
        nextPosition = lastPosition + 1;
        recorded = from + n;
    }

    /**
     * How many leading positions of {@code prompt} this state already holds: the length of the common key prefix,
     * at most {@code prompt.length() - 1} (the last prompt token must run to give the next token's logits), cut
     * back to the start of an image block when the family attends bidirectionally inside blocks.
     */
    public int reusablePrefix(PreparedPrompt prompt, long[] promptKeys, ModelFlags flags) {
        int max = Math.min(Math.min(length(), recorded), prompt.length() - 1), n = 0;
        while (n < max && keys[n] == promptKeys[n]) n++;
        if (flags.bidirectionalImageBlocks() && n > 0 && n < prompt.length()) n = prompt.blockStart(n);
        return n;
    }

    /** Drops positions ≥ n (keeps a shared prefix). */
    public void truncate(int n) {
        cache.truncate(n);
        nextPosition = n; // every family so far uses positions = index
        recorded = n;
    }

    /** This state's first n positions copied into {@code into} (which must be empty and of the same model). */
    public void copyPrefixTo(InferenceState into, int n) {
        if (into.length() != 0) throw new IllegalStateException("copy into a state that holds " + into.length() + " tokens");
        cache.copyPrefixTo(into.cache, n);
        into.recordKeys(0, keys, 0, n, n - 1);
    }
}
