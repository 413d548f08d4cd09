package dev.navil4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Block-quantized int8 weights (Q8_0-like: per 32 values one f32 scale and 32 int8, see {@link QuantKernels}).
 * Rows are {@code cols/32} consecutive blocks; cols must be a multiple of 32.
 */
public final class Q8Tensor extends WeightTensor {
    final MemorySegment data;
    final int blocks;
    final long rowBytes;

    public Q8Tensor(String name, MemorySegment data, int rows, int cols) {
        super(name, rows, cols);
        if (cols % QuantKernels.BLOCK != 0) throw new IllegalArgumentException(name + ": Q8 needs columns divisible by 32, got " + cols);
        this.blocks = cols / QuantKernels.BLOCK;
        this.rowBytes = (long) blocks * QuantKernels.Q8_BLOCK_BYTES;
        if (data.byteSize() != rows * rowBytes)
            throw new IllegalArgumentException(name + ": Q8 [" + rows + "x" + cols + "] needs " + rows * rowBytes + " bytes, got " + data.byteSize());
        this.data = data;
    }

    /** Quantizes any weight tensor (rows widened to f32 one at a time) into a new off-heap Q8 tensor. */
    public static Q8Tensor quantize(WeightTensor w) {
        if (w.cols % QuantKernels.BLOCK != 0) throw new IllegalArgumentException(w.name + ": Q8 needs columns divisible by 32, got " + w.cols);
        long rb = (long) (w.cols / QuantKernels.BLOCK) * QuantKernels.Q8_BLOCK_BYTES;
        MemorySegment seg = Arena.ofAuto().allocate(w.rows * rb, 8);
        Parallel.forRange(w.rows, 16, (from, to) -> {
            float[] row = new float[w.cols];
            for (int r = from; r < to; r++) {
                w.rowToFloat(r, row, 0);
                for (int b = 0; b < w.cols / QuantKernels.BLOCK; b++)
                    QuantKernels.quantizeQ8(row, b * QuantKernels.BLOCK, seg, r * rb + (long) b * QuantKernels.Q8_BLOCK_BYTES);
            }
        });
        return new Q8Tensor(w.name, seg, w.rows, w.cols);
    }

    public DType dtype() { return DType.Q8; }
    public MemorySegment data() { return data; }
    public long byteSize() { return rows * rowBytes; }

    public void rowToFloat(int r, float[] dst, int off) { QuantKernels.dequantQ8(data, r * rowBytes, blocks, dst, off); }

    @Override
    public void rowSliceToFloat(int r, int from, int len, float[] dst, int off) {
        if (from % QuantKernels.BLOCK == 0 && len % QuantKernels.BLOCK == 0)
            QuantKernels.dequantQ8(data, r * rowBytes + (long) (from / QuantKernels.BLOCK) * QuantKernels.Q8_BLOCK_BYTES, len / QuantKernels.BLOCK, dst, off);
        else super.rowSliceToFloat(r, from, len, dst, off);
    }

    public float dot(int r, float[] x, int xo) { return QuantKernels.dotQ8(data, r * rowBytes, x, xo, blocks); }

    @Override
    public void gemvRows(float[] x, int xo, float[] out, int oo, int from, int to) {
        int r = from;
        if (to - from >= 4) {
            float[] xp = new float[cols];
            QuantKernels.permuteForQ8(x, xo, blocks, xp);
            for (; r + 4 <= to; r += 4) QuantKernels.dot4Q8Permuted(data, r * rowBytes, rowBytes, xp, blocks, out, oo + r - from);
        }
        for (; r < to; r++) out[oo + r - from] = dot(r, x, xo);
    }
}
