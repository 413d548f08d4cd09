package dev.navil4j.jmh;

import dev.navil4j.bench.Bench;
import dev.navil4j.bench.SyntheticWeights;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.WeightTensor;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * GEMM (prefill and vision: n tokens through a linear layer) per weight format: {@code WeightTensor.matmul(x, n,
 * out, null)} with x [n, k] and weights [m, k]. Shapes {@code NxKxM}: 1024³, and InternViT-300M on one 448² tile
 * (1025 tokens of width 1024): attn.qkv 1024 → 3072 and mlp.fc1 1024 → 4096.
 * The primary score is calls per second; the {@code :gflops} secondary result is GFLOP/s (2·n·k·m per call;
 * JMH labels it "ops/s").
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class GemmBench {
    @Param({"f32", "bf16", "f16", "q8", "q4"})
    public String format;

    @Param({"1024x1024x1024", "1025x1024x3072", "1025x1024x4096"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private SyntheticWeights weights;
    private WeightTensor w;
    private float[] x, out;
    private double gflopPerCall;

    /** GFLOP done, reported by JMH as a rate (GFLOP/s). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflops;

        @Setup(Level.Iteration)
        public void clear() { gflops = 0; }
    }

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        String[] nkm = shape.split("x");
        int n = Integer.parseInt(nkm[0]), k = Integer.parseInt(nkm[1]), m = Integer.parseInt(nkm[2]);
        weights = new SyntheticWeights(12);
        w = weights.matrix("w", Bench.format(format), m, k);
        x = new float[n * k];
        out = new float[n * m];
        for (int i = 0; i < x.length; i++) x[i] = (i % 23) * 0.01f - 0.11f;
        gflopPerCall = 2.0 * n * k * m * 1e-9;
    }

    @TearDown(Level.Trial)
    public void tearDown() { weights.close(); }

    @Benchmark
    public float[] gemm(Flops f) {
        w.matmul(x, x.length / w.cols, out, null);
        f.gflops += gflopPerCall;
        return out;
    }
}
