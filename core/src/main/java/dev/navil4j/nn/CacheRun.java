package dev.navil4j.nn;

/**
 * Rows [row0, row0 + rows) of a batched decoder step that extend one sequence's KV cache, which held {@code past}
 * positions. A step over several sequences (batched decode, a prefill chunk beside running decodes) is a list
 * of runs: the linear layers see all rows at once, {@link #attend} works per run.
 *
 * @param blocks bidirectional image block per absolute position [past + rows] (VoRA), null = causal
 * @param seqLen max rotary position of the run + 1 (dynamic rope picks its base from it)
 */
public record CacheRun(KVCache cache, int row0, int rows, int past, int[] blocks, int seqLen) {
    /** One run over the whole batch (a single sequence). */
    public static CacheRun[] single(KVCache cache, int n, int[] blocks, int seqLen) {
        return new CacheRun[] {new CacheRun(cache, 0, n, cache.length(), blocks, seqLen)};
    }

    /** Makes room in every run's cache (before the first layer). */
    public static void reserve(CacheRun[] runs) { for (CacheRun r : runs) r.cache.reserve(r.rows); }

    /** Advances every run's cache (after the last layer stored its rows). */
    public static void commit(CacheRun[] runs) { for (CacheRun r : runs) r.cache.commit(r.rows); }

    /**
     * Layer l's self-attention for every run: rotary on the run's q [n, heads·hd] and k [n, kvHeads·hd] rows at
     * their positions, k/v stored in the run's cache, then causal (or block-bidirectional) GQA over the cache into
     * out [n, heads·hd].
     */
    public static void attend(CacheRun[] runs, int l, float[] q, float[] k, float[] v, Rope rope, int[] positions,
                              int heads, int kvHeads, int headDim, float scale, float[] out) {
        int qDim = heads * headDim, kvDim = kvHeads * headDim;
        for (CacheRun r : runs) {
            rope.apply(q, r.row0, r.rows, heads, headDim, positions, r.row0, r.seqLen);
            rope.apply(k, r.row0, r.rows, kvHeads, headDim, positions, r.row0, r.seqLen);
            r.cache.put(l, k, r.row0 * kvDim, v, r.row0 * kvDim, r.rows);
            if (runs.length == 1 && r.row0 == 0) {
                Attention.causal(q, r.rows, r.past, r.cache, l, heads, kvHeads, headDim, scale, r.blocks, out);
                continue;
            }
            float[] qs = java.util.Arrays.copyOfRange(q, r.row0 * qDim, (r.row0 + r.rows) * qDim);
            float[] os = new float[r.rows * qDim];
            Attention.causal(qs, r.rows, r.past, r.cache, l, heads, kvHeads, headDim, scale, r.blocks, os);
            System.arraycopy(os, 0, out, r.row0 * qDim, os.length);
        }
    }
}
