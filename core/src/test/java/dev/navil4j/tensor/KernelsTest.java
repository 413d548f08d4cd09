package dev.navil4j.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every fast kernel (4-row GEMV, packed GEMM, per format) against a plain scalar computation written here
 * from the stored bytes, on shapes that are not multiples of the vector width, the 4-row block, the
 * 16-row panel or the 256-column K block.
 */
class KernelsTest {
    static final DType[] FLOAT_TYPES = {DType.F32, DType.BF16, DType.F16};

    @AfterEach
    void restoreThreads() { Parallel.setThreads(Runtime.getRuntime().availableProcessors()); }

    static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    /** A weight tensor of that dtype holding (the rounding of) values, stored as safetensors would. */
    static WeightTensor make(DType dt, float[] v, int rows, int cols) {
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, (long) v.length * 4), 8);
        switch (dt) {
            case F32 -> { for (int i = 0; i < v.length; i++) seg.setAtIndex(Convert.LE_FLOAT, i, v[i]); }
            case BF16 -> { for (int i = 0; i < v.length; i++) seg.setAtIndex(Convert.LE_SHORT, i, Convert.floatToBf16(v[i])); }
            case F16 -> { for (int i = 0; i < v.length; i++) seg.setAtIndex(Convert.LE_SHORT, i, Float.floatToFloat16(v[i])); }
            case Q8 -> { return Q8Tensor.quantize(WeightTensor.ofFloats("w", v, rows, cols)); }
            case Q4 -> { return Q4Tensor.quantize(WeightTensor.ofFloats("w", v, rows, cols)); }
            default -> throw new IllegalArgumentException();
        }
        return WeightTensor.of("w", dt, seg.asSlice(0, dt.byteSize((long) rows * cols)), rows, cols);
    }

    /** Element (r, c) decoded from the raw bytes with plain scalar code (independent of the kernels). */
    static float element(WeightTensor w, int r, int c) {
        MemorySegment d = w.data();
        long i = (long) r * w.cols + c;
        return switch (w.dtype()) {
            case F32 -> d.getAtIndex(Convert.LE_FLOAT, i);
            case BF16 -> Float.intBitsToFloat((d.getAtIndex(Convert.LE_SHORT, i) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(d.getAtIndex(Convert.LE_SHORT, i));
            case Q8 -> {
                long blk = i / 32 * 36;
                yield d.get(Convert.LE_FLOAT, blk) * d.get(ValueLayout.JAVA_BYTE, blk + 4 + i % 32);
            }
            case Q4 -> {
                long blk = i / 32 * 20;
                int j = (int) (i % 32);
                int b = d.get(ValueLayout.JAVA_BYTE, blk + 4 + j % 16) & 0xff;
                yield d.get(Convert.LE_FLOAT, blk) * ((j < 16 ? b & 15 : b >>> 4) - 8);
            }
            default -> throw new IllegalArgumentException();
        };
    }

    static void check(WeightTensor w, float[] x, int n, float[] bias, float[] got, String what) {
        for (int t = 0; t < n; t++)
            for (int r = 0; r < w.rows; r++) {
                double s = bias == null ? 0 : bias[r], mag = Math.abs(s);
                for (int c = 0; c < w.cols; c++) {
                    double p = (double) element(w, r, c) * x[t * w.cols + c];
                    s += p;
                    mag += Math.abs(p);
                }
                double err = Math.abs(got[t * w.rows + r] - s), tol = 1e-5 * mag + 1e-6;
                // the Q8/Q4 decode GEMV (matmul with n = 1) multiplies with x rounded to int8 per 32-block (scale
                // d = max|x|/127, rounding error ≤ d/2 per element): allow exactly that, Σ_c |w_rc|·d(c)/2
                if (w instanceof BlockQuantTensor && n == 1 && what.equals("matmul"))
                    for (int c = 0; c < w.cols; c++) tol += Math.abs(element(w, r, c)) * activationStep(x, t * w.cols, c) / 2 * 1.0001;
                if (err > tol)
                    fail(what + " " + w.dtype() + " [" + w.rows + "x" + w.cols + "] n=" + n + " at (" + t + "," + r + "): got "
                            + got[t * w.rows + r] + ", expected " + s + " (error " + err + ", magnitude " + mag + ")");
            }
    }

    /** The int8 step max|x|/127 of the 32-block holding column c of the activation row starting at xo. */
    static double activationStep(float[] x, int xo, int c) {
        float amax = 0;
        for (int j = c / 32 * 32; j < c / 32 * 32 + 32; j++) amax = Math.max(amax, Math.abs(x[xo + j]));
        return amax / 127.0;
    }

    void runShapes(DType dt, int[] colsList) {
        Random rnd = new Random(dt.ordinal() * 31L + 7);
        for (int rows = 1; rows <= 37; rows += (rows < 9 ? 1 : 7)) {
            for (int cols : colsList) {
                WeightTensor w = make(dt, random(rnd, rows * cols), rows, cols);
                for (int n : new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 33, 39}) { // small batches (2..32) and every partial tile height of the MR = 6 GEMM
                    float[] x = random(rnd, n * cols);
                    float[] bias = n % 2 == 1 ? random(rnd, rows) : null;
                    float[] out = new float[n * rows];
                    w.matmul(x, n, out, bias);
                    check(w, x, n, bias, out, "matmul");
                    float[] ref = new float[n * rows];
                    w.matmulReference(x, n, ref, bias);
                    check(w, x, n, bias, ref, "matmulReference");
                }
                float[] x = random(rnd, cols);
                float[] rowDots = new float[rows];
                for (int r = 0; r < rows; r++) rowDots[r] = w.dot(r, x, 0);
                check(w, x, 1, null, rowDots, "dot");
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    w.rowToFloat(r, row, 0);
                    for (int c = 0; c < cols; c++) assertEquals(element(w, r, c), row[c], 0f, "rowToFloat");
                }
            }
        }
    }

    /**
     * The small-batch tile (1..2 weight rows × 1..4 activation rows) against its double-accumulated reference, and a
     * pair's result the same bits whether it is computed in a full 2×4 tile or alone.
     */
    @Test void dotTileMatchesItsReferenceAndDoesNotDependOnNeighbours() {
        Random rnd = new Random(11);
        for (int n : new int[]{1, 7, 8, 15, 16, 17, 33, 896, 4867})
            for (int wRows = 1; wRows <= 2; wRows++)
                for (int xRows = 1; xRows <= 4; xRows++) {
                    float[] w = random(rnd, 2 * (n + 3) + 3), x = random(rnd, 4 * (n + 5) + 2);
                    float[] got = new float[32], want = new float[32];
                    VectorKernels.dotTile(w, 3, n + 3, wRows, x, 2, n + 5, xRows, n, got, 1, 2, 9);
                    VectorKernels.dotTileReference(w, 3, n + 3, wRows, x, 2, n + 5, xRows, n, want, 1, 2, 9);
                    for (int i = 0; i < wRows; i++)
                        for (int k = 0; k < xRows; k++) {
                            int o = 1 + 2 * k + 9 * i;
                            assertEquals(want[o], got[o], 1e-5 * Math.sqrt(n) * 4, "n=" + n + " pair " + i + "," + k);
                            float[] alone = new float[1];
                            VectorKernels.dotTile(w, 3 + i * (n + 3), n + 3, 1, x, 2 + k * (n + 5), n + 5, 1, n, alone, 0, 1, 1);
                            assertEquals(alone[0], got[o], 0f, "pair alone vs in a tile");
                        }
                }
    }

    @Test void floatFormatsOddShapes() {
        // 2053: rows past WeightTensor.SHORT_ROW_BYTES take the 4-row GEMV for every float format
        for (DType dt : FLOAT_TYPES) runShapes(dt, new int[]{1, 7, 17, 33, 67, 301, 529, 2053});
    }

    @Test void quantizedFormatsOddShapes() {
        for (DType dt : new DType[]{DType.Q8, DType.Q4}) runShapes(dt, new int[]{32, 96, 288, 544});
    }

    @Test void bigGemmCrossesEveryBlockBoundary() {
        // > NC_PANELS·16 rows, > KC columns, > MC_TILES·MR tokens; 2 threads
        Parallel.setThreads(2);
        Random rnd = new Random(5);
        int rows = 16 * Gemm.NC_PANELS + 37, cols = Gemm.KC + 45, n = Gemm.MC_TILES * Gemm.MR + 3;
        for (DType dt : new DType[]{DType.BF16, DType.Q8}) {
            int c = dt == DType.Q8 ? 320 : cols;
            WeightTensor w = make(dt, random(rnd, rows * c), rows, c);
            float[] x = random(rnd, n * c), out = new float[n * rows], bias = random(rnd, rows);
            w.matmul(x, n, out, bias);
            check(w, x, n, bias, out, "matmul");
        }
    }

    @Test void threadCountDoesNotChangeResults() {
        Random rnd = new Random(11);
        for (DType dt : DType.values()) {
            if (dt == DType.I32 || dt == DType.I64) continue;
            WeightTensor w = make(dt, random(rnd, 203 * 96), 203, 96);
            for (int n : new int[]{1, 7}) {
                float[] x = random(rnd, n * 96);
                Parallel.setThreads(1);
                float[] one = new float[n * 203];
                w.matmul(x, n, one, null);
                Parallel.setThreads(3);
                float[] three = new float[n * 203];
                w.matmul(x, n, three, null);
                assertArrayEquals(one, three, dt + " n=" + n);
            }
        }
    }

    @Test void quantizationErrorIsBoundedByTheBlockScale() {
        Random rnd = new Random(3);
        float[] v = random(rnd, 4 * 64);
        v[5] = 0; // a block with zeros and one with a single large value
        for (int i = 64; i < 96; i++) v[i] = 0;
        v[100] = 40f;
        for (DType dt : new DType[]{DType.Q8, DType.Q4}) {
            WeightTensor q = make(dt, v, 4, 64);
            for (int i = 0; i < v.length; i++) {
                int r = i / 64, c = i % 64, blk = i / 32;
                float amax = 0;
                for (int j = blk * 32; j < blk * 32 + 32; j++) amax = Math.max(amax, Math.abs(v[j]));
                float d = dt == DType.Q8 ? amax / 127 : amax / 8;
                // Q8: round to nearest (≤ d/2); Q4: the positive extreme clamps at nibble 15 (≤ d)
                float bound = (dt == DType.Q8 ? d / 2 : d) * 1.0001f + 1e-7f;
                assertTrue(Math.abs(element(q, r, c) - v[i]) <= bound, dt + " element " + i + ": " + element(q, r, c) + " vs " + v[i]);
            }
        }
    }

    @Test void rejectsBadShapes() {
        WeightTensor w = make(DType.F32, new float[6], 2, 3);
        assertThrows(IllegalArgumentException.class, () -> w.matmul(new float[5], 2, new float[4], null));
        assertThrows(IllegalArgumentException.class, () -> Q8Tensor.quantize(w));
        assertThrows(IllegalArgumentException.class, () -> w.matmul(new float[3], 1, new float[2], new float[1]));
    }

    /** gemvTogether (q/k/v, gate/up in one region) gives each matrix exactly what its own n = 1 matmul gives. */
    @Test
    void gemvTogetherIsBitIdenticalToSeparateGemvs() {
        Random rnd = new Random(23);
        int cols = 96;
        for (DType dt : new DType[]{DType.F32, DType.BF16, DType.F16, DType.Q8, DType.Q4}) {
            for (int threads : new int[]{1, 3}) {
                Parallel.setThreads(threads);
                int[] rows = {37, 5, 130};
                WeightTensor[] ws = new WeightTensor[rows.length];
                float[][] outs = new float[rows.length][], biases = new float[rows.length][], want = new float[rows.length][];
                float[] x = random(rnd, cols);
                for (int m = 0; m < rows.length; m++) {
                    ws[m] = make(dt, random(rnd, rows[m] * cols), rows[m], cols);
                    outs[m] = new float[rows[m]];
                    biases[m] = m == 1 ? null : random(rnd, rows[m]);
                    want[m] = new float[rows[m]];
                }
                // reduceLanes(ADD) sums lanes in one order in the Vector API's Java fallback and in another once C2
                // intrinsifies it (see VectorKernels.hsum), so a kernel compiled between the two calls would differ in the
                // last bit for that reason alone (seen once in a fresh clone). Both paths run until the kernels are
                // compiled, then are compared in the same JIT state: what remains is exactly the claim under test.
                for (int warm = 0; warm < 3000; warm++) {
                    for (int m = 0; m < rows.length; m++) ws[m].matmul(x, 1, want[m], biases[m]);
                    WeightTensor.gemvTogether(x, ws, outs, biases);
                }
                for (int m = 0; m < rows.length; m++) ws[m].matmul(x, 1, want[m], biases[m]);
                WeightTensor.gemvTogether(x, ws, outs, biases);
                for (int m = 0; m < rows.length; m++) assertArrayEquals(want[m], outs[m], dt + " matrix " + m + ", " + threads + " threads");
            }
        }
        WeightTensor a = make(DType.F32, random(rnd, 4 * 32), 4, 32), b = make(DType.F32, random(rnd, 4 * 33), 4, 33);
        assertThrows(IllegalArgumentException.class, () -> WeightTensor.gemvTogether(new float[33], new WeightTensor[]{a, b},
                new float[][]{new float[4], new float[4]}, null));
    }
}
