package dev.navil4j.nn;

import dev.navil4j.tensor.Gemm;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.Kernels;

import java.lang.foreign.MemorySegment;

/**
 * Scaled dot-product attention with f32 softmax, one query row at a time (scores are a row buffer,
 * never an N×N matrix). Grouped-query: query head h reads kv head h / (heads / kvHeads).
 */
public final class Attention {
    private Attention() {}

    /**
     * Decoder attention over a KV cache. q is [n, heads·headDim] for the n new tokens at cache positions
     * [past, past+n); the cache already holds their keys/values. Query t attends to keys 0..past+t
     * (causal) and, when {@code block} is given, also to later keys j with block[j] == block[past+t] ≥ 0
     * (bi-directional image blocks, VoRA). {@code block} is indexed by absolute position; null = causal.
     * out is [n, heads·headDim].
     */
    public static void causal(float[] q, int n, int past, float[] keys, float[] values, int heads, int kvHeads,
                              int headDim, float scale, int[] block, float[] out) {
        if (kvHeads < 1 || heads % kvHeads != 0)
            throw new IllegalArgumentException(heads + " query heads cannot share " + kvHeads + " kv heads");
        if (block == null && n >= BLOCKED_MIN_LENGTH) {
            blocked(q, heads * headDim, 0, n, heads, keys, values, kvHeads * headDim, 0, past + n, kvHeads, headDim, scale, past, out);
            return;
        }
        causalReference(q, n, past, keys, values, heads, kvHeads, headDim, scale, block, out);
    }

    /** The plain row-at-a-time implementation of {@link #causal} (reference for tests; used for decode and VoRA blocks). */
    public static void causalReference(float[] q, int n, int past, float[] keys, float[] values, int heads, int kvHeads,
                                       int headDim, float scale, int[] block, float[] out) {
        int group = heads / kvHeads, kvDim = kvHeads * headDim, qDim = heads * headDim;
        int total = past + n;
        Parallel.forRange(n * heads, 4, (from, to) -> {
            float[] scores = new float[total];
            for (int idx = from; idx < to; idx++) {
                int t = idx / heads, h = idx % heads, kvh = h / group;
                int last = lastVisibleKey(block, past + t, total);
                int qo = t * qDim + h * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j <= last; j++) {
                    float s = Kernels.dot(q, qo, keys, j * kvDim + kvh * headDim, headDim) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                softmaxWeightedSum(scores, last + 1, max, values, kvDim, kvh * headDim, headDim, out, qo);
            }
        });
    }

    /** The last key position visible from {@code pos}: itself (causal), or the end of its bidirectional image block. */
    private static int lastVisibleKey(int[] block, int pos, int total) {
        int last = pos;
        if (block != null && block[pos] >= 0)
            while (last + 1 < total && block[last + 1] == block[pos]) last++;
        return last;
    }

    /**
     * {@link #causal(float[], int, int, float[], float[], int, int, int, float, int[], float[])} over layer l of a
     * cache in either storage: an f32 cache goes to the array kernel; a bf16 cache widens each key row inside the
     * dot and each value row before the weighted sum, so scores, softmax and sums stay f32 as in the f32 path.
     */
    public static void causal(float[] q, int n, int past, KVCache cache, int l, int heads, int kvHeads,
                              int headDim, float scale, int[] block, float[] out) {
        if (!cache.bf16) {
            causal(q, n, past, cache.keys(l), cache.values(l), heads, kvHeads, headDim, scale, block, out);
            return;
        }
        MemorySegment keys = cache.keySegment(l), values = cache.valueSegment(l);
        int group = heads / kvHeads, kvDim = kvHeads * headDim, qDim = heads * headDim;
        int total = past + n;
        Parallel.forRange(n * heads, 4, (from, to) -> {
            float[] scores = new float[total];
            float[] row = new float[headDim];
            for (int idx = from; idx < to; idx++) {
                int t = idx / heads, h = idx % heads, kvh = h / group;
                int last = lastVisibleKey(block, past + t, total);
                int qo = t * qDim + h * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j <= last; j++) {
                    float s = Kernels.dotBf16(keys, (long) j * kvDim + kvh * headDim, q, qo, headDim) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                float sum = Kernels.expShiftSum(scores, 0, last + 1, max);
                java.util.Arrays.fill(out, qo, qo + headDim, 0f);
                float inv = 1f / sum;
                for (int j = 0; j <= last; j++) {
                    Kernels.bf16ToFloat(values, (long) j * kvDim + kvh * headDim, row, 0, headDim);
                    Kernels.axpy(scores[j] * inv, row, 0, out, qo, headDim);
                }
            }
        });
    }

