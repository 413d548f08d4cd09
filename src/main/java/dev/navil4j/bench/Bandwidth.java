package dev.navil4j.bench;

import dev.navil4j.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Machine figures the benchmark reports: streaming read bandwidth and the process's peak RSS. */
public final class Bandwidth {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

    private Bandwidth() {}

    /**
     * Read bandwidth in GB/s (10⁹ bytes/s) over {@code mib} MiB of off-heap memory on the current
     * {@link Parallel} thread count: the best of {@code reps} vectorized sums (the decode GEMV's access pattern).
     */
    public static double readGBs(int mib, int reps) {
        long bytes = (long) mib << 20;
        try (Arena a = Arena.ofShared()) {
            MemorySegment seg = a.allocate(bytes, 4096);
            seg.fill((byte) 1);
            int chunks = (int) (bytes >> 16); // 64 KiB units
            double best = 0;
            float[] sink = new float[Parallel.threads() + 1];
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                Parallel.forRange(chunks, 1, (from, to) -> {
                    FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
                    for (long o = (long) from << 16, e = (long) to << 16; o < e; o += 128) {
                        s0 = s0.add(FloatVector.fromMemorySegment(F, seg, o, ByteOrder.LITTLE_ENDIAN));
                        s1 = s1.add(FloatVector.fromMemorySegment(F, seg, o + 32, ByteOrder.LITTLE_ENDIAN));
                        s2 = s2.add(FloatVector.fromMemorySegment(F, seg, o + 64, ByteOrder.LITTLE_ENDIAN));
                        s3 = s3.add(FloatVector.fromMemorySegment(F, seg, o + 96, ByteOrder.LITTLE_ENDIAN));
                    }
                    sink[from % sink.length] += s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
                });
                best = Math.max(best, bytes / ((System.nanoTime() - t0) * 1e-9) / 1e9);
            }
            if (Float.isNaN(sink[0])) System.out.print("");
            return best;
        }
    }

    /** Peak resident set size of this process in MiB (VmHWM), or -1 where /proc is not available. */
    public static double peakRssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    /** Current resident set size in MiB (VmRSS), or -1. */
    public static double rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }
}
