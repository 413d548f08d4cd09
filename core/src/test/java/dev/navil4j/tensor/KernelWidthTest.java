package dev.navil4j.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every kernel entry point ({@link Kernels}, {@link QuantKernels}, the GEMM through {@link WeightTensor}) against a
 * plain double-precision computation written here, on lengths around every vector width (1 … 4·16 lanes ± 1).
 * Surefire runs this class four times (pom.xml): at the machine's width, with {@code -Dnavil4j.simd=128} and
 * {@code 512} (wider than AVX2: the Vector API's Java fallback, slow but exact in semantics), and in a JVM without
 * the Vector API module (the plain loops). This class touches no Vector API type, so it loads in all four.
 */
class KernelWidthTest {
    static final int[] LENGTHS = {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 96, 127, 128, 129, 200, 257};

    @Test
    void theWidthIsTheOneAskedFor() {
        String asked = System.getProperty("navil4j.simd");
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        if (!module) assertFalse(Simd.VECTOR, Simd.describe());
        else if (asked == null || asked.equals("auto")) assertTrue(Simd.BITS == 128 || Simd.BITS == 256 || Simd.BITS == 512, Simd.describe());
        else if (asked.equals("off")) assertFalse(Simd.VECTOR);
        else assertEquals(Integer.parseInt(asked), Simd.BITS, Simd.describe());
        assertEquals(Simd.VECTOR ? 2 * Simd.BITS / 32 : 16, Gemm.NR);
        assertTrue(Simd.describe().startsWith("SIMD "), Simd.describe());
    }

    static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    static double dotRef(float[] a, int ao, float[] b, int bo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) a[ao + i] * b[bo + i];
        return s;
    }

    /** |got − want| within float rounding of a length-n sum of products of magnitude ~1. */
    static void assertSum(double want, double got, int n, String what) {
        assertEquals(want, got, 1e-5 * (n + 1) + 1e-6 * Math.abs(want), what);
    }

    @Test
    void floatKernels() {
        Random rnd = new Random(7);
        for (int n : LENGTHS) {
            float[] a = random(rnd, n + 5), b = random(rnd, n + 9);
            assertSum(dotRef(a, 2, b, 3, n), Kernels.dot(a, 2, b, 3, n), n, "dot n=" + n);
            assertSum(dotRef(a, 1, b, 4, n), Kernels.dotFixedOrder(a, 1, b, 4, n), n, "dotFixedOrder n=" + n);
            float m = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) m = Math.max(m, a[3 + i]);
            assertEquals(m, Kernels.max(a, 3, n), "max n=" + n);

            float[] e = a.clone();
            double sum = 0;
            for (int i = 0; i < n; i++) sum += Math.exp(a[1 + i] - 0.5);
            assertEquals(sum, Kernels.expShiftSum(e, 1, n, 0.5f), 1e-5 * (sum + 1), "expShiftSum n=" + n);
            for (int i = 0; i < n; i++) assertEquals(Math.exp(a[1 + i] - 0.5), e[1 + i], 1e-6 * Math.exp(a[1 + i] - 0.5), "exp n=" + n);
            assertEquals(a[0], e[0]);

            float[] y = b.clone();
            Kernels.axpy(0.75f, a, 2, y, 1, n);
            for (int i = 0; i < n + 9; i++) {
                float want = i >= 1 && i < n + 1 ? b[i] + 0.75f * a[1 + i] : b[i];
                assertEquals(want, y[i], 1e-6f, "axpy n=" + n);
            }

            float[] g = a.clone(), u = random(rnd, n + 5), h = a.clone();
            Kernels.siluMul(g, u, 0, n);
            Kernels.gelu(h, 0, n);
            for (int i = 0; i < n; i++) {
                double s = a[i] / (1 + Math.exp(-a[i])) * u[i];
                assertEquals(s, g[i], 1e-5 * (1 + Math.abs(s)), "siluMul n=" + n);
                double gl = 0.5 * a[i] * (1 + dev.navil4j.nn.Activations.erf(a[i] / Math.sqrt(2)));
                assertEquals(gl, h[i], 2e-6 * (1 + Math.abs(gl)), "gelu n=" + n);
            }
            assertEquals(a[n], g[n], "siluMul past the range");

            // dot4 adds into out; dotTile overwrites: both against per-row reference sums
            int stride = n + 3;
            float[] rows = random(rnd, 4 * stride + 8), x = random(rnd, n + 4);
            float[] out = {1, 2, 3, 4, 5};
            Kernels.dot4(rows, 1, stride, x, 2, n, out, 1);
            for (int r = 0; r < 4; r++) assertSum(r + 2 + dotRef(rows, 1 + r * stride, x, 2, n), out[1 + r], n, "dot4 n=" + n);
            float[] xs4 = random(rnd, 4 * stride), tile = new float[16];
            for (int wr = 1; wr <= 2; wr++)
                for (int xr = 1; xr <= 4; xr++) {
                    Kernels.dotTile(rows, 0, stride, wr, xs4, 0, stride, xr, n, tile, 0, 4, 1);
                    for (int i = 0; i < wr; i++)
                        for (int k = 0; k < xr; k++)
                            assertSum(dotRef(rows, i * stride, xs4, k * stride, n), tile[k * 4 + i], n, "dotTile " + wr + "x" + xr + " n=" + n);
                }
        }
    }

    @Test
    void storedFormatKernels() {
        Random rnd = new Random(11);
        for (int n : LENGTHS) {
            int rowLen = n + 2;
            float[] v = random(rnd, 4 * rowLen), x = random(rnd, n + 3);
            MemorySegment f32 = Arena.ofAuto().allocate(4L * v.length + 64, 64), bf16 = Arena.ofAuto().allocate(2L * v.length + 64, 64),
                    f16 = Arena.ofAuto().allocate(2L * v.length + 64, 64);
            float[] vb = new float[v.length], vh = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f32.setAtIndex(Convert.LE_FLOAT, i, v[i]);
                short s = Convert.floatToBf16(v[i]);
                bf16.setAtIndex(Convert.LE_SHORT, i, s);
                vb[i] = Convert.bf16ToFloat(s);
                short hf = Float.floatToFloat16(v[i]);
                f16.setAtIndex(Convert.LE_SHORT, i, hf);
                vh[i] = Float.float16ToFloat(hf);
            }
            assertSum(dotRef(v, rowLen, x, 1, n), Kernels.dotF32(f32, rowLen, x, 1, n), n, "dotF32 n=" + n);
            assertSum(dotRef(vb, rowLen, x, 1, n), Kernels.dotBf16(bf16, rowLen, x, 1, n), n, "dotBf16 n=" + n);
            assertSum(dotRef(vh, rowLen, x, 1, n), Kernels.dotF16(f16, rowLen, x, 1, n), n, "dotF16 n=" + n);
            float[] w = new float[n + 2];
            Kernels.bf16ToFloat(bf16, 1, w, 2, n);
            for (int i = 0; i < n; i++) assertEquals(vb[1 + i], w[2 + i], "bf16ToFloat n=" + n);
            Kernels.f16ToFloat(f16, 2, w, 1, n);
            for (int i = 0; i < n; i++) assertEquals(vh[1 + i], w[1 + i], "f16ToFloat n=" + n);

            float[] out = new float[5];
            Kernels.dot4F32(f32, 0, 4L * rowLen, x, 1, n, out, 1);
            for (int r = 0; r < 4; r++) assertSum(dotRef(v, r * rowLen, x, 1, n), out[1 + r], n, "dot4F32 n=" + n);
            Kernels.dot4Bf16(bf16, 0, 2L * rowLen, x, 1, n, out, 0);
            for (int r = 0; r < 4; r++) assertSum(dotRef(vb, r * rowLen, x, 1, n), out[r], n, "dot4Bf16 n=" + n);

            float[] xs = new float[n];
            Kernels.evenOddOrder(x, 1, n, xs);
            assertSum(dotRef(vb, 2 * rowLen, x, 1, n), Kernels.dotBf16EvenOdd(bf16, 2L * 2 * rowLen, xs, n), n, "dotBf16EvenOdd n=" + n);
        }
        MemorySegment stream = Arena.ofAuto().allocate(4096, 64);
        double s = 0;
        for (int i = 0; i < 1024; i++) { stream.setAtIndex(Convert.LE_FLOAT, i, i * 0.25f); s += i * 0.25; }
        assertEquals(s, Kernels.streamSum(stream, 0, 4096), 1e-3, "streamSum");
    }

    @Test
    void quantizedKernels() {
        Random rnd = new Random(13);
        for (int blocks : new int[]{1, 2, 3, 4, 5, 7, 8, 9, 17}) {
            int cols = 32 * blocks;
            float[] v = random(rnd, 3 * cols), x = random(rnd, cols + 32);
            for (DType dt : new DType[]{DType.Q8, DType.Q4}) {
                WeightTensor w = dt == DType.Q8 ? Q8Tensor.quantize(WeightTensor.ofFloats("w", v, 3, cols))
                        : Q4Tensor.quantize(WeightTensor.ofFloats("w", v, 3, cols));
                long rowBytes = (long) blocks * (dt == DType.Q8 ? QuantKernels.Q8_BLOCK_BYTES : QuantKernels.Q4_BLOCK_BYTES);
                QuantizedVector qx = QuantizedVector.of(x, 0, cols, dt == DType.Q4);
                float[] deq = new float[cols], deqRef = new float[cols];
                for (int r = 0; r < 3; r++) {
                    double want = QuantKernels.dotQuantizedReference(dt, w.data(), r * rowBytes, qx, blocks);
                    float got = dt == DType.Q8 ? QuantKernels.dotQ8Int(w.data(), r * rowBytes, qx, blocks)
                            : QuantKernels.dotQ4Int(w.data(), r * rowBytes, qx, blocks);
                    assertSum(want, got, cols, dt + " int dot, blocks=" + blocks);
                    if (dt == DType.Q8) {
                        QuantKernels.dequantQ8(w.data(), r * rowBytes, blocks, deq, 0);
                        QuantKernels.dequantQ8Reference(w.data(), r * rowBytes, blocks, deqRef, 0);
                    } else {
                        QuantKernels.dequantQ4(w.data(), r * rowBytes, blocks, deq, 0);
                        QuantKernels.dequantQ4Reference(w.data(), r * rowBytes, blocks, deqRef, 0);
                    }
                    assertArrayEquals(deqRef, deq, dt + " dequant, blocks=" + blocks);
                    float gotF = dt == DType.Q8 ? QuantKernels.dotQ8(w.data(), r * rowBytes, x, 7, blocks)
                            : QuantKernels.dotQ4(w.data(), r * rowBytes, x, 7, blocks);
                    assertSum(dotRef(deqRef, 0, x, 7, cols), gotF, cols, dt + " float dot, blocks=" + blocks);
                }
            }
        }
    }

    /**
     * The packed GEMM (micro-tile MR × 2L: 12 tokens at 512 bits, 6 below) and the GEMV paths through
     * WeightTensor.matmul, every token count edge, one K block (77 columns) and two (a partial second block).
     */
    @Test
    void matmulAtThisWidth() {
        Random rnd = new Random(17);
        int rows = 2 * Gemm.NR + 5;
        for (int cols : new int[]{77, Gemm.KC + 29}) {
            float[] v = random(rnd, rows * cols);
            WeightTensor w = WeightTensor.ofFloats("w", v, rows, cols);
            for (int n : new int[]{1, 2, 4, 5, 6, 7, 12, 13, 25, 33, 40, 49}) {
                float[] x = random(rnd, n * cols), out = new float[n * rows];
                w.matmul(x, n, out, null);
                for (int t = 0; t < n; t++)
                    for (int r = 0; r < rows; r++)
                        assertSum(dotRef(v, r * cols, x, t * cols, cols), out[t * rows + r], cols, "matmul cols=" + cols + " n=" + n + " t=" + t + " r=" + r);
            }
        }
    }

    /** A token count whose packed activations exceed one chunk: every output bit-identical to a small GEMM's. */
    @Test
    void tokenChunksChangeNoBit() {
        Random rnd = new Random(29);
        int k = 1024, rows = Gemm.NR + 7;
        int n = (int) (Gemm.A_CHUNK_BYTES / (4L * k)) + 3 * Gemm.MR + 1; // two chunks, the second partial
        float[] v = random(rnd, rows * k), x = random(rnd, n * k), out = new float[n * rows];
        WeightTensor w = WeightTensor.ofFloats("w", v, rows, k);
        w.matmul(x, n, out, null);
        int m = Math.max(WeightTensor.SMALL_BATCH + 1, 4 * Gemm.MR + 1); // above the small-batch path: the packed GEMM too
        for (int t0 : new int[]{0, n / 2 - 5, n - m}) {
            float[] xs = java.util.Arrays.copyOfRange(x, t0 * k, (t0 + m) * k), small = new float[m * rows];
            w.matmul(xs, m, small, null);
            for (int i = 0; i < m * rows; i++)
                assertEquals(Float.floatToIntBits(small[i]), Float.floatToIntBits(out[t0 * rows + i]), "token " + (t0 + i / rows) + " row " + i % rows);
        }
    }

    /** The weight panel's transpose: the vector gathers put every value where the plain loop does. */
    @Test
    void packPanelEqualsThePlainLoop() {
        Random rnd = new Random(23);
        for (int kl : new int[]{1, 7, 64, 333}) {
            float[] rows = random(rnd, Gemm.NR * kl);
            float[] want = new float[Gemm.NR * kl + 5], got = new float[Gemm.NR * kl + 5];
            ScalarKernels.packPanel(rows, kl, want, 5);
            if (Simd.VECTOR) VectorKernels.packPanel(rows, kl, got, 5);
            else ScalarKernels.packPanel(rows, kl, got, 5);
            assertArrayEquals(want, got, "kl=" + kl);
            for (int j = 0; j < Gemm.NR; j++) assertEquals(rows[j * kl + kl - 1], want[5 + (kl - 1) * Gemm.NR + j]);
        }
    }
}
