package dev.navil4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Block-quantized int8 weights (Q8_0-like: per 32 values one f32 scale and 32 int8, see {@link QuantKernels}).
 * Rows are {@code cols/32} consecutive blocks; cols must be a multiple of 32.
 */
public final class Q8Tensor extends BlockQuantTensor {
    public Q8Tensor(String name, MemorySegment data, int rows, int cols) {
        super(name, data, rows, cols, QuantKernels.Q8_BLOCK_BYTES, "Q8");
    }

    /** Quantizes any weight tensor (rows widened to f32 one at a time) into a new off-heap Q8 tensor. */
    public static Q8Tensor quantize(WeightTensor w) {
        return new Q8Tensor(w.name, quantizeRows(w, QuantKernels.Q8_BLOCK_BYTES, "Q8", QuantKernels::quantizeQ8), w.rows, w.cols);
    }

    public DType dtype() { return DType.Q8; }

    void dequant(long p, int n, float[] dst, int off) { QuantKernels.dequantQ8(data, p, n, dst, off); }

    public float dot(int r, float[] x, int xo) { return QuantKernels.dotQ8(data, r * rowBytes, x, xo, blocks); }

    float rowDotQuantized(QuantizedVector x, int r) { return QuantKernels.dotQ8Int(data, r * rowBytes, x, blocks); }
}
