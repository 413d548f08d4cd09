package dev.navil4j.jmh;

import dev.navil4j.nn.Activations;
import dev.navil4j.nn.Norms;
import dev.navil4j.nn.Rope;
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
 * The per-token operations around the matmuls, at Qwen2.5-1.5B sizes (hidden 1536, 12 heads × 128, MLP 8960)
 * for {@code tokens} = 1 (decode) or 512 (prefill): RMSNorm, rotary embedding of the queries, SwiGLU's
 * silu(gate)·up, and InternViT's erf-GELU on a 1025 × 4096 tile activation (independent of {@code tokens}).
 * siluMul and gelu work in place, so each call first restores its input (an arraycopy, included in the time).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class ElementwiseBench {
    static final int HIDDEN = 1536, HEADS = 12, HEAD_DIM = 128, MLP = 8960, VIT_TOKENS = 1025, VIT_MLP = 4096;

    @Param({"1", "512"})
    public int tokens;

    @Param({"1", "2"})
    public int threads;

    private float[] x, normOut, normW, q, gate0, gate, up, act0, act;
    private int[] positions;
    private Rope rope;

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        SplittableRandom r = new SplittableRandom(9);
        x = random(r, tokens * HIDDEN);
        normOut = new float[tokens * HIDDEN];
        normW = random(r, HIDDEN);
        q = random(r, tokens * HEADS * HEAD_DIM);
        gate0 = random(r, tokens * MLP);
        gate = new float[gate0.length];
        up = random(r, tokens * MLP);
        act0 = random(r, VIT_TOKENS * VIT_MLP);
        act = new float[act0.length];
        positions = new int[tokens];
        for (int t = 0; t < tokens; t++) positions[t] = 100 + t;
        rope = new Rope(HEAD_DIM, 1e6);
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextDouble(-2, 2);
        return v;
    }

    @Benchmark
    public float[] rmsNorm() {
        Norms.rmsNorm(x, normOut, tokens, HIDDEN, normW, 1e-6f);
        return normOut;
    }

    /** A rotation: repeated application keeps the values bounded. */
    @Benchmark
    public float[] rope() {
        rope.apply(q, tokens, HEADS, HEAD_DIM, positions, 100 + tokens);
        return q;
    }

    @Benchmark
    public float[] siluMul() {
        System.arraycopy(gate0, 0, gate, 0, gate.length);
        Activations.siluMul(gate, up, gate.length);
        return gate;
    }

    @Benchmark
    public float[] geluVitTile() {
        System.arraycopy(act0, 0, act, 0, act.length);
        Activations.gelu(act, act.length);
        return act;
    }
}
