package dev.navil4j.bench;

import dev.navil4j.tensor.Parallel;

import java.util.ArrayList;
import java.util.List;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Machine figures the benchmark reports: streaming read bandwidth and the process's peak RSS. */
public final class Bandwidth {
    private Bandwidth() {}

    /**
     * Read bandwidth in GB/s (10⁹ bytes/s) streaming {@code segs} (the model's weights: no extra memory, and
     * exactly what decode reads) on the current {@link Parallel} thread count: the best of {@code reps}
     * vectorized sums over 64 KiB chunks split between the threads.
     */
    public static double readGBs(List<MemorySegment> segs, int reps) {
        List<long[]> chunks = new ArrayList<>(); // {segment index, offset}
        long total = 0;
        for (int s = 0; s < segs.size(); s++) {
            long size = segs.get(s).byteSize() & ~1023L; // whole 4-vector steps at every width
            for (long o = 0; o < size; o += CHUNK) chunks.add(new long[]{s, o, Math.min(CHUNK, size - o)});
            total += size;
        }
        double best = 0;
        float[] sink = new float[1];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            Parallel.forRange(chunks.size(), 1, (from, to) -> {
                float v = 0;
                for (int c = from; c < to; c++) {
                    long[] ch = chunks.get(c);
                    v += dev.navil4j.tensor.Kernels.streamSum(segs.get((int) ch[0]), ch[1], ch[1] + ch[2]);
                }
                if (v == 42.4242f) sink[0] = v; // keeps the loads alive
            });
            best = Math.max(best, total / ((System.nanoTime() - t0) * 1e-9) / 1e9);
        }
        return best;
    }

    private static final long CHUNK = 1 << 16;

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

    /**
     * Resets the peak RSS (VmHWM) to the current RSS (Linux ≥ 4.0: writing 5 to /proc/self/clear_refs), so that
     * {@link #peakRssMiB} covers only what runs afterwards: a benchmark that runs several formats or shapes in one
     * process would otherwise report the largest one's peak for all that follow. False where it is not supported.
     */
    public static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (Exception e) {
            return false;
        }
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
