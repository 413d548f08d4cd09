package dev.navil4j.jmh;

import dev.navil4j.bench.Bench;
import dev.navil4j.bench.SyntheticWeights;
import dev.navil4j.tensor.DType;
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

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * GEMV (decode: one token through a linear layer) per weight format: {@code WeightTensor.matmul(x, 1, y, null)}
 * on Qwen2.5-0.5B's gate_proj shape [4864, 896].
 * <ul>
 * <li>{@code set=dram}: cycles through distinct matrices totalling ≥ 640 MiB (20× the 32 MiB L3 here), so every
 *     call streams its weights from memory, as decode does (one pass over all layers per token).</li>
 * <li>{@code set=l3}: one matrix called again and again (17 MiB in f32, less in the others): it stays in the L3
 *     cache, so this is the kernel's compute speed, NOT what decode reaches.</li>
 * </ul>
 * The primary score is calls per second; the {@code :gigabytes} secondary result is GB (10⁹ bytes) of weights
 * read per second (JMH labels it "ops/s").
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class GemvBench {
    static final int ROWS = 4864, COLS = 896;
    static final long DRAM_BYTES = 640L << 20;

    @Param({"f32", "bf16", "f16", "q8", "q4"})
    public String format;

    @Param({"dram", "l3"})
    public String set;

    @Param({"1", "2"})
    public int threads;

    private SyntheticWeights weights;
    private WeightTensor[] matrices;
    private final float[] x = new float[COLS], y = new float[ROWS];
    private int next;

    /** GB of weights read, reported by JMH as a rate (GB/s). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public double gigabytes;

        @Setup(Level.Iteration)
        public void clear() { gigabytes = 0; }
    }

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        DType f = Bench.format(format);
        weights = new SyntheticWeights(11);
        long one = f.byteSize((long) ROWS * COLS);
        int count = set.equals("dram") ? (int) ((DRAM_BYTES + one - 1) / one) : 1;
        matrices = new WeightTensor[count];
        for (int i = 0; i < count; i++) matrices[i] = weights.matrix("w" + i, f, ROWS, COLS);
        for (int i = 0; i < COLS; i++) x[i] = (i % 17) * 0.01f - 0.08f;
    }

    @TearDown(Level.Trial)
    public void tearDown() { weights.close(); }

    @Benchmark
    public float[] gemv(Bytes b) {
        WeightTensor m = matrices[next];
        next = next + 1 == matrices.length ? 0 : next + 1;
        m.matmul(x, 1, y, null);
        b.gigabytes += m.byteSize() * 1e-9;
        return y;
    }
}
