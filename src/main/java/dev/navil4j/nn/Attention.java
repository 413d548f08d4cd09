package dev.navil4j.nn;

import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.VectorKernels;

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
        int group = heads / kvHeads, kvDim = kvHeads * headDim, qDim = heads * headDim;
        int total = past + n;
        Parallel.forRange(n * heads, 4, (from, to) -> {
            float[] scores = new float[total];
            for (int idx = from; idx < to; idx++) {
                int t = idx / heads, h = idx % heads, kvh = h / group;
                int pos = past + t;
                int last = pos;
                if (block != null && block[pos] >= 0) {
                    while (last + 1 < total && block[last + 1] == block[pos]) last++;
                }
                int qo = t * qDim + h * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j <= last; j++) {
                    float s = VectorKernels.dot(q, qo, keys, j * kvDim + kvh * headDim, headDim) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                softmaxWeightedSum(scores, last + 1, max, values, kvDim, kvh * headDim, headDim, out, qo);
            }
        });
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
                int pos = past + t;
                int last = pos;
                if (block != null && block[pos] >= 0) {
                    while (last + 1 < total && block[last + 1] == block[pos]) last++;
                }
                int qo = t * qDim + h * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j <= last; j++) {
                    float s = VectorKernels.dotBf16(keys, (long) j * kvDim + kvh * headDim, q, qo, headDim) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int j = 0; j <= last; j++) {
                    float e = (float) Math.exp(scores[j] - max);
                    scores[j] = e;
                    sum += e;
                }
                java.util.Arrays.fill(out, qo, qo + headDim, 0f);
                float inv = 1f / sum;
                for (int j = 0; j <= last; j++) {
                    VectorKernels.bf16ToFloat(values, (long) j * kvDim + kvh * headDim, row, 0, headDim);
                    VectorKernels.axpy(scores[j] * inv, row, 0, out, qo, headDim);
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
                    float s = VectorKernels.dot(q, qo, k, j * dim + h * headDim, headDim) * scale;
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
        float sum = 0;
        for (int j = 0; j < len; j++) {
            float e = (float) Math.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        java.util.Arrays.fill(out, oo, oo + headDim, 0f);
        float inv = 1f / sum;
        for (int j = 0; j < len; j++) VectorKernels.axpy(scores[j] * inv, values, vo + j * stride, out, oo, headDim);
    }
}
