package dev.navil4j.jmh;

import dev.navil4j.nn.Attention;
import dev.navil4j.nn.KVCache;
import dev.navil4j.tensor.Parallel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code nn/Attention}, per layer:
 * <ul>
 * <li>{@link #visionSegment}: one 448² InternViT-300M tile, 1025 tokens × 16 heads × 64, bidirectional
 *     (the blocked path: keys/values packed per head, scores by the GEMM micro-kernel).</li>
 * <li>{@link #decodeStep} / {@link #decodeStepBf16Cache}: one new token of Qwen2.5-1.5B (12 query heads over
 *     2 kv heads × 128) attending to a 512-token KV cache (+ itself), f32 or bf16 cache storage.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class AttentionBench {
    static final int VIT_TOKENS = 1025, VIT_HEADS = 16, VIT_HEAD_DIM = 64;
    static final int PAST = 512, HEADS = 12, KV_HEADS = 2, HEAD_DIM = 128;

    @Param({"1", "2"})
    public int threads;

    private float[] vq, vk, vv, vout;
    private float[] dq, dout;
    private KVCache f32Cache, bf16Cache;

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        SplittableRandom r = new SplittableRandom(5);
        int vDim = VIT_HEADS * VIT_HEAD_DIM;
        vq = random(r, VIT_TOKENS * vDim);
        vk = random(r, VIT_TOKENS * vDim);
        vv = random(r, VIT_TOKENS * vDim);
        vout = new float[VIT_TOKENS * vDim];
        int kvDim = KV_HEADS * HEAD_DIM;
        dq = random(r, HEADS * HEAD_DIM);
        dout = new float[HEADS * HEAD_DIM];
        float[] keys = random(r, (PAST + 1) * kvDim), values = random(r, (PAST + 1) * kvDim);
        f32Cache = filled(false, keys, values, kvDim);
        bf16Cache = filled(true, keys, values, kvDim);
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextDouble(-1, 1);
        return v;
    }

    /** A one-layer cache holding PAST + 1 positions (the past and the new token's key/value, as decode has them). */
    private static KVCache filled(boolean bf16, float[] keys, float[] values, int kvDim) {
        KVCache c = new KVCache(1, kvDim, PAST + 1, PAST + 1, bf16);
        c.reserve(PAST + 1);
        c.put(0, keys, values, PAST + 1);
        c.commit(PAST + 1);
        return c;
    }

    @Benchmark
    public float[] visionSegment() {
        Attention.segments(vq, vk, vv, VIT_TOKENS, VIT_HEADS, VIT_HEAD_DIM, 0.125f, new int[]{0, VIT_TOKENS}, vout);
        return vout;
    }

    @Benchmark
    public float[] decodeStep() {
        Attention.causal(dq, 1, PAST, f32Cache, 0, HEADS, KV_HEADS, HEAD_DIM, 0.088f, null, dout);
        return dout;
    }

    @Benchmark
    public float[] decodeStepBf16Cache() {
        Attention.causal(dq, 1, PAST, bf16Cache, 0, HEADS, KV_HEADS, HEAD_DIM, 0.088f, null, dout);
        return dout;
    }
}
