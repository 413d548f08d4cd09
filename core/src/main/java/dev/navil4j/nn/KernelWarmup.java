package dev.navil4j.nn;

import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.QuantPolicy;
import dev.navil4j.tensor.WeightTensor;

import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;

/**
 * Runs every hot kernel on small synthetic operands until the JIT has compiled it, so that the first request
 * after a model load does not pay for interpretation and tier-up (JAVA-NOTES: first calls are 60–400× slower).
 * The kernels' code does not depend on the operand sizes, so small shapes compile the same loops the real
 * ones run: the GEMM micro-kernel and packing (full and partial tiles, a K past one block), the 1-row and
 * 4-row GEMVs of each weight format, blocked and row-wise attention, norms, elementwise loops.
 * <p>It moves JIT time from the first request to start-up, it does not remove it: InternViT-300M tile, 2 threads,
 * cold JVM 9.6–10.6 s for the first tile; after this warm-up (2.9 s, mostly compilation) 7.8–7.9 s, steady
 * state 6–7.7 s either way. {@code serve} runs it before accepting requests; one-shot commands do not.
 * <p>That small shapes compile the same code as big ones holds only because {@code Gemm} keeps its hot loop in a
 * method without edge branches: with the edge handling inline, this warm-up made every later tile twice as slow.
 * <p>Results are discarded; nothing here touches model state.
 */
public final class KernelWarmup {
    private KernelWarmup() {}

    /** Rounds {@code serve} runs: enough calls for every kernel to reach C2 (the per-round time stops falling by ~100). */
    public static final int DEFAULT_ROUNDS = 300;
    static volatile float blackhole;

    /**
     * Compiles the kernels of the float formats (checkpoints store f32/bf16/f16) and of what a {@code --weights}
     * choice turns the LLM's layers and head into ({@link QuantPolicy}); returns the seconds spent.
     */
    public static double run(String weights, int rounds) {
        long t0 = System.nanoTime();
        java.util.Random rnd = new java.util.Random(1);
        // short rows (< 4 KiB in every format) take the one-row GEMV, long rows the 4-row kernels; K > 1024 crosses a GEMM K block
        WeightTensor shortRows = random(40, 544, rnd), longRows = random(24, 1056, rnd);
        Map<DType, WeightTensor[]> byFormat = new EnumMap<>(DType.class);
        for (String f : new String[]{"f32", "bf16", "f16", weights, QuantPolicy.headWeights(weights)}) {
            WeightTensor a = QuantPolicy.apply(shortRows, f), b = QuantPolicy.apply(longRows, f);
            byFormat.putIfAbsent(a.dtype(), new WeightTensor[]{a, b});
        }
        Collection<WeightTensor[]> mats = byFormat.values();
        float[] x = new float[45 * 1056], out = new float[45 * 40];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        int heads = 2, headDim = 64, dim = heads * headDim, n = 40;
        float[] q = new float[n * dim], k = new float[n * dim], v = new float[n * dim], o = new float[n * dim];
        for (int i = 0; i < q.length; i++) { q[i] = (float) rnd.nextGaussian(); k[i] = (float) rnd.nextGaussian(); v[i] = (float) rnd.nextGaussian(); }
        float[] w = new float[dim], b = new float[dim];
        java.util.Arrays.fill(w, 1f);
        float sink = 0;
        for (int r = 0; r < rounds; r++) {
            for (WeightTensor[] ms : mats)
                for (WeightTensor m : ms) {
                    // GEMV (1 row), the small-batch tiles (2..32 rows: batched decode, prefill chunks), partial and full GEMM tiles (> 32)
                    for (int t : new int[]{1, 2, 3, 4, 8, 13, 33, 38, 45}) m.matmul(x, t, out, null);
                    sink += out[0];
                }
            Attention.segments(q, k, v, n, heads, headDim, 0.125f, new int[]{0, n}, o);
            Attention.causal(q, n, 0, k, v, heads, heads, headDim, 0.125f, null, o);
            Attention.causal(q, 1, n - 1, k, v, heads, heads, headDim, 0.125f, null, o);
            Norms.rmsNorm(q, o, n, dim, w, 1e-6f);
            Norms.layerNorm(q, o, n, dim, w, b, 1e-6f);
            System.arraycopy(k, 0, o, 0, o.length);
            Activations.gelu(o, o.length);
            Activations.siluMul(o, v, o.length);
            sink += o[1];
        }
        blackhole = sink; // keeps the results observable to the JIT
        return (System.nanoTime() - t0) * 1e-9;
    }

    private static WeightTensor random(int rows, int cols, java.util.Random rnd) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian() * 0.05f;
        return WeightTensor.ofFloats("warmup", v, rows, cols);
    }
}