    /**
     * Non-causal attention within segments (vision encoders): tokens attend to every token of their own
     * segment. q, k, v are [n, heads·headDim] (same head count); cuSeqlens = [0, e1, e2, ..., n].
     */
    public static void segments(float[] q, float[] k, float[] v, int n, int heads, int headDim, float scale,
                                int[] cuSeqlens, float[] out) {
        if (cuSeqlens.length < 2 || cuSeqlens[0] != 0 || cuSeqlens[cuSeqlens.length - 1] != n)
            throw new IllegalArgumentException("cu_seqlens must run from 0 to " + n + ", got " + java.util.Arrays.toString(cuSeqlens));
        int longest = 0;
        for (int s = 0; s + 1 < cuSeqlens.length; s++) longest = Math.max(longest, cuSeqlens[s + 1] - cuSeqlens[s]);
        if (longest < BLOCKED_MIN_LENGTH) {
            segmentsReference(q, k, v, n, heads, headDim, scale, cuSeqlens, out);
            return;
        }
        for (int s = 0; s + 1 < cuSeqlens.length; s++) {
            int s0 = cuSeqlens[s], len = cuSeqlens[s + 1] - s0;
            if (len < BLOCKED_MIN_LENGTH) {
                int[] one = {0, len};
                float[] qs = java.util.Arrays.copyOfRange(q, s0 * heads * headDim, (s0 + len) * heads * headDim);
                float[] ks = java.util.Arrays.copyOfRange(k, s0 * heads * headDim, (s0 + len) * heads * headDim);
                float[] vs = java.util.Arrays.copyOfRange(v, s0 * heads * headDim, (s0 + len) * heads * headDim);
                float[] os = new float[len * heads * headDim];
                segmentsReference(qs, ks, vs, len, heads, headDim, scale, one, os);
                System.arraycopy(os, 0, out, s0 * heads * headDim, os.length);
            } else {
                blockedSegment(q, k, v, s0, len, heads, headDim, scale, out);
            }
        }
    }

    /** Segments at least this long use the blocked kernel (shorter ones cost more to pack than to compute). */
    static final int BLOCKED_MIN_LENGTH = 32;

    static void blockedSegment(float[] q, float[] k, float[] v, int s0, int len, int heads, int headDim, float scale, float[] out) {
        int dim = heads * headDim;
        blocked(q, dim, s0, len, heads, k, v, dim, s0, len, heads, headDim, scale, -1, out);
    }

