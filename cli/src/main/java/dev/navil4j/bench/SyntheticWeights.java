package dev.navil4j.bench;

import dev.navil4j.tensor.Convert;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.QuantKernels;
import dev.navil4j.tensor.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Random weights of a given shape and format synthesized directly in memory (no files, no f32
 * intermediate for bf16/q8/q4): the bytes are what a real checkpoint of that format holds, so kernels read
 * the same amount of memory. Values are small uniform numbers (±0.05, like initialized weights) so
 * activations stay finite through many layers.
 */
public final class SyntheticWeights implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final long seed;
    private long counter;
    private final java.util.List<MemorySegment> segments = new java.util.ArrayList<>();

    /** Every weight segment synthesized so far (the bandwidth test streams these). */
    public java.util.List<MemorySegment> segments() { return java.util.Collections.unmodifiableList(segments); }

    public SyntheticWeights(long seed) { this.seed = seed; }

    /**
     * Thrown before a matrix is synthesized when it would leave less than {@link #RESERVE} of the machine's available
     * memory: touching more pages than there is RAM (no swap) gets this process, or another one, OOM-killed.
     */
    public static final class NotEnoughMemory extends IllegalStateException {
        public final long synthesized, available;

        NotEnoughMemory(String name, long bytes, long synthesized, long available) {
            super(String.format(java.util.Locale.ROOT, "not enough memory for the synthetic weights: %s needs %.0f MiB, "
                    + "%.0f MiB already synthesized, %.0f MiB available", name, bytes / 1048576.0, synthesized / 1048576.0,
                    available / 1048576.0));
            this.synthesized = synthesized;
            this.available = available;
        }

        /** The NotEnoughMemory in t's cause chain (model code may wrap it), or null. */
        public static NotEnoughMemory in(Throwable t) {
            for (; t != null; t = t.getCause()) if (t instanceof NotEnoughMemory n) return n;
            return null;
        }
    }

    /** Memory left to the system and other processes when synthesis would otherwise go on. */
    static final long RESERVE = 1L << 30;

    private long synthesized;

    /** A [rows, cols] weight matrix of that format (Q8/Q4 need cols divisible by 32). */
    public WeightTensor matrix(String name, DType format, int rows, int cols) {
        long salt = seed * 0x9E3779B97F4A7C15L + (counter++) * 0xBF58476D1CE4E5B9L;
        long bytes = format.byteSize((long) rows * cols);
        long available = availableBytes();
        if (available >= 0 && bytes + RESERVE > available) throw new NotEnoughMemory(name, bytes, synthesized, available);
        synthesized += bytes;
        MemorySegment seg = arena.allocate(bytes, 64);
        segments.add(seg);
        Parallel.forRange(rows, 64, (from, to) -> {
            long s = salt ^ (from * 0x94D049BB133111EBL) | 1;
            for (int r = from; r < to; r++) {
                switch (format) {
                    case F32 -> {
                        for (long i = (long) r * cols, e = i + cols; i < e; i++) {
                            s = next(s);
                            seg.setAtIndex(Convert.LE_FLOAT, i, uniform(s));
                        }
                    }
                    case BF16, F16 -> {
                        for (long i = (long) r * cols, e = i + cols; i < e; i++) {
                            s = next(s);
                            float v = uniform(s);
                            seg.setAtIndex(Convert.LE_SHORT, i, format == DType.BF16 ? Convert.floatToBf16(v) : Float.floatToFloat16(v));
                        }
                    }
                    case Q8, Q4 -> {
                        int blockBytes = format == DType.Q8 ? QuantKernels.Q8_BLOCK_BYTES : QuantKernels.Q4_BLOCK_BYTES;
                        int blocks = cols / QuantKernels.BLOCK;
                        for (long b = (long) r * blocks, e = b + blocks; b < e; b++) {
                            long off = b * blockBytes;
                            // scale such that |value| ≤ 0.05: 127·d (Q8) or 8·d (Q4)
                            seg.set(Convert.LE_FLOAT, off, format == DType.Q8 ? 0.05f / 127 : 0.05f / 8);
                            for (int j = 4; j < blockBytes; j += 8) {
                                s = next(s);
                                seg.set(Convert.LE_LONG, off + j, s);
                            }
                        }
                    }
                    default -> throw new IllegalArgumentException("no synthetic weights for " + format);
                }
            }
        });
        return WeightTensor.of(name, format, seg, rows, cols);
    }

    /** A vector of n values around {@code center} (norm weights: 1, biases: 0). */
    public float[] vector(int n, float center, float spread) {
        long s = seed ^ (counter++ * 0x2545F4914F6CDD1DL) | 1;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            s = next(s);
            v[i] = center + spread * uniform(s) * 20;
        }
        return v;
    }

    /** MemAvailable of /proc/meminfo in bytes, or -1 where it cannot be read (then nothing is checked). */
    static long availableBytes() {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/meminfo"))) {
            return lines.filter(l -> l.startsWith("MemAvailable:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024).orElse(-1L);
        } catch (Exception e) {
            return -1;
        }
    }

    private static long next(long s) {
        s ^= s << 13;
        s ^= s >>> 7;
        return s ^ (s << 17);
    }

    /** Uniform in [-0.05, 0.05) from the top 24 bits. */
    private static float uniform(long s) { return ((s >>> 40) * 0x1p-24f - 0.5f) * 0.1f; }

    /** Frees every tensor made here (they must not be used afterwards). */
    @Override
    public void close() { arena.close(); }
}
