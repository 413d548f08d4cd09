package dev.navil4j.tensor;


import java.lang.foreign.MemorySegment;

/**
 * Block-quantized GEMV kernels (weights decoded in registers, never in memory). The decode GEMV (matmul with one
 * token) quantizes the activations once per call to int8 per 32-block ({@link QuantizedVector}) and takes integer
 * block dots (the llama.cpp Q8_0/Q4_0 CPU scheme); {@code dotQ8/dotQ4} keep f32 activations for single rows.
 * <ul>
 * <li>Q8 block (36 bytes): f32 scale d (little-endian), then 32 int8 q; value = d·q (as ggml Q8_0, f32 scale).</li>
 * <li>Q4 block (20 bytes): f32 scale d, then 16 bytes; byte j holds element j in its low nibble and element
 * j+16 in its high nibble; value = d·(nibble − 8) (the ggml Q4_0 packing, f32 scale).</li>
 * </ul>
 * The vector bodies are in {@link VectorQuantKernels} (256-bit, and 128-bit for NEON-class CPUs; a 512-bit choice
 * runs the 256-bit ones: a 32-element block is exactly one 256-bit vector of 16-bit products, and wider vectors
 * would need two blocks per step); this class dispatches on {@link Simd} and holds the plain loops.
 */
public final class QuantKernels {
    public static final int BLOCK = 32, Q8_BLOCK_BYTES = 36, Q4_BLOCK_BYTES = 20;

    private QuantKernels() {}

    private static final boolean V = Simd.VECTOR, V128 = Simd.VECTOR && Simd.BITS == 128;

    /**
     * The decode GEMV's Q8 kernel on int8 activations ({@link QuantizedVector}, the llama.cpp Q8_0×Q8_0 scheme):
     * Σ_j W[row, j]·x̃[j] for the row at byteOff; each block's dot is exact in integers, scaled by d_w·d_x.
     */
    public static float dotQ8Int(MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        if (V128) return VectorQuantKernels.dotQ8Int128(seg, byteOff, x, nBlocks);
        return V ? VectorQuantKernels.dotQ8Int(seg, byteOff, x, nBlocks) : dotQuantizedScalar(DType.Q8, seg, byteOff, x, nBlocks);
    }

    /** As {@link #dotQ8Int} for Q4 weights (value = d·(nibble − 8)). */
    public static float dotQ4Int(MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        if (V128) return VectorQuantKernels.dotQ4Int128(seg, byteOff, x, nBlocks);
        return V ? VectorQuantKernels.dotQ4Int(seg, byteOff, x, nBlocks) : dotQuantizedScalar(DType.Q4, seg, byteOff, x, nBlocks);
    }

    /** One Q8 row against f32 activations. */
    public static float dotQ8(MemorySegment seg, long byteOff, float[] x, int xo, int nBlocks) {
        if (V && !V128) return VectorQuantKernels.dotQ8(seg, byteOff, x, xo, nBlocks);
        return dotFloatScalar(DType.Q8, seg, byteOff, x, xo, nBlocks);
    }

    /** One Q4 row against f32 activations. */
    public static float dotQ4(MemorySegment seg, long byteOff, float[] x, int xo, int nBlocks) {
        if (V && !V128) return VectorQuantKernels.dotQ4(seg, byteOff, x, xo, nBlocks);
        return dotFloatScalar(DType.Q4, seg, byteOff, x, xo, nBlocks);
    }

    /** dst[off..off+nBlocks·32) = the Q8 blocks at byteOff dequantized (d·q in f32). */
    public static void dequantQ8(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        if (V && !V128) VectorQuantKernels.dequantQ8(seg, byteOff, nBlocks, dst, off);
        else dequantQ8Reference(seg, byteOff, nBlocks, dst, off);
    }

    /** As {@link #dequantQ8} for Q4 blocks (low nibbles are values 0..15, high nibbles 16..31, each minus 8). */
    public static void dequantQ4(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        if (V && !V128) VectorQuantKernels.dequantQ4(seg, byteOff, nBlocks, dst, off);
        else dequantQ4Reference(seg, byteOff, nBlocks, dst, off);
    }

    /** The plain loop behind {@link #dotQ8Int}/{@link #dotQ4Int}: exact integer block dots, a float sum over blocks. */
    static float dotQuantizedScalar(DType dtype, MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        float s = 0;
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * (dtype == DType.Q8 ? Q8_BLOCK_BYTES : Q4_BLOCK_BYTES);
            int dot = 0;
            for (int k = 0; k < BLOCK; k++) dot += weightQ(dtype, seg, p, k) * x.q[b * BLOCK + k];
            s += dot * (seg.get(Convert.LE_FLOAT, p) * x.d[b]);
        }
        return s;
    }

    /** The plain loop behind {@link #dotQ8}/{@link #dotQ4}. */
    static float dotFloatScalar(DType dtype, MemorySegment seg, long byteOff, float[] x, int xo, int nBlocks) {
        float s = 0;
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * (dtype == DType.Q8 ? Q8_BLOCK_BYTES : Q4_BLOCK_BYTES);
            float block = 0;
            for (int k = 0; k < BLOCK; k++) block += weightQ(dtype, seg, p, k) * x[xo + b * BLOCK + k];
            s += block * seg.get(Convert.LE_FLOAT, p);
        }
        return s;
    }

    /** The integer weight q of element k of the block at p (Q8: int8; Q4: nibble − 8). */
    static int weightQ(DType dtype, MemorySegment seg, long p, int k) {
        if (dtype == DType.Q8) return seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 4 + k);
        int v = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 4 + k % 16) & 0xff;
        return (k < 16 ? v & 15 : v >>> 4) - 8;
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
                dot += (long) weightQ(dtype, seg, p, k) * x.q[b * BLOCK + k];
            }
            s += (double) seg.get(Convert.LE_FLOAT, p) * x.d[b] * dot;
        }
        return s;
    }

    // ---- scalar dequantization (the plain references, also used to pack GEMM panels) ----

    /** The scalar reference of {@link #dequantQ8}. */
    public static void dequantQ8Reference(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q8_BLOCK_BYTES;
            float d = seg.get(Convert.LE_FLOAT, p);
            for (int j = 0; j < BLOCK; j++) dst[off + b * BLOCK + j] = d * seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 4 + j);
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
