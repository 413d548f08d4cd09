package dev.navil4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Block-quantized GEMV kernels (weights decoded in registers, never in memory). The decode GEMV (matmul with one
 * token) quantizes the activations once per call to int8 per 32-block ({@link QuantizedVector}) and takes integer
 * block dots (the llama.cpp Q8_0/Q4_0 CPU scheme); {@code dotQ8/dotQ4} keep f32 activations for single rows.
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
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    public static final int BLOCK = 32, Q8_BLOCK_BYTES = 36, Q4_BLOCK_BYTES = 20;

    private QuantKernels() {}

    // The block bodies are written out in each kernel on purpose: a helper taking or returning vectors that
    // the JIT does not inline boxes them (measured 50-100x slower), and these kernels exceed the inlining budget.

    /**
     * The decode GEMV's Q8 kernel on int8 activations ({@link QuantizedVector}, the llama.cpp Q8_0×Q8_0 scheme):
     * Σ_j W[row, j]·x̃[j] for the row at byteOff. Per block, 16 weight bytes at a time are sign-extended to 16-bit
     * lanes (one vpmovsxbw) and multiplied with the 16-bit activations (|product| ≤ 127·127); the block's two halves
     * are added in 16-bit lanes (|sum| ≤ 2·127·127 &lt; 2^15), then adjacent pairs are summed into 32-bit lanes. Only
     * that exact integer block dot is converted to f32, once per block, and scaled by d_w·d_x.
     * <p>One row at a time, 4 blocks per step into 4 accumulators (tail blocks into the first): on DRAM-resident
     * weights a single sequential stream per thread measured ~25 % faster than interleaving 4 rows (4 streams),
     * which only wins when the matrix sits in cache.
     */
    public static float dotQ8Int(MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        short[] xq = x.q;
        float[] xd = x.d;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        // one int induction variable (the activation index); block index and byte offset derive from it
        int mainEnd = (nBlocks & ~3) * BLOCK, end = nBlocks * BLOCK;
        int xi = 0;
        for (; xi < mainEnd; xi += 4 * BLOCK) {
            long p = byteOff + (long) (xi >> 5) * Q8_BLOCK_BYTES;
            ShortVector x0l = ShortVector.fromArray(S, xq, xi), x0h = ShortVector.fromArray(S, xq, xi + 16);
            IntVector s0 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0h)).reinterpretAsInts();
            s0 = s0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s0.lanewise(VectorOperators.ASHR, 16));
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p) * xd[(xi >> 5)]), a0);
            ShortVector x1l = ShortVector.fromArray(S, xq, xi + 32), x1h = ShortVector.fromArray(S, xq, xi + 32 + 16);
            IntVector s1 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 36 + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x1l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 36 + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x1h)).reinterpretAsInts();
            s1 = s1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s1.lanewise(VectorOperators.ASHR, 16));
            a1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 36) * xd[(xi >> 5) + 1]), a1);
            ShortVector x2l = ShortVector.fromArray(S, xq, xi + 64), x2h = ShortVector.fromArray(S, xq, xi + 64 + 16);
            IntVector s2 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 72 + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x2l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 72 + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x2h)).reinterpretAsInts();
            s2 = s2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s2.lanewise(VectorOperators.ASHR, 16));
            a2 = ((FloatVector) s2.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 72) * xd[(xi >> 5) + 2]), a2);
            ShortVector x3l = ShortVector.fromArray(S, xq, xi + 96), x3h = ShortVector.fromArray(S, xq, xi + 96 + 16);
            IntVector s3 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 108 + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x3l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 108 + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x3h)).reinterpretAsInts();
            s3 = s3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s3.lanewise(VectorOperators.ASHR, 16));
            a3 = ((FloatVector) s3.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 108) * xd[(xi >> 5) + 3]), a3);
        }
        for (; xi < end; xi += BLOCK) {
            long p = byteOff + (long) (xi >> 5) * Q8_BLOCK_BYTES;
            ShortVector x0l = ShortVector.fromArray(S, xq, xi), x0h = ShortVector.fromArray(S, xq, xi + 16);
            IntVector s0 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0h)).reinterpretAsInts();
            s0 = s0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s0.lanewise(VectorOperators.ASHR, 16));
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p) * xd[(xi >> 5)]), a0);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * The decode GEMV's Q4 kernel on int8 activations, structured as {@link #dotQ8Int}. The block's 16 bytes are
     * zero-extended to 16-bit lanes (one vpmovzxbw); the low nibbles (AND 15) pair with activations 0..15 and the
     * high nibbles (shift right 4) with 16..31. The −8 offset enters through {@link QuantizedVector#q4Offset}
     * (−8·(x_k + x_{k+16}) per lane), so each 16-bit lane holds (lo−8)·x_k + (hi−8)·x_{k+16} exactly
     * (|·| ≤ 2·8·127). Adjacent lanes are summed in 3 ops: t = s + (s &lt;&lt; 16) has lo+hi in its upper half (no
     * overflow: |lo+hi| ≤ 4·8·127 &lt; 2^15), an arithmetic shift right by 16 extracts it.
     */
    public static float dotQ4Int(MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        short[] xq = x.q, xo8 = x.q4Offset;
        float[] xd = x.d;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        // one int induction variable (the activation index); block index and byte offset derive from it
        int mainEnd = (nBlocks & ~3) * BLOCK, end = nBlocks * BLOCK;
        int xi = 0;
        for (; xi < mainEnd; xi += 4 * BLOCK) {
            long p = byteOff + (long) (xi >> 5) * Q4_BLOCK_BYTES;
            ShortVector x0l = ShortVector.fromArray(S, xq, xi), x0h = ShortVector.fromArray(S, xq, xi + 16);
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s0 = w0.lanewise(VectorOperators.AND, (short) 15).mul(x0l).add(w0.lanewise(VectorOperators.LSHR, 4).mul(x0h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1))).reinterpretAsInts();
            s0 = s0.add(s0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p) * xd[(xi >> 5)]), a0);
            ShortVector x1l = ShortVector.fromArray(S, xq, xi + 32), x1h = ShortVector.fromArray(S, xq, xi + 32 + 16);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 20 + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s1 = w1.lanewise(VectorOperators.AND, (short) 15).mul(x1l).add(w1.lanewise(VectorOperators.LSHR, 4).mul(x1h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1) + 16)).reinterpretAsInts();
            s1 = s1.add(s1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 20) * xd[(xi >> 5) + 1]), a1);
            ShortVector x2l = ShortVector.fromArray(S, xq, xi + 64), x2h = ShortVector.fromArray(S, xq, xi + 64 + 16);
            ShortVector w2 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 40 + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s2 = w2.lanewise(VectorOperators.AND, (short) 15).mul(x2l).add(w2.lanewise(VectorOperators.LSHR, 4).mul(x2h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1) + 32)).reinterpretAsInts();
            s2 = s2.add(s2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a2 = ((FloatVector) s2.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 40) * xd[(xi >> 5) + 2]), a2);
            ShortVector x3l = ShortVector.fromArray(S, xq, xi + 96), x3h = ShortVector.fromArray(S, xq, xi + 96 + 16);
            ShortVector w3 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 60 + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s3 = w3.lanewise(VectorOperators.AND, (short) 15).mul(x3l).add(w3.lanewise(VectorOperators.LSHR, 4).mul(x3h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1) + 48)).reinterpretAsInts();
            s3 = s3.add(s3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a3 = ((FloatVector) s3.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 60) * xd[(xi >> 5) + 3]), a3);
        }
        for (; xi < end; xi += BLOCK) {
            long p = byteOff + (long) (xi >> 5) * Q4_BLOCK_BYTES;
            ShortVector x0l = ShortVector.fromArray(S, xq, xi), x0h = ShortVector.fromArray(S, xq, xi + 16);
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s0 = w0.lanewise(VectorOperators.AND, (short) 15).mul(x0l).add(w0.lanewise(VectorOperators.LSHR, 4).mul(x0h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1))).reinterpretAsInts();
            s0 = s0.add(s0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p) * xd[(xi >> 5)]), a0);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * The plain reference of the int8-activation kernels: Σ_b d_w·d_x·Σ_k q_w(k)·q_x(k) with the block dot in
     * exact integers and the sum over blocks in double (weights decoded byte by byte from the stored blocks).
     */
    public static double dotQuantizedReference(DType dtype, MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        double s = 0;
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * (dtype == DType.Q8 ? Q8_BLOCK_BYTES : Q4_BLOCK_BYTES);
            long dot = 0;
            for (int k = 0; k < BLOCK; k++) {
                int qw;
                if (dtype == DType.Q8) qw = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 4 + k);
                else {
                    int v = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 4 + k % 16) & 0xff;
                    qw = (k < 16 ? v & 15 : v >>> 4) - 8;
                }
                dot += (long) qw * x.q[b * BLOCK + k];
            }
            s += (double) seg.get(Convert.LE_FLOAT, p) * x.d[b] * dot;
        }
        return s;
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
            int o = off + b * BLOCK;
            // 4 × 8 int8 widened to f32 lanes and scaled (the batched-decode path dequantizes each row once)
            for (int j = 0; j < BLOCK; j += 8)
                ((FloatVector) ByteVector.fromMemorySegment(B64, seg, p + 4 + j, java.nio.ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, F256, 0)).mul(d).intoArray(dst, o + j);
        }
    }

    /** The scalar reference of {@link #dequantQ8}. */
    public static void dequantQ8Reference(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q8_BLOCK_BYTES;
            float d = seg.get(Convert.LE_FLOAT, p);
            for (int j = 0; j < BLOCK; j++) dst[off + b * BLOCK + j] = d * seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 4 + j);
        }
    }

    private static final jdk.incubator.vector.VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final jdk.incubator.vector.VectorSpecies<Float> F256 = FloatVector.SPECIES_256;

    /** As {@link #dequantQ8} for Q4 blocks (low nibbles are values 0..15, high nibbles 16..31, each minus 8). */
    public static void dequantQ4(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q4_BLOCK_BYTES;
            float d = seg.get(Convert.LE_FLOAT, p);
            int o = off + b * BLOCK;
            for (int j = 0; j < 16; j += 8) {
                ByteVector v = ByteVector.fromMemorySegment(B64, seg, p + 4 + j, java.nio.ByteOrder.LITTLE_ENDIAN);
                ((FloatVector) v.lanewise(VectorOperators.AND, (byte) 0x0f).sub((byte) 8).convertShape(VectorOperators.B2F, F256, 0))
                        .mul(d).intoArray(dst, o + j);
                ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.AND, (byte) 0x0f).sub((byte) 8)
                        .convertShape(VectorOperators.B2F, F256, 0)).mul(d).intoArray(dst, o + j + 16);
            }
        }
    }

    /** The scalar reference of {@link #dequantQ4}. */
    public static void dequantQ4Reference(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
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
