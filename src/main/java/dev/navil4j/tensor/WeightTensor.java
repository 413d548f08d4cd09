package dev.navil4j.tensor;


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

    public static WeightTensor of(String name, DType dtype, MemorySegment data, int rows, int cols) {
        return switch (dtype) {
            case F32 -> new F32(name, data, rows, cols);
            case BF16 -> new BF16(name, data, rows, cols);
            case F16 -> new F16(name, data, rows, cols);
            case Q8 -> new Q8Tensor(name, data, rows, cols);
            case Q4 -> new Q4Tensor(name, data, rows, cols);
            default -> throw new IllegalArgumentException(name + ": cannot use a " + dtype + " tensor as weights");
        };
    }

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
     * dst[off..off+len) = W[r, from..from+len) as f32 (GEMM panel packing). Formats override this; the
     * default widens the whole row.
     */
    public void rowSliceToFloat(int r, int from, int len, float[] dst, int off) {
        float[] row = new float[cols];
        rowToFloat(r, row, 0);
        System.arraycopy(row, from, dst, off, len);
    }

    /**
     * out[oo + r − from] = Σ_j W[r, j]·x[xo + j] for rows r in [from, to) (the decode GEMV). Formats override
     * it with 4-row kernels; the default calls {@link #dot} per row.
     */
    public void gemvRows(float[] x, int xo, float[] out, int oo, int from, int to) {
        for (int r = from; r < to; r++) out[oo + r - from] = dot(r, x, xo);
    }

    /**
     * out[t, r] = Σ_j x[t, j]·W[r, j] (+ bias[r]) for t < n: x is [n, cols], out is [n, rows], row-major.
     * n = 1: GEMV parallel over row ranges at the memory-bandwidth limit; n &gt; 1: packed register-blocked
     * GEMM ({@link Gemm}), weights widened to f32 once per panel. Both on the {@link Parallel} pool.
     */
    public void matmul(float[] x, int n, float[] out, float[] bias) {
        if (n < 0 || x.length < (long) n * cols || out.length < (long) n * rows)
            throw new IllegalArgumentException(name + ": matmul buffers too small for n=" + n + " [" + rows + "x" + cols + "]");
        if (bias != null && bias.length < rows)
            throw new IllegalArgumentException(name + ": bias has " + bias.length + " values for " + rows + " rows");
        if (n == 0) return;
        if (n == 1) {
            // chunks of whole 4-row groups so every worker runs the 4-row kernel
            int groups = (rows + 3) / 4;
            Parallel.forRange(groups, 16, 4, (g0, g1) -> {
                int from = g0 * 4, to = Math.min(rows, g1 * 4);
                gemvRows(x, 0, out, from, from, to);
                if (bias != null) for (int r = from; r < to; r++) out[r] += bias[r];
            });
            return;
        }
        if (n <= SMALL_BATCH) {
            smallBatch(x, n, out, bias);
            return;
        }
        Gemm.multiply(this, x, n, out, bias);
    }

    /**
     * The decode GEMVs of several matrices that read the same activation row (q/k/v, gate/up), in one parallel region:
     * outs[m][r] = Σ_j W_m[r, j]·x[j] (+ biases[m][r]). One region instead of one per matrix (each region end is a
     * barrier where the first finished core idles), and for block-quantized weights x is quantized once for all of
     * them. Every row runs the kernel and the x̃ that {@link #matmul} with n = 1 would, so results are bit-identical
     * to separate calls. All matrices must have the same number of columns; biases (or its entries) may be null.
     */
    public static void gemvTogether(float[] x, WeightTensor[] ws, float[][] outs, float[][] biases) {
        int cols = ws[0].cols;
        int[] groupStart = new int[ws.length + 1];
        boolean anyQ4 = false, anyQuant = false;
        for (int m = 0; m < ws.length; m++) {
            WeightTensor w = ws[m];
            if (w.cols != cols) throw new IllegalArgumentException(w.name + ": " + w.cols + " columns, " + ws[0].name + " has " + cols);
            if (outs[m].length < w.rows) throw new IllegalArgumentException(w.name + ": output of " + outs[m].length + " for " + w.rows + " rows");
            if (biases != null && biases[m] != null && biases[m].length < w.rows)
                throw new IllegalArgumentException(w.name + ": bias has " + biases[m].length + " values for " + w.rows + " rows");
            groupStart[m + 1] = groupStart[m] + (w.rows + 3) / 4;
            anyQuant |= w instanceof BlockQuantTensor;
            anyQ4 |= w.dtype() == DType.Q4;
        }
        if (x.length < cols) throw new IllegalArgumentException(ws[0].name + ": activations of length " + x.length + " for " + cols + " columns");
        QuantizedVector xq = anyQuant ? QuantizedVector.of(x, 0, cols, anyQ4) : null; // a Q8 kernel ignores the Q4 terms
        Parallel.forRange(groupStart[ws.length], 16, 4, (g0, g1) -> {
            for (int m = 0; m < ws.length; m++) {
                int a = Math.max(g0, groupStart[m]), b = Math.min(g1, groupStart[m + 1]);
                if (a >= b) continue;
                WeightTensor w = ws[m];
                int from = (a - groupStart[m]) * 4, to = Math.min(w.rows, (b - groupStart[m]) * 4);
                float[] out = outs[m];
                if (w instanceof BlockQuantTensor bq) bq.gemvQuantized(xq, out, from, from, to);
                else w.gemvRows(x, 0, out, from, from, to);
                float[] bias = biases == null ? null : biases[m];
                if (bias != null) for (int r = from; r < to; r++) out[r] += bias[r];
            }
        });
    }

    /**
     * Up to this many rows (batched decode, a prefill chunk beside it) multiply without packing: the
     * GEMM widens and packs every weight panel per call, which for a handful of rows costs more than the product
     * (measured: 2 and 4 batched rows 0.24× and 0.57× the tokens/s of one). Here each weight row is read once,
     * widened into an L1 buffer, and dotted with every activation row: two weight rows against four activation rows at a
     * time (8 accumulators, each loaded vector used for 4 or 2 FMAs).
     */
    public static final int SMALL_BATCH = Integer.getInteger("navil4j.smallBatch", 32);

    /** out[t, r] = Σ_j x[t, j]·W[r, j] (+ bias[r]) for 2 ≤ n ≤ {@link #SMALL_BATCH}, parallel over pairs of weight rows. */
    void smallBatch(float[] x, int n, float[] out, float[] bias) {
        // activation rows padded with zero rows to a multiple of 4: the full 2x4 tile has 8 independent accumulators,
        // its 1-row fallback one latency-bound chain (n = 2 ran 2.7x slower than n = 4); padding changes no real row
        int n4 = (n + 3) / 4 * 4;
        float[] xs = n4 == n ? x : java.util.Arrays.copyOf(x, n4 * cols);
        float[] ys = n4 == n ? out : new float[n4 * rows];
        Parallel.forRange((rows + 1) / 2, 8, 4, (p0, p1) -> {
            float[] w = new float[2 * cols];
            for (int r = 2 * p0; r < Math.min(rows, 2 * p1); r += 2) {
                int wr = Math.min(2, rows - r);
                for (int i = 0; i < wr; i++) rowToFloat(r + i, w, i * cols);
                for (int t = 0; t < n4; t += 4)
                    Kernels.dotTile(w, 0, cols, wr, xs, t * cols, cols, 4, cols, ys, t * rows + r, rows, 1);
            }
        });
        if (ys != out) System.arraycopy(ys, 0, out, 0, n * rows);
        if (bias != null) for (int t = 0; t < n; t++) for (int r = 0; r < rows; r++) out[t * rows + r] += bias[r];
    }

    /**
     * Rows shorter than this are read one at a time as a single stream in the decode GEMV; longer ones four
     * at a time (sharing each activation load), which is faster once every row is long enough for the
     * prefetcher to follow four streams (bf16: 896-column rows 14 vs 10 GB/s per thread, 4864-column rows
     * 13.8 vs 16.4 GB/s, out of DRAM).
     */
    static final long SHORT_ROW_BYTES = 4096;

    /** The plain scalar reference of {@link #matmul} (double accumulation over {@link #rowToFloat}); for tests. */
    public void matmulReference(float[] x, int n, float[] out, float[] bias) {
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            rowToFloat(r, row, 0);
            for (int t = 0; t < n; t++) {
                double s = bias == null ? 0 : bias[r];
                for (int j = 0; j < cols; j++) s += (double) row[j] * x[t * cols + j];
                out[t * rows + r] = (float) s;
            }
        }
    }

    /** The raw stored bytes (mapped or heap), in the layout of {@link #dtype()}; for writers. */
    public abstract MemorySegment data();

    static final class F32 extends WeightTensor {
        final MemorySegment data;
        F32(String name, MemorySegment data, int rows, int cols) { super(name, rows, cols); this.data = data; }
        public DType dtype() { return DType.F32; }
        public MemorySegment data() { return data; }
        public void rowToFloat(int r, float[] dst, int off) { MemorySegment.copy(data, Convert.LE_FLOAT, (long) r * cols * 4, dst, off, cols); }
        @Override public void rowSliceToFloat(int r, int from, int len, float[] dst, int off) {
            MemorySegment.copy(data, Convert.LE_FLOAT, ((long) r * cols + from) * 4, dst, off, len);
        }
        public float dot(int r, float[] x, int xo) { return Kernels.dotF32(data, (long) r * cols, x, xo, cols); }
        @Override public void gemvRows(float[] x, int xo, float[] out, int oo, int from, int to) {
            long rb = (long) cols * 4;
            if (rb < SHORT_ROW_BYTES) {
                for (int r = from; r < to; r++) out[oo + r - from] = dot(r, x, xo);
                return;
            }
            int r = from;
            for (; r + 4 <= to; r += 4) Kernels.dot4F32(data, r * rb, rb, x, xo, cols, out, oo + r - from);
            for (; r < to; r++) out[oo + r - from] = dot(r, x, xo);
        }
        public long byteSize() { return (long) rows * cols * 4; }
    }

    static final class BF16 extends WeightTensor {
        final MemorySegment data;
        BF16(String name, MemorySegment data, int rows, int cols) { super(name, rows, cols); this.data = data; }
        public DType dtype() { return DType.BF16; }
        public MemorySegment data() { return data; }
        public void rowToFloat(int r, float[] dst, int off) { Kernels.bf16ToFloat(data, (long) r * cols, dst, off, cols); }
        @Override public void rowSliceToFloat(int r, int from, int len, float[] dst, int off) {
            Kernels.bf16ToFloat(data, (long) r * cols + from, dst, off, len);
        }
        public float dot(int r, float[] x, int xo) { return Kernels.dotBf16(data, (long) r * cols, x, xo, cols); }
        @Override public void gemvRows(float[] x, int xo, float[] out, int oo, int from, int to) {
            long rb = (long) cols * 2;
            if (rb < SHORT_ROW_BYTES) {
                float[] xs = new float[cols];
                Kernels.evenOddOrder(x, xo, cols, xs);
                for (int r = from; r < to; r++) out[oo + r - from] = Kernels.dotBf16EvenOdd(data, r * rb, xs, cols);
                return;
            }
            int r = from;
            for (; r + 4 <= to; r += 4) Kernels.dot4Bf16(data, r * rb, rb, x, xo, cols, out, oo + r - from);
            for (; r < to; r++) out[oo + r - from] = dot(r, x, xo);
        }
        public long byteSize() { return (long) rows * cols * 2; }
    }

    static final class F16 extends WeightTensor {
        /** Columns widened per step of the f16 GEMV: 4 chunks of this stay in L1. */
        private static final int CHUNK = 512;
        final MemorySegment data;
        F16(String name, MemorySegment data, int rows, int cols) { super(name, rows, cols); this.data = data; }
        public DType dtype() { return DType.F16; }
        public MemorySegment data() { return data; }
        public void rowToFloat(int r, float[] dst, int off) { Kernels.f16ToFloat(data, (long) r * cols * 2, dst, off, cols); }
        @Override public void rowSliceToFloat(int r, int from, int len, float[] dst, int off) {
            Kernels.f16ToFloat(data, ((long) r * cols + from) * 2, dst, off, len);
        }
        public float dot(int r, float[] x, int xo) { return Kernels.dotF16(data, (long) r * cols, x, xo, cols); }
        /** Widens 4 row chunks at a time on the heap (there is no f16 lane conversion in the Vector API), then a 4-row dot. */
        @Override public void gemvRows(float[] x, int xo, float[] out, int oo, int from, int to) {
            if ((long) cols * 2 < SHORT_ROW_BYTES) {
                // short rows: one row after the other, as one sequential stream (see SHORT_ROW_BYTES)
                float[] row = new float[cols];
                for (int r = from; r < to; r++) {
                    Kernels.f16ToFloat(data, (long) r * cols * 2, row, 0, cols);
                    out[oo + r - from] = Kernels.dot(row, 0, x, xo, cols);
                }
                return;
            }
            int chunk = Math.min(CHUNK, cols);
            float[] buf = new float[4 * chunk];
            int r = from;
            for (; r + 4 <= to; r += 4) {
                int o = oo + r - from;
                out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
                for (int c = 0; c < cols; c += chunk) {
                    int len = Math.min(chunk, cols - c);
                    for (int k = 0; k < 4; k++) Kernels.f16ToFloat(data, ((long) (r + k) * cols + c) * 2, buf, k * chunk, len);
                    Kernels.dot4(buf, 0, chunk, x, xo + c, len, out, o);
                }
            }
            for (; r < to; r++) out[oo + r - from] = dot(r, x, xo);
        }
        public long byteSize() { return (long) rows * cols * 2; }
    }
}
