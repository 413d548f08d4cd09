package dev.navil4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Block-quantized int4 weights (Q4_0-like: per 32 values one f32 scale and 16 bytes of nibbles, see {@link QuantKernels}).
 * Rows are {@code cols/32} consecutive blocks; cols must be a multiple of 32.
 */
public final class Q4Tensor extends BlockQuantTensor {
    public Q4Tensor(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols, QuantKernels.Q4_BLOCK_BYTES, "Q4");
    }

    /** Quantizes any weight tensor (rows widened to f32 one at a time) into a new off-heap Q4 tensor. */
    public static Q4Tensor quantize(WeightTensor w) {
        return new Q4Tensor(w.name, quantizeRows(w, QuantKernels.Q4_BLOCK_BYTES, "Q4", QuantKernels::quantizeQ4), w.rows, w.cols);
    }

    public DType dtype() { return DType.Q4; }

    void dequant(long p, int n, float[] dst, int off) { QuantKernels.dequantQ4(data, p, n, dst, off); }

    public float dot(int r, float[] x, int xo) { return QuantKernels.dotQ4(data, r * rowBytes, x, xo, blocks); }

    float rowDotQuantized(QuantizedVector x, int r) { return QuantKernels.dotQ4Int(data, r * rowBytes, x, blocks); }
}