    /**
     * Attention blocked so nothing N×N is materialized: per kv head the keys [kRow0, kRow0+nk) are packed
     * transposed into 16-key panels and the values into 16-dim panels (once), then per block of MR ({@link Gemm#MR}: 6, or 12 at 512 bits) queries:
     * scores [MR, keys] by the GEMM micro-kernel, an exact row softmax (max-subtracted, f32 exp, as SDPA /
     * eager attention), and the [MR, headDim] output by the micro-kernel again. Parallel over (head, query block).
     * q rows qRow0.. (stride qStride = heads·headDim) give out rows at the same index. causalPast ≥ 0: query i
     * sits at position causalPast + i and sees keys 0..causalPast+i (kRow0 must be 0); −1: every key.
     */
    static void blocked(float[] q, int qStride, int qRow0, int nq, int heads, float[] k, float[] v, int kvStride, int kRow0,
                        int nk, int kvHeads, int headDim, float scale, int causalPast, float[] out) {
        int mr = Gemm.MR, nr = Gemm.NR, group = heads / kvHeads;
        int keyPanels = (nk + nr - 1) / nr, dimPanels = (headDim + nr - 1) / nr;
        int lenPad = keyPanels * nr;
        // kp[kvh][panel][d][16] = k[key = panel·16 + j, kvh, d]; vp[kvh][dpanel][key][16] = v[key, kvh, dpanel·16 + j]
        float[] kp = new float[kvHeads * keyPanels * headDim * nr];
        float[] vp = new float[kvHeads * dimPanels * lenPad * nr];
        Parallel.forRange(kvHeads, 1, (h0, h1) -> {
            for (int h = h0; h < h1; h++) {
                int kb = h * keyPanels * headDim * nr, vb = h * dimPanels * lenPad * nr;
                for (int j = 0; j < nk; j++) {
                    int src = (kRow0 + j) * kvStride + h * headDim, panel = j / nr, lane = j % nr;
                    for (int d = 0; d < headDim; d++) {
                        kp[kb + (panel * headDim + d) * nr + lane] = k[src + d];
                        vp[vb + ((d / nr) * lenPad + j) * nr + d % nr] = v[src + d];
                    }
                }
            }
        });
        int qBlocks = (nq + mr - 1) / mr;
        // the per-block body is a method of its own, not the lambda's loop: inline it was one huge method that C2
        // compiled on-stack-replaced, trapped on the next call's loop bounds and compiled again — 10 compilations,
        // 0.87 s of C2 time in a one-shot tiny-model chat (JFR jdk.Compilation), more than the attention itself.
        Parallel.forRange(heads * qBlocks, 1, (from, to) -> {
            float[] qa = new float[headDim * mr], scores = new float[mr * lenPad], pa = new float[lenPad * mr];
            float[] o = new float[mr * dimPanels * nr], inv = new float[mr];
            for (int idx = from; idx < to; idx++)
                attendQueryBlock(idx / qBlocks, (idx % qBlocks) * mr, q, qStride, qRow0, nq, group, kp, vp, nk, keyPanels,
                        dimPanels, lenPad, headDim, scale, causalPast, qa, scores, pa, o, inv, out);
        });
    }

    /** Head h, queries t0..t0+MR of {@link #blocked}: packed, scored, soft-maxed and multiplied by the value panels. */
    private static void attendQueryBlock(int h, int t0, float[] q, int qStride, int qRow0, int nq, int group, float[] kp,
                                         float[] vp, int nk, int keyPanels, int dimPanels, int lenPad, int headDim,
                                         float scale, int causalPast, float[] qa, float[] scores, float[] pa, float[] o,
                                         float[] inv, float[] out) {
        int mr = Gemm.MR, nr = Gemm.NR, kvh = h / group, rows = Math.min(mr, nq - t0);
        int visible = causalPast < 0 ? nk : Math.min(nk, causalPast + t0 + rows);
        int panels = (visible + nr - 1) / nr, span = panels * nr;
        // queries packed [d][MR] and pre-scaled: (q·scale)·k, as SDPA scales q before the product
        java.util.Arrays.fill(qa, 0f);
        for (int i = 0; i < rows; i++) {
            int src = (qRow0 + t0 + i) * qStride + h * headDim;
            for (int d = 0; d < headDim; d++) qa[d * mr + i] = q[src + d] * scale;
        }
        java.util.Arrays.fill(scores, 0, mr * lenPad, 0f);
        int kb = kvh * keyPanels * headDim * nr;
        for (int p = 0; p < panels; p++)
            Gemm.kernel(qa, 0, kp, kb + p * headDim * nr, headDim, scores, p * nr, lenPad, mr, nr);
        for (int i = 0; i < mr; i++) {
            int keys = i >= rows ? 0 : causalPast < 0 ? nk : causalPast + t0 + i + 1;
            softmaxRowInPlace(scores, i * lenPad, keys, span, inv, i);
        }
        transposeProbabilities(scores, lenPad, span, inv, mr, pa);
        java.util.Arrays.fill(o, 0f);
        int vb = kvh * dimPanels * lenPad * nr;
        int ldo = dimPanels * nr;
        for (int p = 0; p < dimPanels; p++)
            Gemm.kernel(pa, 0, vp, vb + p * lenPad * nr, span, o, p * nr, ldo, mr, nr);
        for (int i = 0; i < rows; i++)
            System.arraycopy(o, i * ldo, out, (qRow0 + t0 + i) * qStride + h * headDim, headDim);
    }

