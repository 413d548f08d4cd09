package dev.navil4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The plain-Java twins of {@link VectorKernels}: what runs when {@link Simd#VECTOR} is false (no Vector API module,
 * or {@code -Dnavil4j.simd=off}), and the readable statement of what each vector kernel computes. One float
 * accumulator, elements in index order; the vector kernels differ from these only in summation order.
 */
public final class ScalarKernels {
    private ScalarKernels() {}

    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    public static float max(float[] a, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, a[off + i]);
        return m;
    }

    public static float expShiftSum(float[] a, int off, int n, float shift) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(a[off + i] - shift);
            a[off + i] = e;
            sum += e;
        }
        return sum;
    }

    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    public static void bf16ToFloat(MemorySegment seg, long from, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) dst[dOff + i] = Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, (from + i) * 2));
    }

    public static float dotBf16(MemorySegment seg, long from, float[] x, int xo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, (from + i) * 2)) * x[xo + i];
        return s;
    }

    public static float dotF32(MemorySegment seg, long from, float[] x, int xo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += seg.get(Convert.LE_FLOAT, (from + i) * 4) * x[xo + i];
        return s;
    }

    public static float dotF16(MemorySegment seg, long from, float[] x, int xo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += Float.float16ToFloat(seg.get(Convert.LE_SHORT, (from + i) * 2)) * x[xo + i];
        return s;
    }

    /** Four f32 rows rowBytes apart (the GEMV's 4-row step). */
    public static void dot4F32(MemorySegment seg, long byteOff, long rowBytes, float[] x, int xo, int n, float[] out, int oo) {
        for (int r = 0; r < 4; r++) out[oo + r] = dotF32(seg, (byteOff + r * rowBytes) / 4, x, xo, n);
    }

    public static void dot4Bf16(MemorySegment seg, long byteOff, long rowBytes, float[] x, int xo, int n, float[] out, int oo) {
        for (int r = 0; r < 4; r++) out[oo + r] = dotBf16(seg, (byteOff + r * rowBytes) / 2, x, xo, n);
    }

    /** One bf16 row against x in {@link Kernels#evenOddOrder}: element c+2j pairs xs[c+j], c+2j+1 pairs xs[c+h+j]. */
    public static float dotBf16EvenOdd(MemorySegment seg, long byteOff, float[] xs, int n) {
        int chunk = Kernels.EVEN_ODD_CHUNK, h = chunk / 2;
        float s = 0;
        int c = 0;
        for (; c + chunk <= n; c += chunk)
            for (int j = 0; j < h; j++) {
                s += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, byteOff + 2L * (c + 2 * j))) * xs[c + j];
                s += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, byteOff + 2L * (c + 2 * j + 1))) * xs[c + h + j];
            }
        for (; c < n; c++) s += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, byteOff + 2L * c)) * xs[c];
        return s;
    }

    /** out[oo+i] += Σ_j a[ao + i·stride + j]·x[xo+j] for i < 4. */
    public static void dot4(float[] a, int ao, int stride, float[] x, int xo, int n, float[] out, int oo) {
        for (int r = 0; r < 4; r++) out[oo + r] += dot(a, ao + r * stride, x, xo, n);
    }

    /** As {@link VectorKernels#dotTile}: every (weight row, activation row) pair one sequential sum. */
    public static void dotTile(float[] w, int wo, int ws, int wRows, float[] x, int x0, int xs, int xRows, int n,
                               float[] out, int oo, int os, int or) {
        for (int i = 0; i < wRows; i++)
            for (int k = 0; k < xRows; k++) out[oo + k * os + i * or] = dot(w, wo + i * ws, x, x0 + k * xs, n);
    }

    /** e^x: {@link VectorKernels#exp}'s sequence in scalar floats (same operations, same rounding). */
    public static float exp(float x) {
        if (x < ExpConstants.LOW) return 0f;
        if (x > ExpConstants.HIGH) return Float.POSITIVE_INFINITY;
        float t = Math.fma(x, ExpConstants.LOG2E, ExpConstants.ROUNDER);
        float n = t - ExpConstants.ROUNDER;
        float r = Math.fma(n, -ExpConstants.LN2_HI, x);
        r = Math.fma(n, -ExpConstants.LN2_LO, r);
        float p = Math.fma(r, ExpConstants.P0, ExpConstants.P1);
        p = Math.fma(p, r, ExpConstants.P2);
        p = Math.fma(p, r, ExpConstants.P3);
        p = Math.fma(p, r, ExpConstants.P4);
        p = Math.fma(p, r, ExpConstants.P5);
        float er = Math.fma(p, r * r, r + 1f);
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ExpConstants.ROUNDER_BITS - 126)) << 23);
        return (er + er) * scale;
    }

    /** pb[off + k·NR + j] = rows[j·kl + k] for j &lt; NR, k &lt; kl: the GEMM weight panel's transpose, plain loops. */
    public static void packPanel(float[] rows, int kl, float[] pb, int off) {
        int nr = Gemm.NR;
        for (int j = 0; j < nr; j++)
            for (int k = 0; k < kl; k++) pb[off + k * nr + j] = rows[j * kl + k];
    }

    /** The GEMM micro-tile (MR × NR, packed panels) as three loops: each element's sum over k, then added to c. */
    public static void gemmFullTile(float[] a, int ao, float[] b, int bo, int kl, float[] c, int co, int ldc) {
        int mr = Gemm.MR, nr = Gemm.NR;
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                float s = 0;
                for (int k = 0; k < kl; k++) s += a[ao + k * mr + i] * b[bo + k * nr + j];
                c[co + i * ldc + j] += s;
            }
    }

    public static float streamSum(MemorySegment seg, long from, long to) {
        float s = 0;
        for (long o = from; o < to; o += 4) s += seg.get(Convert.LE_FLOAT, o);
        return s;
    }

    /** {@link VectorKernels#fmaLoop} on single floats (Math.fma: one vfmadd231ss each once compiled). */
    public static float fmaLoop(long iters) {
        float a = 0.999999f, b = 1e-7f, c0 = 0, c1 = 1, c2 = 2, c3 = 3, c4 = 4, c5 = 5, c6 = 6, c7 = 7, c8 = 8, c9 = 9, c10 = 10, c11 = 11;
        for (long i = 0; i < iters; i++) {
            c0 = Math.fma(c0, a, b); c1 = Math.fma(c1, a, b); c2 = Math.fma(c2, a, b); c3 = Math.fma(c3, a, b);
            c4 = Math.fma(c4, a, b); c5 = Math.fma(c5, a, b); c6 = Math.fma(c6, a, b); c7 = Math.fma(c7, a, b);
            c8 = Math.fma(c8, a, b); c9 = Math.fma(c9, a, b); c10 = Math.fma(c10, a, b); c11 = Math.fma(c11, a, b);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }
}
