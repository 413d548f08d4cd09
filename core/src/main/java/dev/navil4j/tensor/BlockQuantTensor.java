package dev.navil4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What Q8 and Q4 weights share: rows of {@code cols/32} consecutive blocks of {@code blockBytes} bytes (an f32
 * scale, then the packed values), and the decode GEMV on int8-quantized activations: {@link #matmul} with one
 * token quantizes x once ({@link QuantizedVector}) and runs the format's integer block-dot kernels over row
 * ranges on the {@link Parallel} pool. Prefill (n &gt; 1) keeps f32 activations (GEMM over dequantized panels).
 */
public abstract sealed class BlockQuantTensor extends WeightTensor permits Q8Tensor, Q4Tensor {
    final MemorySegment data;
    final int blocks;
    final long rowBytes;

    /** Quantizes one block of 32 floats at v[vo..] into the bytes at dst[off..]. */
    interface BlockQuantizer { void quantize(float[] v, int vo, MemorySegment dst, long off); }

    BlockQuantTensor(String name, MemorySegment data, int rows, int cols, int blockBytes, String format) {
        super(name, rows, cols);
        if (cols % QuantKernels.BLOCK != 0) throw new IllegalArgumentException(name + ": " + format + " needs columns divisible by 32, got " + cols);
        this.blocks = cols / QuantKernels.BLOCK;
        this.rowBytes = (long) blocks * blockBytes;
        if (data.byteSize() != rows * rowBytes)
            throw new IllegalArgumentException(name + ": " + format + " [" + rows + "x" + cols + "] needs " + rows * rowBytes + " bytes, got " + data.byteSize());
        this.data = data;
    }

    /** Quantizes w (rows widened to f32 one at a time) block by block into a new off-heap segment. */
    static MemorySegment quantizeRows(WeightTensor w, int blockBytes, String format, BlockQuantizer q) {
        if (w.cols % QuantKernels.BLOCK != 0) throw new IllegalArgumentException(w.name + ": " + format + " needs columns divisible by 32, got " + w.cols);
        int nb = w.cols / QuantKernels.BLOCK;
        long rb = (long) nb * blockBytes;
        MemorySegment seg = Arena.ofAuto().allocate(w.rows * rb, 8);
        Parallel.forRange(w.rows, 16, (from, to) -> {
            float[] row = new float[w.cols];
            for (int r = from; r < to; r++) {
                w.rowToFloat(r, row, 0);
                for (int b = 0; b < nb; b++) q.quantize(row, b * QuantKernels.BLOCK, seg, r * rb + (long) b * blockBytes);
            }
        });
        return seg;
    }

    /** dst[off..off+n·32) = n blocks starting at byte offset p, dequantized. */
    abstract void dequant(long p, int n, float[] dst, int off);

    /** Σ_j W[r, j]·x̃[j] by the format's integer block-dot kernel (one row at a time: see {@link QuantKernels#dotQ8Int}). */
    abstract float rowDotQuantized(QuantizedVector x, int r);

    public MemorySegment data() { return data; }
    public long byteSize() { return rows * rowBytes; }

    public void rowToFloat(int r, float[] dst, int off) { dequant(r * rowBytes, blocks, dst, off); }

    @Override
    public void rowSliceToFloat(int r, int from, int len, float[] dst, int off) {
        int bb = (int) (rowBytes / blocks);
        if (from % QuantKernels.BLOCK == 0 && len % QuantKernels.BLOCK == 0)
            dequant(r * rowBytes + (long) (from / QuantKernels.BLOCK) * bb, len / QuantKernels.BLOCK, dst, off);
        else super.rowSliceToFloat(r, from, len, dst, off);
    }

    /** The decode GEMV on x quantized to int8 (see {@link QuantizedVector}): rows [from, to). */
    @Override
    public void gemvRows(float[] x, int xo, float[] out, int oo, int from, int to) {
        gemvQuantized(QuantizedVector.of(x, xo, cols, dtype() == DType.Q4), out, oo, from, to);
    }

    /** out[oo + r − from] = Σ_j W[r, j]·x̃[j] for r in [from, to), x̃ the dequantized activations. */
    public void gemvQuantized(QuantizedVector x, float[] out, int oo, int from, int to) {
        if (x.length() != cols) throw new IllegalArgumentException(name + ": activations of length " + x.length() + " for " + cols + " columns");
        for (int r = from; r < to; r++) out[oo + r - from] = rowDotQuantized(x, r);
    }

    @Override
    public void matmul(float[] x, int n, float[] out, float[] bias) {
        if (n != 1) {
            super.matmul(x, n, out, bias);
            return;
        }
        if (x.length < cols || out.length < rows)
            throw new IllegalArgumentException(name + ": matmul buffers too small for n=1 [" + rows + "x" + cols + "]");
        if (bias != null && bias.length < rows)
            throw new IllegalArgumentException(name + ": bias has " + bias.length + " values for " + rows + " rows");
        // quantized once for all workers; each row's result depends only on x̃ and the row, so the split over
        // threads cannot change it
        QuantizedVector xq = QuantizedVector.of(x, 0, cols, dtype() == DType.Q4);
        Parallel.forRange(rows, 64, 4, (from, to) -> {
            gemvQuantized(xq, out, from, from, to);
            if (bias != null) for (int r = from; r < to; r++) out[r] += bias[r];
        });
    }

    /** The plain reference of the decode GEMV: {@link QuantKernels#dotQuantizedReference} per row. */
    public void gemvQuantizedReference(QuantizedVector x, float[] out) {
        for (int r = 0; r < rows; r++) out[r] = (float) QuantKernels.dotQuantizedReference(dtype(), data, r * rowBytes, x, blocks);
    }
}
