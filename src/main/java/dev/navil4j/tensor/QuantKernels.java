package dev.navil4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Block-quantized GEMV kernels with f32 activations (weights dequantized in registers, never in memory).
 * <ul>
 * <li>Q8 block (36 bytes): f32 scale d (little-endian), then 32 int8 q; value = d·q (as ggml Q8_0, f32 scale).</li>
 * <li>Q4 block (20 bytes): f32 scale d, then 16 bytes; byte j holds element j in its low nibble and element
 * j+16 in its high nibble; value = d·(nibble − 8) (the ggml Q4_0 packing, f32 scale).</li>
 * </ul>
 * Bytes are loaded 8 at a time and converted from part 0 (convertShape with part &gt; 0 is slow, JAVA-NOTES).
 */
public final class QuantKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    public static final int BLOCK = 32, Q8_BLOCK_BYTES = 36, Q4_BLOCK_BYTES = 20;

    private QuantKernels() {}

    // The block bodies are written out in each kernel on purpose: a helper taking or returning vectors that
    // the JIT does not inline boxes them (measured 50-100x slower), and these kernels exceed the inlining budget.

    /**
     * x[xo..xo+nBlocks·32) reordered for {@link #dot4Q8Permuted}: within each block, xp[k·8 + i] = x[4i + k]
     * (the order in which sign-extending shifts of 32-bit lanes hand out the block's bytes).
     */
    public static void permuteForQ8(float[] x, int xo, int nBlocks, float[] xp) {
        for (int b = 0; b < nBlocks; b++)
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < 8; i++) xp[b * BLOCK + k * 8 + i] = x[xo + b * BLOCK + 4 * i + k];
    }

    /**
     * The fast Q8 GEMV: each block's 32 int8 are loaded as eight 32-bit lanes and the four bytes of every lane
     * are sign-extended with shifts (native AVX2 ops), against activations permuted by {@link #permuteForQ8}.
     * out[oo+i] = Σ_j W[r0+i, j]·x[j] for 4 rows starting at byteOff, rowBytes apart.
     */
    public static void dot4Q8Permuted(MemorySegment seg, long byteOff, long rowBytes, float[] xp, int nBlocks, float[] out, int oo) {
        long o0 = byteOff, o1 = byteOff + rowBytes, o2 = byteOff + 2 * rowBytes, o3 = byteOff + 3 * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++) {
            int xi = b * BLOCK;
            FloatVector x0 = FloatVector.fromArray(F, xp, xi), x1 = FloatVector.fromArray(F, xp, xi + 8);
            FloatVector x2 = FloatVector.fromArray(F, xp, xi + 16), x3 = FloatVector.fromArray(F, xp, xi + 24);
            long p = (long) b * Q8_BLOCK_BYTES;
            long p0 = o0 + p;
            IntVector v0 = IntVector.fromMemorySegment(I, seg, p0 + 4, LE);
            FloatVector y0 = ((FloatVector) v0.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).mul(x0);
            y0 = ((FloatVector) v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x1, y0);
            y0 = ((FloatVector) v0.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x2, y0);
            y0 = ((FloatVector) v0.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x3, y0);
            a0 = y0.fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p0)), a0);
            long p1 = o1 + p;
            IntVector v1 = IntVector.fromMemorySegment(I, seg, p1 + 4, LE);
            FloatVector y1 = ((FloatVector) v1.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).mul(x0);
            y1 = ((FloatVector) v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x1, y1);
            y1 = ((FloatVector) v1.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x2, y1);
            y1 = ((FloatVector) v1.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x3, y1);
            a1 = y1.fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p1)), a1);
            long p2 = o2 + p;
            IntVector v2 = IntVector.fromMemorySegment(I, seg, p2 + 4, LE);
            FloatVector y2 = ((FloatVector) v2.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).mul(x0);
            y2 = ((FloatVector) v2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x1, y2);
            y2 = ((FloatVector) v2.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x2, y2);
            y2 = ((FloatVector) v2.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x3, y2);
            a2 = y2.fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p2)), a2);
            long p3 = o3 + p;
            IntVector v3 = IntVector.fromMemorySegment(I, seg, p3 + 4, LE);
            FloatVector y3 = ((FloatVector) v3.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).mul(x0);
            y3 = ((FloatVector) v3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x1, y3);
            y3 = ((FloatVector) v3.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x2, y3);
            y3 = ((FloatVector) v3.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(x3, y3);
            a3 = y3.fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p3)), a3);
        }
        out[oo] = a0.reduceLanes(VectorOperators.ADD);
        out[oo + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[oo + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[oo + 3] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** One Q8 row. */
    public static float dotQ8(MemorySegment seg, long byteOff, float[] x, int xo, int nBlocks) {
        long o0 = byteOff;
        FloatVector a0 = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++) {
            int xi = xo + b * BLOCK;
            FloatVector x0 = FloatVector.fromArray(F, x, xi), x1 = FloatVector.fromArray(F, x, xi + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + 16), x3 = FloatVector.fromArray(F, x, xi + 24);
            long p = (long) b * Q8_BLOCK_BYTES;
            long p0 = o0 + p;
            FloatVector y0 = ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p0 + 4, LE).convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            y0 = ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p0 + 12, LE).convertShape(VectorOperators.B2F, F, 0)).fma(x1, y0);
            y0 = ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p0 + 20, LE).convertShape(VectorOperators.B2F, F, 0)).fma(x2, y0);
            y0 = ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p0 + 28, LE).convertShape(VectorOperators.B2F, F, 0)).fma(x3, y0);
            a0 = y0.fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p0)), a0);
        }
        return a0.reduceLanes(VectorOperators.ADD);
    }

    /**
     * As {@link #dot4Q8} for Q4 rows.
     * The −8 offset is folded out: Σ d(q−8)x = d·Σ q·x − 8·d·Σx, with Σx per block shared by the 4 rows;
     * nibbles are unpacked in int lanes (AVX2 has no byte shifts).
     */
    public static void dot4Q4(MemorySegment seg, long byteOff, long rowBytes, float[] x, int xo, int nBlocks, float[] out, int oo) {
        long o0 = byteOff, o1 = byteOff + rowBytes, o2 = byteOff + 2 * rowBytes, o3 = byteOff + 3 * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        float c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        for (int b = 0; b < nBlocks; b++) {
            int xi = xo + b * BLOCK;
            FloatVector x0 = FloatVector.fromArray(F, x, xi), x1 = FloatVector.fromArray(F, x, xi + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + 16), x3 = FloatVector.fromArray(F, x, xi + 24);
            float sx = x0.add(x1).add(x2.add(x3)).reduceLanes(VectorOperators.ADD);
            long p = (long) b * Q4_BLOCK_BYTES;
            long p0 = o0 + p;
            IntVector l0 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p0 + 4, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector h0 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p0 + 12, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector y0 = ((FloatVector) l0.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).mul(x0);
            y0 = ((FloatVector) h0.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x1, y0);
            y0 = ((FloatVector) l0.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x2, y0);
            y0 = ((FloatVector) h0.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x3, y0);
            float d0 = seg.get(Convert.LE_FLOAT, p0);
            a0 = y0.fma(FloatVector.broadcast(F, d0), a0);
            c0 += d0 * sx;
            long p1 = o1 + p;
            IntVector l1 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p1 + 4, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector h1 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p1 + 12, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector y1 = ((FloatVector) l1.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).mul(x0);
            y1 = ((FloatVector) h1.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x1, y1);
            y1 = ((FloatVector) l1.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x2, y1);
            y1 = ((FloatVector) h1.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x3, y1);
            float d1 = seg.get(Convert.LE_FLOAT, p1);
            a1 = y1.fma(FloatVector.broadcast(F, d1), a1);
            c1 += d1 * sx;
            long p2 = o2 + p;
            IntVector l2 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p2 + 4, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector h2 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p2 + 12, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector y2 = ((FloatVector) l2.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).mul(x0);
            y2 = ((FloatVector) h2.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x1, y2);
            y2 = ((FloatVector) l2.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x2, y2);
            y2 = ((FloatVector) h2.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x3, y2);
            float d2 = seg.get(Convert.LE_FLOAT, p2);
            a2 = y2.fma(FloatVector.broadcast(F, d2), a2);
            c2 += d2 * sx;
            long p3 = o3 + p;
            IntVector l3 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p3 + 4, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector h3 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p3 + 12, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector y3 = ((FloatVector) l3.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).mul(x0);
            y3 = ((FloatVector) h3.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x1, y3);
            y3 = ((FloatVector) l3.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x2, y3);
            y3 = ((FloatVector) h3.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x3, y3);
            float d3 = seg.get(Convert.LE_FLOAT, p3);
            a3 = y3.fma(FloatVector.broadcast(F, d3), a3);
            c3 += d3 * sx;
        }
        out[oo] = a0.reduceLanes(VectorOperators.ADD) - 8 * c0;
        out[oo + 1] = a1.reduceLanes(VectorOperators.ADD) - 8 * c1;
        out[oo + 2] = a2.reduceLanes(VectorOperators.ADD) - 8 * c2;
        out[oo + 3] = a3.reduceLanes(VectorOperators.ADD) - 8 * c3;
    }

    /** One Q4 row. */
    public static float dotQ4(MemorySegment seg, long byteOff, float[] x, int xo, int nBlocks) {
        long o0 = byteOff;
        FloatVector a0 = FloatVector.zero(F);
        float c0 = 0;
        for (int b = 0; b < nBlocks; b++) {
            int xi = xo + b * BLOCK;
            FloatVector x0 = FloatVector.fromArray(F, x, xi), x1 = FloatVector.fromArray(F, x, xi + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + 16), x3 = FloatVector.fromArray(F, x, xi + 24);
            float sx = x0.add(x1).add(x2.add(x3)).reduceLanes(VectorOperators.ADD);
            long p = (long) b * Q4_BLOCK_BYTES;
            long p0 = o0 + p;
            IntVector l0 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p0 + 4, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector h0 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p0 + 12, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector y0 = ((FloatVector) l0.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).mul(x0);
            y0 = ((FloatVector) h0.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x1, y0);
            y0 = ((FloatVector) l0.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x2, y0);
            y0 = ((FloatVector) h0.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x3, y0);
            float d0 = seg.get(Convert.LE_FLOAT, p0);
            a0 = y0.fma(FloatVector.broadcast(F, d0), a0);
            c0 += d0 * sx;
        }
        return a0.reduceLanes(VectorOperators.ADD) - 8 * c0;
    }

    // ---- scalar dequantization (the plain references, also used to pack GEMM panels) ----

    /** dst[off..off+nBlocks·32) = the Q8 blocks at byteOff dequantized (d·q in f32). */
    public static void dequantQ8(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q8_BLOCK_BYTES;
            float d = seg.get(Convert.LE_FLOAT, p);
            for (int j = 0; j < BLOCK; j++) dst[off + b * BLOCK + j] = d * seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 4 + j);
        }
    }

    /** As {@link #dequantQ8} for Q4 blocks. */
    public static void dequantQ4(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q4_BLOCK_BYTES;
            float d = seg.get(Convert.LE_FLOAT, p);
            for (int j = 0; j < 16; j++) {
                int v = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 4 + j) & 0xff;
                dst[off + b * BLOCK + j] = d * ((v & 0x0f) - 8);
                dst[off + b * BLOCK + j + 16] = d * ((v >>> 4) - 8);
            }
        }
    }

    /**
     * Quantizes one block of 32 values to Q8 at byte offset off: d = max|v|/127, q = round(v/d)
     * (the Q8_0 rule; an all-zero block gets d = 0).
     */
    public static void quantizeQ8(float[] v, int vo, MemorySegment dst, long off) {
        float amax = 0;
        for (int j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(v[vo + j]));
        float d = amax / 127f, id = d == 0 ? 0 : 1f / d;
        dst.set(Convert.LE_FLOAT, off, d);
        for (int j = 0; j < BLOCK; j++)
            dst.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 4 + j, (byte) Math.round(v[vo + j] * id));
    }

    /**
     * Quantizes one block to Q4 (the Q4_0 rule): m = the value of largest magnitude (sign kept), d = m/−8,
     * nibble = clamp(round-half-up(v/d + 8), 0, 15), so m itself maps exactly to 0 → −8·d.
     */
    public static void quantizeQ4(float[] v, int vo, MemorySegment dst, long off) {
        float amax = 0, m = 0;
        for (int j = 0; j < BLOCK; j++) {
            float a = Math.abs(v[vo + j]);
            if (a > amax) { amax = a; m = v[vo + j]; }
        }
        float d = m / -8f, id = d == 0 ? 0 : 1f / d;
        dst.set(Convert.LE_FLOAT, off, d);
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, Math.max(0, (int) (v[vo + j] * id + 8.5f)));
            int hi = Math.min(15, Math.max(0, (int) (v[vo + j + 16] * id + 8.5f)));
            dst.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 4 + j, (byte) (lo | (hi << 4)));
        }
    }
}
