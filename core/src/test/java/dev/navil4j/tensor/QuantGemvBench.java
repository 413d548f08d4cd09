package dev.navil4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Decode GEMV throughput on DRAM-sized data (not a test): cycles through enough distinct Qwen2.5-0.5B-shaped matrices
 * (896x4864 and 4864x896, alternating) that their total (>= 512 MB) is far beyond L3, as a real decode step does;
 * one matrix measured repeatedly would sit in the 32 MB L3. Prints GB/s of weight bytes per pass (best and median).
 * <pre>java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes dev.navil4j.tensor.QuantGemvBench q8,q4,bf16 1,2 [MB] [passes]</pre>
 */
public final class QuantGemvBench {
    public static void main(String[] args) {
        String[] formats = (args.length > 0 ? args[0] : "q8,q4").split(",");
        int[] threads = Arrays.stream((args.length > 1 ? args[1] : "1,2").split(",")).mapToInt(Integer::parseInt).toArray();
        long targetMb = args.length > 2 ? Long.parseLong(args[2]) : 512;
        int passes = args.length > 3 ? Integer.parseInt(args[3]) : 7;
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (String f : formats) {
            boolean stream = f.equals("stream");
            DType dt = stream ? DType.Q8 : DType.valueOf(f.toUpperCase(Locale.ROOT));
            WeightTensor[] ws = make(dt, targetMb << 20);
            long bytes = 0;
            for (WeightTensor w : ws) bytes += w.byteSize();
            Random rnd = new Random(3);
            float[] x1 = new float[4864], out = new float[4864];
            for (int i = 0; i < x1.length; i++) x1[i] = (float) rnd.nextGaussian();
            for (int t : threads) {
                Parallel.setThreads(t);
                for (int i = 0; i < 2; i++) for (WeightTensor w : ws) if (stream) streamRead(w, out); else w.matmul(x1, 1, out, null); // warm-up
                double[] gbs = new double[passes], cpu = new double[passes];
                for (int p = 0; p < passes; p++) {
                    long t0 = System.nanoTime(), c0 = os.getProcessCpuTime();
                    for (WeightTensor w : ws) if (stream) streamRead(w, out); else w.matmul(x1, 1, out, null);
                    gbs[p] = bytes / ((System.nanoTime() - t0) * 1e-9) / 1e9;
                    cpu[p] = bytes / ((os.getProcessCpuTime() - c0) * 1e-9 / t) / 1e9;
                }
                Arrays.sort(gbs);
                Arrays.sort(cpu);
                // cpu: bytes per (process CPU seconds / threads), the throughput had each thread a core to itself
                // (the machine is shared: wall-clock figures drop when other processes run)
                System.out.printf(Locale.ROOT, "%-4s %d threads: %d matrices, %.0f MB: wall best %.2f median %.2f GB/s; cpu-time best %.2f median %.2f GB/s%n",
                        f, t, ws.length, bytes / 1e6, gbs[passes - 1], gbs[passes / 2], cpu[passes - 1], cpu[passes / 2]);
            }
        }
    }

    /** The read-bandwidth bound: sums the matrix's bytes as 32-bit lanes (8 rows at a time per worker), nothing else. */
    static void streamRead(WeightTensor w, float[] out) {
        MemorySegment seg = w.data();
        long rb = seg.byteSize() / w.rows;
        Parallel.forRange(w.rows / 4, 16, (g0, g1) -> {
            var acc = jdk.incubator.vector.IntVector.zero(jdk.incubator.vector.IntVector.SPECIES_256);
            var acc2 = jdk.incubator.vector.IntVector.zero(jdk.incubator.vector.IntVector.SPECIES_256);
            for (int r = g0 * 4; r < g1 * 4; r += 4)
                for (long p = 0; p + 32 <= rb; p += 32) {
                    long o = r * rb + p;
                    acc = acc.add(jdk.incubator.vector.IntVector.fromMemorySegment(jdk.incubator.vector.IntVector.SPECIES_256, seg, o, java.nio.ByteOrder.LITTLE_ENDIAN))
                            .add(jdk.incubator.vector.IntVector.fromMemorySegment(jdk.incubator.vector.IntVector.SPECIES_256, seg, o + rb, java.nio.ByteOrder.LITTLE_ENDIAN));
                    acc2 = acc2.add(jdk.incubator.vector.IntVector.fromMemorySegment(jdk.incubator.vector.IntVector.SPECIES_256, seg, o + 2 * rb, java.nio.ByteOrder.LITTLE_ENDIAN))
                            .add(jdk.incubator.vector.IntVector.fromMemorySegment(jdk.incubator.vector.IntVector.SPECIES_256, seg, o + 3 * rb, java.nio.ByteOrder.LITTLE_ENDIAN));
                }
            out[g0] = acc.add(acc2).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        });
    }

    /** Matrices of random stored bytes (valid quantized blocks: int8 in [-127, 127], small scales). */
    static WeightTensor[] make(DType dt, long targetBytes) {
        java.util.List<WeightTensor> list = new java.util.ArrayList<>();
        Random rnd = new Random(1);
        long total = 0;
        for (int i = 0; total < targetBytes; i++) {
            int shape = Integer.getInteger("shape", 0); // 0: alternate, 1: 4864x896 only, 2: 896x4864 only
            boolean tall = shape == 0 ? i % 2 == 0 : shape == 1;
            int rows = tall ? 4864 : 896, cols = tall ? 896 : 4864;
            long n = (long) rows * cols;
            long size = switch (dt) { case Q8 -> n / 32 * 36; case Q4 -> n / 32 * 20; case BF16 -> n * 2; case F32 -> n * 4; default -> throw new IllegalArgumentException(); };
            MemorySegment seg = Arena.global().allocate(size, 64);
            byte[] b = new byte[(int) size];
            rnd.nextBytes(b);
            for (int k = 0; k < b.length; k++) if (b[k] == -128) b[k] = 0;
            MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 0, b.length);
            int bb = dt == DType.Q8 ? 36 : 20;
            if (dt == DType.Q8 || dt == DType.Q4)
                for (long p = 0; p < size; p += bb) seg.set(Convert.LE_FLOAT, p, 1e-3f * (1 + rnd.nextFloat()));
            if (dt == DType.BF16) for (long p = 0; p < size; p += 2) seg.set(Convert.LE_SHORT, p, Convert.floatToBf16((float) rnd.nextGaussian() * 0.02f));
            list.add(WeightTensor.of("w" + i, dt, seg, rows, cols));
            total += size;
        }
        return list.toArray(new WeightTensor[0]);
    }
}
