package dev.navil4j.weights;

import dev.navil4j.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Finds NaN and ±Inf in floating-point weights: an element whose exponent bits are all ones (F32: {@code 0x7F800000},
 * F16: {@code 0x7C00}, BF16: {@code 0x7F80}). A checkpoint holding one loads and then answers garbage (every
 * logit NaN after the first layer that touches it), so loading refuses it, naming the file and tensor.
 * <p>The scan reads the mapped bytes eight at a time (two to four elements per {@code long}, SWAR): per lane,
 * {@code y = (x & E) ^ E} is zero exactly when all exponent bits are set, and {@code y + E} then leaves the lane's
 * sign bit clear while any nonzero {@code y} (at least the exponent's lowest bit) carries into it; no lane carries
 * into the next. Blocks of longs are OR-accumulated without branches and only a block with a hit is looked at
 * element by element.
 * <p>Cost (one thread on the shared 2-core machine, JDK 25, pages in the page cache; {@code NonFiniteScanTest}):
 * the internvl3-tiny fixture (65 BF16 tensors, 1.2 MB) 33 ms on a cold JIT, mostly interpreter warm-up; a synthetic
 * 64 MiB BF16 file 17.5 ms (3.8 GB/s) and a 1 GiB one 183 ms (5.9 GB/s) once compiled: a 1B-parameter bf16
 * checkpoint (~2 GB) adds about 0.4 s to its load. A cold checkpoint costs the disk read of every page, which the
 * first forward pass would pay anyway. {@code -Dnavil4j.checkWeights=false} skips the scan.
 */
public final class NonFiniteScan {
    private NonFiniteScan() {}

    /** Whether loaders scan (default yes). */
    public static boolean enabled() { return !"false".equals(System.getProperty("navil4j.checkWeights")); }

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Longs OR-accumulated between checks: 4 KiB, a page. */
    private static final int BLOCK = 512;

    /** A non-finite element: its index in the tensor, and whether it is a NaN (else an infinity). */
    public record Hit(long index, boolean nan) {}

    /** The first non-finite element of the tensor's bytes (F32, F16, BF16; other dtypes are never flagged), or null. */
    public static Hit first(DType dtype, MemorySegment data) {
        return switch (dtype) {
            case F32 -> first(data, 4, 0x7F800000_7F800000L, 0x80000000_80000000L, 0x7F800000L, 0x007FFFFFL);
            case F16 -> first(data, 2, 0x7C00_7C00_7C00_7C00L, 0x8000_8000_8000_8000L, 0x7C00L, 0x03FFL);
            case BF16 -> first(data, 2, 0x7F80_7F80_7F80_7F80L, 0x8000_8000_8000_8000L, 0x7F80L, 0x007FL);
            default -> null;
        };
    }

    /**
     * @param exp  the exponent mask repeated in every lane
     * @param sign the lanes' top (sign) bits
     * @param e1   one element's exponent mask
     * @param m1   one element's mantissa mask
     */
    private static Hit first(MemorySegment data, int size, long exp, long sign, long e1, long m1) {
        long words = data.byteSize() / 8;
        for (long w = 0; w < words; w += BLOCK) {
            long end = Math.min(words, w + BLOCK), bad = 0;
            for (long i = w; i < end; i++) {
                long y = (data.get(LE_LONG, i * 8) & exp) ^ exp;
                bad |= ~(y + exp) & sign; // a lane's sign bit survives here iff its exponent was all ones
            }
            if (bad != 0) return element(data, size, w * 8, end * 8, e1, m1);
        }
        return element(data, size, words * 8, data.byteSize(), e1, m1); // the bytes after the last whole long
    }

    /** Element-wise search of bytes [from, to). */
    private static Hit element(MemorySegment data, int size, long from, long to, long e1, long m1) {
        for (long b = from; b + size <= to; b += size) {
            long v = size == 4 ? data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), b) & 0xFFFFFFFFL
                    : data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), b) & 0xFFFFL;
            if ((v & e1) == e1) return new Hit(b / size, (v & m1) != 0);
        }
        return null;
    }

    /** Throws naming the file, the tensor and the element when {@code t} holds a NaN or infinity. */
    public static void check(TensorInfo t) {
        Hit h = first(t.dtype(), t.data());
        if (h != null)
            throw new WeightsException(t.file() + ": tensor " + t.name() + " (" + t.dtype() + " " + t.shapeString() + ") holds "
                    + (h.nan() ? "NaN" : "an infinity") + " at element " + h.index() + ": the checkpoint is corrupt");
    }
}
