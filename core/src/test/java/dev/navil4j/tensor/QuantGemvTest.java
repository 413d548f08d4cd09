package dev.navil4j.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Q8/Q4 decode GEMV on int8-quantized activations ({@link QuantizedVector}, {@link QuantKernels#dotQ8Int},
 * {@link QuantKernels#dotQ4Int}) against its plain reference (exact integer block dots, double sums over blocks),
 * and against the unquantized-activation product within the activation-rounding bound; odd shapes, the 16-bit
 * overflow extremes, and thread-count invariance.
 */
class QuantGemvTest {
    @AfterEach
    void restoreThreads() { Parallel.setThreads(Runtime.getRuntime().availableProcessors()); }

    static BlockQuantTensor make(DType dt, float[] v, int rows, int cols) {
        WeightTensor f = WeightTensor.ofFloats("w", v, rows, cols);
        return dt == DType.Q8 ? Q8Tensor.quantize(f) : Q4Tensor.quantize(f);
    }

    /** |Σ_j w̃_j·x̃_j − ref| ≤ 1e-5·Σ|w̃_j·x̃_j| + 1e-6: the kernels differ from the reference only by f32 rounding. */
    static void checkAgainstReference(BlockQuantTensor w, QuantizedVector xq, float[] got, String what) {
        float[] ref = new float[w.rows];
        w.gemvQuantizedReference(xq, ref);
        float[] row = new float[w.cols];
        for (int r = 0; r < w.rows; r++) {
            w.rowToFloat(r, row, 0);
            double mag = 0;
            for (int c = 0; c < w.cols; c++) mag += Math.abs((double) row[c] * xq.value(c));
            double err = Math.abs(got[r] - ref[r]);
            assertTrue(err <= 1e-5 * mag + 1e-6, what + " " + w.dtype() + " [" + w.rows + "x" + w.cols + "] row " + r + ": got " + got[r] + ", reference " + ref[r]);
        }
    }

    /** The vectorized block dequantization (batched decode widens each row once) equals its scalar reference exactly. */
    @Test
    void vectorDequantEqualsTheScalarReference() {
        Random rnd = new Random(5);
        for (DType dt : new DType[]{DType.Q8, DType.Q4}) {
            int rows = 3, cols = 96;
            float[] v = new float[rows * cols];
            for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
            WeightTensor w = QuantPolicy.apply(WeightTensor.ofFloats("w", v, rows, cols), dt.name().toLowerCase());
            BlockQuantTensor q = (BlockQuantTensor) w;
            for (int r = 0; r < rows; r++) {
                float[] got = new float[cols], want = new float[cols];
                long off = (long) r * q.rowBytes;
                if (dt == DType.Q8) {
                    QuantKernels.dequantQ8(q.data(), off, cols / 32, got, 0);
                    QuantKernels.dequantQ8Reference(q.data(), off, cols / 32, want, 0);
                } else {
                    QuantKernels.dequantQ4(q.data(), off, cols / 32, got, 0);
                    QuantKernels.dequantQ4Reference(q.data(), off, cols / 32, want, 0);
                }
                assertArrayEquals(want, got, dt + " row " + r);
            }
        }
    }

    @Test
    void activationQuantizationIsQ8ZeroAndBounded() {
        Random rnd = new Random(1);
        float[] x = KernelsTest.random(rnd, 96);
        for (int i = 32; i < 64; i++) x[i] = 0; // an all-zero block gets d = 0
        x[70] = -50f;
        QuantizedVector q = QuantizedVector.of(x, 0, 96, true);
        for (int j = 0; j < 96; j++) {
            double d = KernelsTest.activationStep(x, 0, j);
            assertTrue(Math.abs(q.value(j) - x[j]) <= d / 2 * 1.0001 + 1e-12, "element " + j);
            assertTrue(Math.abs(q.q[j]) <= 127);
        }
        assertEquals(-127, q.q[70]);
        assertEquals(0f, q.d[1]);
        for (int b = 0; b < 3; b++)
            for (int k = 0; k < 16; k++) assertEquals(-8 * (q.q[32 * b + k] + q.q[32 * b + k + 16]), q.q4Offset[16 * b + k]);
        assertThrows(IllegalArgumentException.class, () -> QuantizedVector.of(x, 0, 95, false));
        // a block of tiny (subnormal-scale) values still rounds to nearest: 1/d would overflow float there
        float[] tiny = new float[32];
        for (int j = 0; j < 32; j++) tiny[j] = (j - 16) * 1e-39f;
        QuantizedVector t = QuantizedVector.of(tiny, 0, 32, false);
        for (int j = 0; j < 32; j++) assertEquals((j - 16) * 127 / 16.0, t.q[j], 0.5 + 1e-6, "tiny element " + j);
    }

    @Test
    void kernelsMatchTheReferenceOnOddShapes() {
        for (DType dt : new DType[]{DType.Q8, DType.Q4}) {
            Random rnd = new Random(dt.ordinal() + 17);
            for (int rows = 1; rows <= 41; rows += (rows < 9 ? 1 : 8))
                for (int cols : new int[]{32, 64, 96, 160, 224, 288, 544, 896}) {
                    BlockQuantTensor w = make(dt, KernelsTest.random(rnd, rows * cols), rows, cols);
                    float[] x = KernelsTest.random(rnd, cols + 5);
                    QuantizedVector xq = QuantizedVector.of(x, 5, cols, dt == DType.Q4);
                    float[] got = new float[rows + 3];
                    w.gemvQuantized(xq, got, 3, 0, rows);
                    checkAgainstReference(w, xq, java.util.Arrays.copyOfRange(got, 3, rows + 3), "gemvQuantized");
                    float[] viaRows = new float[rows];
                    w.gemvRows(x, 5, viaRows, 0, 0, rows);
                    assertArrayEquals(java.util.Arrays.copyOfRange(got, 3, rows + 3), viaRows, "gemvRows = gemvQuantized");
                    // a row's result does not depend on the range it was computed in (how the rows were split)
                    float[] part = new float[rows];
                    w.gemvQuantized(xq, part, 0, rows / 2, rows);
                    for (int r = rows / 2; r < rows; r++) assertEquals(got[3 + r], part[r - rows / 2], "row " + r + " in a sub-range");
                    float[] mm = new float[rows];
                    w.matmul(java.util.Arrays.copyOfRange(x, 5, cols + 5), 1, mm, null);
                    assertArrayEquals(viaRows, mm, "matmul n=1 = gemvRows");
                }
        }
    }

    /** Every weight and activation at ±127 (Q8) or nibble 0 → −8 (Q4): the 16-bit lane sums at their largest. */
    @Test
    void extremeValuesDoNotOverflow() {
        int rows = 8, cols = 128;
        for (DType dt : new DType[]{DType.Q8, DType.Q4}) {
            float[] v = new float[rows * cols];
            for (int i = 0; i < v.length; i++) v[i] = (i / cols) % 2 == 0 ? 1f : -1f; // Q8: all ±127; Q4: 1 → nibble 0 (d = −1/8), −1 → 0 too
            BlockQuantTensor w = make(dt, v, rows, cols);
            float[] x = new float[cols];
            for (int pattern = 0; pattern < 2; pattern++) {
                for (int j = 0; j < cols; j++) x[j] = pattern == 0 ? 3f : (j % 2 == 0 ? 3f : -3f);
                QuantizedVector xq = QuantizedVector.of(x, 0, cols, dt == DType.Q4);
                for (int j = 0; j < cols; j++) assertEquals(127, Math.abs(xq.q[j]));
                float[] got = new float[rows];
                w.gemvQuantized(xq, got, 0, 0, rows);
                checkAgainstReference(w, xq, got, "extremes");
                double exact = 0;
                float[] row = new float[cols];
                w.rowToFloat(0, row, 0);
                for (int j = 0; j < cols; j++) exact += (double) row[j] * x[j];
                assertEquals(exact, got[0], 1e-4 * Math.abs(exact) + 1e-4, dt + " pattern " + pattern);
            }
        }
    }

    @Test
    void threadCountDoesNotChangeResults() {
        Random rnd = new Random(4);
        for (DType dt : new DType[]{DType.Q8, DType.Q4}) {
            BlockQuantTensor w = make(dt, KernelsTest.random(rnd, 203 * 288), 203, 288);
            float[] x = KernelsTest.random(rnd, 288), bias = KernelsTest.random(rnd, 203);
            float[][] outs = new float[3][203];
            for (int t = 1; t <= 3; t++) {
                Parallel.setThreads(t);
                w.matmul(x, 1, outs[t - 1], bias);
            }
            assertArrayEquals(outs[0], outs[1], dt + ": 1 vs 2 threads");
            assertArrayEquals(outs[0], outs[2], dt + ": 1 vs 3 threads");
        }
    }

    @Test
    void rejectsBadActivations() {
        BlockQuantTensor w = make(DType.Q8, new float[4 * 64], 4, 64);
        assertThrows(IllegalArgumentException.class, () -> w.gemvQuantized(QuantizedVector.of(new float[32], 0, 32, false), new float[4], 0, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> w.matmul(new float[63], 1, new float[4], null));
    }

    /** Raw bytes are decoded the same way by the stored-layout reference and the kernels (mapped-style segment, not the quantizer's). */
    @Test
    void randomStoredBytes() {
        Random rnd = new Random(9);
        for (DType dt : new DType[]{DType.Q8, DType.Q4}) {
            int rows = 13, cols = 320, bb = dt == DType.Q8 ? 36 : 20;
            MemorySegment seg = Arena.ofAuto().allocate((long) rows * cols / 32 * bb, 8);
            for (long p = 0; p < seg.byteSize(); p++) seg.set(ValueLayout.JAVA_BYTE, p, (byte) (rnd.nextInt(255) - 127));
            for (long p = 0; p < seg.byteSize(); p += bb) seg.set(Convert.LE_FLOAT, p, 0.01f + rnd.nextFloat());
            BlockQuantTensor w = (BlockQuantTensor) WeightTensor.of("w", dt, seg, rows, cols);
            float[] x = KernelsTest.random(rnd, cols);
            QuantizedVector xq = QuantizedVector.of(x, 0, cols, dt == DType.Q4);
            float[] got = new float[rows];
            w.gemvQuantized(xq, got, 0, 0, rows);
            checkAgainstReference(w, xq, got, "stored bytes");
        }
    }
}
