package dev.navil4j.tensor;

import dev.navil4j.weights.TensorInfo;
import dev.navil4j.weights.WeightsException;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix [rows, cols] kept in its stored format (mapped, never inflated). Quantization is a
 * tensor type: each format implements {@link #rowToFloat} (the plain reference) and {@link #dot}; the
 * model code calls {@link #matmul} and never sees the format.
 * <p>Computation is f32: values widen exactly, products accumulate in f32.
 */
public abstract class WeightTensor {
    public final int rows, cols;
    public final String name;

    protected WeightTensor(String name, int rows, int cols) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
    }

    public abstract DType dtype();

    /** dst[off..off+cols) = row r as f32. */
    public abstract void rowToFloat(int r, float[] dst, int off);

    /** Σ_j W[r, j]·x[xo + j]. */
    public abstract float dot(int r, float[] x, int xo);

    /** Bytes of weight data read per full pass (for bandwidth figures). */
    public abstract long byteSize();

    /** A 2-D view of a checkpoint tensor; higher ranks flatten trailing dims (Conv2d [out, c, kh, kw] → [out, c·kh·kw]). */
    public static WeightTensor of(TensorInfo t) {
        if (t.rank() < 2) throw new WeightsException(t.name() + ": expected a matrix, got shape " + t.shapeString());
        int rows = t.dim(0);
        long colsL = t.numel() / Math.max(1, rows);
        int cols = Math.toIntExact(colsL);
        return of(t.name(), t.dtype(), t.data(), rows, cols);
    }

    public static WeightTensor of(String name, DType dtype, MemorySegment data, int rows, int cols) {
        return switch (dtype) {
            case F32 -> new F32(name, data, rows, cols);
            case BF16 -> new BF16(name, data, rows, cols);
            case F16 -> new F16(name, data, rows, cols);
            default -> throw new WeightsException(name + ": cannot use a " + dtype + " tensor as weights");
        };
    }

    /** A heap f32 matrix (merged LoRA weights, synthesized tensors). */
    public static WeightTensor ofFloats(String name, float[] data, int rows, int cols) {
        if ((long) rows * cols != data.length) throw new IllegalArgumentException(name + ": " + data.length + " values for " + rows + "x" + cols);
        return new F32(name, MemorySegment.ofArray(data), rows, cols);
    }

    /** The whole matrix as f32 (for merges and tests; small matrices). */
    public float[] toFloatArray() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) rowToFloat(r, out, r * cols);
        return out;
    }

    /**
     * out[t, r] = Σ_j x[t, j]·W[r, j] (+ bias[r]) for t < n: x is [n, cols], out is [n, rows], row-major.
     * Parallel over output rows; for n > 1 four weight rows are widened at a time and reused for every token.
     */
    public void matmul(float[] x, int n, float[] out, float[] bias) {
        if (x.length < (long) n * cols || out.length < (long) n * rows)
            throw new IllegalArgumentException(name + ": matmul buffers too small for n=" + n + " [" + rows + "x" + cols + "]");
        if (n == 1) {
            Parallel.forRange(rows, 64, (from, to) -> {
                for (int r = from; r < to; r++) out[r] = dot(r, x, 0) + (bias == null ? 0f : bias[r]);
            });
            return;
        }
        Parallel.forRange((rows + 3) / 4, 4, (fromB, toB) -> {
            float[] w = new float[4 * cols];
            for (int b = fromB; b < toB; b++) {
                int r0 = b * 4, nr = Math.min(4, rows - r0);
                for (int k = 0; k < nr; k++) rowToFloat(r0 + k, w, k * cols);
                for (int t = 0; t < n; t++) {
                    int xo = t * cols, oo = t * rows + r0;
                    for (int k = 0; k < nr; k++)
                        out[oo + k] = VectorKernels.dot(w, k * cols, x, xo, cols) + (bias == null ? 0f : bias[r0 + k]);
                }
            }
        });
    }

    static final class F32 extends WeightTensor {
        final MemorySegment data;
        F32(String name, MemorySegment data, int rows, int cols) { super(name, rows, cols); this.data = data; }
        public DType dtype() { return DType.F32; }
        public void rowToFloat(int r, float[] dst, int off) { MemorySegment.copy(data, Convert.LE_FLOAT, (long) r * cols * 4, dst, off, cols); }
        public float dot(int r, float[] x, int xo) { return VectorKernels.dotF32(data, (long) r * cols, x, xo, cols); }
        public long byteSize() { return (long) rows * cols * 4; }
    }

    static final class BF16 extends WeightTensor {
        final MemorySegment data;
        BF16(String name, MemorySegment data, int rows, int cols) { super(name, rows, cols); this.data = data; }
        public DType dtype() { return DType.BF16; }
        public void rowToFloat(int r, float[] dst, int off) { VectorKernels.bf16ToFloat(data, (long) r * cols, dst, off, cols); }
        public float dot(int r, float[] x, int xo) { return VectorKernels.dotBf16(data, (long) r * cols, x, xo, cols); }
        public long byteSize() { return (long) rows * cols * 2; }
    }

    static final class F16 extends WeightTensor {
        final MemorySegment data;
        F16(String name, MemorySegment data, int rows, int cols) { super(name, rows, cols); this.data = data; }
        public DType dtype() { return DType.F16; }
        public void rowToFloat(int r, float[] dst, int off) {
            long base = (long) r * cols;
            for (int j = 0; j < cols; j++) dst[off + j] = Float.float16ToFloat(data.getAtIndex(Convert.LE_SHORT, base + j));
        }
        public float dot(int r, float[] x, int xo) {
            float[] row = new float[cols];
            rowToFloat(r, row, 0);
            return VectorKernels.dot(row, 0, x, xo, cols);
        }
        public long byteSize() { return (long) rows * cols * 2; }
    }
}