    /**
     * Row i of the block: scores[ro .. ro+keys) become the softmax numerators exp(s − max) (an exact,
     * max-subtracted row softmax), the rest of the row up to span zero; inv[i] = 1 / their sum (0 for no keys).
     */
    private static void softmaxRowInPlace(float[] scores, int ro, int keys, int span, float[] inv, int i) {
        float max = Kernels.max(scores, ro, keys);
        inv[i] = keys == 0 ? 0f : 1f / Kernels.expShiftSum(scores, ro, keys, max);
        java.util.Arrays.fill(scores, ro + keys, ro + span, 0f);
    }

    /**
     * pa[j·mr + i] = scores[i·lenPad + j]·inv[i] for j &lt; span: the probabilities packed [key][MR] for the P·V
     * micro-kernel. Written key by key so pa (span × MR floats, ~48 KiB at 1025 keys and MR 12) is stored once in
     * order; row by row, every row's pass strided over all of it (5.5 % of an InternViT tile at 512 bits, JFR).
     * The product per element is the one the row-wise loop computed.
     */
    private static void transposeProbabilities(float[] scores, int lenPad, int span, float[] inv, int mr, float[] pa) {
        for (int j = 0; j < span; j++) {
            int po = j * mr;
            for (int i = 0; i < mr; i++) pa[po + i] = scores[i * lenPad + j] * inv[i];
        }
    }

    /** The plain row-at-a-time implementation of {@link #segments} (reference for tests; used for short segments). */
    public static void segmentsReference(float[] q, float[] k, float[] v, int n, int heads, int headDim, float scale,
                                         int[] cuSeqlens, float[] out) {
        int dim = heads * headDim;
        int[] segOf = new int[n];
        for (int s = 0; s + 1 < cuSeqlens.length; s++)
            for (int i = cuSeqlens[s]; i < cuSeqlens[s + 1]; i++) segOf[i] = s;
        Parallel.forRange(n * heads, 4, (from, to) -> {
            float[] scores = new float[n];
            for (int idx = from; idx < to; idx++) {
                int t = idx / heads, h = idx % heads;
                int s0 = cuSeqlens[segOf[t]], s1 = cuSeqlens[segOf[t] + 1];
                int qo = t * dim + h * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = s0; j < s1; j++) {
                    float s = Kernels.dot(q, qo, k, j * dim + h * headDim, headDim) * scale;
                    scores[j - s0] = s;
                    if (s > max) max = s;
                }
                softmaxWeightedSum(scores, s1 - s0, max, v, dim, s0 * dim + h * headDim, headDim, out, qo);
            }
        });
    }

    /** out[oo..oo+headDim) = Σ_j softmax(scores)_j · values[vo + j·stride ..]. */
    private static void softmaxWeightedSum(float[] scores, int len, float max, float[] values, int stride, int vo,
                                           int headDim, float[] out, int oo) {
        float sum = Kernels.expShiftSum(scores, 0, len, max);
        java.util.Arrays.fill(out, oo, oo + headDim, 0f);
        float inv = 1f / sum;
        for (int j = 0; j < len; j++) Kernels.axpy(scores[j] * inv, values, vo + j * stride, out, oo, headDim);
    }
}
