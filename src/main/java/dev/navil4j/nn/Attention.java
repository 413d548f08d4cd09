package dev.navil4j.nn;

import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.VectorKernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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

    /** Queries per task of {@link #segments}: enough work to amortize the per-task K/V transpose. */
    private static final int QUERY_BLOCK = 128;

    /**
     * Non-causal attention within segments (vision encoders): tokens attend to every token of their own
     * segment. q, k, v are [n, heads·headDim] (same head count); cuSeqlens = [0, e1, e2, ..., n].
     * <p>Per (segment, head, block of queries) K and V are transposed to [headDim, len] once, so scores are
     * headDim vectorized axpys over the keys (q·scale, as the reference's {@code (q * scale) @ k^T}) and the output
     * headDim vectorized dots over the weights, instead of one short reduction per key.
     */
    public static void segments(float[] q, float[] k, float[] v, int n, int heads, int headDim, float scale,
                                int[] cuSeqlens, float[] out) {
        int dim = heads * headDim, segs = cuSeqlens.length - 1;
        if (segs < 1 || cuSeqlens[0] != 0 || cuSeqlens[segs] != n)
            throw new IllegalArgumentException("cu_seqlens must run from 0 to " + n + ", got " + java.util.Arrays.toString(cuSeqlens));
        // tasks: (segment, head, query block)
        int[] taskSeg, taskBlock;
        java.util.List<int[]> tasks = new java.util.ArrayList<>();
        for (int s = 0; s < segs; s++) {
            if (cuSeqlens[s + 1] < cuSeqlens[s]) throw new IllegalArgumentException("cu_seqlens must not decrease: " + java.util.Arrays.toString(cuSeqlens));
            for (int b = cuSeqlens[s]; b < cuSeqlens[s + 1]; b += QUERY_BLOCK) tasks.add(new int[] {s, b});
        }
        taskSeg = new int[tasks.size()];
        taskBlock = new int[tasks.size()];
        for (int i = 0; i < taskSeg.length; i++) { taskSeg[i] = tasks.get(i)[0]; taskBlock[i] = tasks.get(i)[1]; }
        Parallel.forRange(taskSeg.length * heads, 1, (from, to) -> {
            for (int idx = from; idx < to; idx++) {
                int task = idx / heads, h = idx % heads;
                int s0 = cuSeqlens[taskSeg[task]], s1 = cuSeqlens[taskSeg[task] + 1], len = s1 - s0;
                int q0 = taskBlock[task], q1 = Math.min(s1, q0 + QUERY_BLOCK);
                float[] kt = new float[headDim * len], vt = new float[headDim * len], scores = new float[len];
                for (int j = 0; j < len; j++) {
                    int o = (s0 + j) * dim + h * headDim;
                    for (int d = 0; d < headDim; d++) {
                        kt[d * len + j] = k[o + d];
                        vt[d * len + j] = v[o + d];
                    }
                }
                for (int t = q0; t < q1; t++) {
                    int qo = t * dim + h * headDim;
                    java.util.Arrays.fill(scores, 0f);
                    for (int d = 0; d < headDim; d++) VectorKernels.axpy(q[qo + d] * scale, kt, d * len, scores, 0, len);
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < len; j++) if (scores[j] > max) max = scores[j];
                    float inv = 1f / expShiftedSum(scores, len, max);
                    for (int d = 0; d < headDim; d++) out[qo + d] = VectorKernels.dot(scores, 0, vt, d * len, len) * inv;
                }
            }
        });
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

    /**
     * x[j] ← exp(x[j] − max) for j < n; returns Σ x[j]. Vector lanewise EXP (an intrinsic within 1 ulp of the
     * correctly rounded value on x86) instead of 10–25 ns per scalar Math.exp: a ViT tile needs ~17M per layer.
     */
    static float expShiftedSum(float[] x, int n, float max) {
        int j = 0, L = F.length();
        FloatVector acc = FloatVector.zero(F), m = FloatVector.broadcast(F, max);
        for (; j <= n - L; j += L) {
            FloatVector e = FloatVector.fromArray(F, x, j).sub(m).lanewise(VectorOperators.EXP);
            e.intoArray(x, j);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            float e = (float) Math.exp(x[j] - max);
            x[j] = e;
            sum += e;
        }
        return sum;
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
