package dev.navil4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The kernels' entry points: each runs {@link VectorKernels} when {@link Simd#VECTOR} and {@link ScalarKernels}
 * otherwise. This class holds no Vector API code, so a JVM without the incubator module never loads (or fails to
 * verify) one that does; the test of a {@code static final boolean} costs nothing once compiled.
 */
public final class Kernels {
    private Kernels() {}

    private static final boolean V = Simd.VECTOR;

    /**
     * Chunk of {@link #evenOddOrder} / dotBf16EvenOdd: two float vectors' worth of elements, of at most 256 bits
     * (the kernel runs at 256 bits when 512 are chosen, see {@link VectorKernels#dotBf16EvenOdd}).
     */
    public static final int EVEN_ODD_CHUNK = V ? 2 * Math.min(Simd.floatLanes(), 8) : 16;

    /** Σ a[ao+i]·b[bo+i] for i &lt; n. */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return V ? VectorKernels.dot(a, ao, b, bo, n) : ScalarKernels.dot(a, ao, b, bo, n);
    }

    /** max of a[off..off+n) (−∞ for n = 0). */
    public static float max(float[] a, int off, int n) {
        return V ? VectorKernels.max(a, off, n) : ScalarKernels.max(a, off, n);
    }

    /** a[off+i] = exp(a[off+i] − shift) in place; returns their sum (the softmax numerators). */
    public static float expShiftSum(float[] a, int off, int n, float shift) {
        return V ? VectorKernels.expShiftSum(a, off, n, shift) : ScalarKernels.expShiftSum(a, off, n, shift);
    }

    /** y[yo+i] += alpha·x[xo+i]. */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        if (V) VectorKernels.axpy(alpha, x, xo, y, yo, n);
        else ScalarKernels.axpy(alpha, x, xo, y, yo, n);
    }

    /** dst[dOff..dOff+n) = bf16 elements [from, from+n) of seg widened to f32 (exact). */
    public static void bf16ToFloat(MemorySegment seg, long from, float[] dst, int dOff, int n) {
        if (V) VectorKernels.bf16ToFloat(seg, from, dst, dOff, n);
        else ScalarKernels.bf16ToFloat(seg, from, dst, dOff, n);
    }

    /** dst[dOff..dOff+n) = f16 elements starting at byte offset byteOff (a plain loop: it auto-vectorizes to vcvtph2ps). */
    public static void f16ToFloat(MemorySegment seg, long byteOff, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) dst[dOff + i] = Float.float16ToFloat(seg.get(Convert.LE_SHORT, byteOff + 2L * i));
    }

    /** Σ bf16(seg[from+i])·x[xo+i]. */
    public static float dotBf16(MemorySegment seg, long from, float[] x, int xo, int n) {
        return V ? VectorKernels.dotBf16(seg, from, x, xo, n) : ScalarKernels.dotBf16(seg, from, x, xo, n);
    }

    /** Σ f32(seg[from+i])·x[xo+i]. */
    public static float dotF32(MemorySegment seg, long from, float[] x, int xo, int n) {
        return V ? VectorKernels.dotF32(seg, from, x, xo, n) : ScalarKernels.dotF32(seg, from, x, xo, n);
    }

    /** Σ f16(seg[from+i])·x[xo+i]. */
    public static float dotF16(MemorySegment seg, long from, float[] x, int xo, int n) {
        return V ? VectorKernels.dotF16(seg, from, x, xo, n) : ScalarKernels.dotF16(seg, from, x, xo, n);
    }

    /** out[oo+i] = Σ_j f32 W[r0+i, j]·x[xo+j] for i &lt; 4; rows start at byteOff + i·rowBytes. */
    public static void dot4F32(MemorySegment seg, long byteOff, long rowBytes, float[] x, int xo, int n, float[] out, int oo) {
        if (V) VectorKernels.dot4F32(seg, byteOff, rowBytes, x, xo, n, out, oo);
        else ScalarKernels.dot4F32(seg, byteOff, rowBytes, x, xo, n, out, oo);
    }

    /** As {@link #dot4F32} for bf16 rows. */
    public static void dot4Bf16(MemorySegment seg, long byteOff, long rowBytes, float[] x, int xo, int n, float[] out, int oo) {
        if (V) VectorKernels.dot4Bf16(seg, byteOff, rowBytes, x, xo, n, out, oo);
        else ScalarKernels.dot4Bf16(seg, byteOff, rowBytes, x, xo, n, out, oo);
    }

    /**
     * x[xo..xo+n) reordered for {@link #dotBf16EvenOdd}: within each chunk of {@link #EVEN_ODD_CHUNK} elements the
     * even elements, then the odd ones (elements past the last full chunk are copied as they are).
     */
    public static void evenOddOrder(float[] x, int xo, int n, float[] xs) {
        int chunk = EVEN_ODD_CHUNK, h = chunk / 2;
        int c = 0;
        for (; c + chunk <= n; c += chunk)
            for (int j = 0; j < h; j++) { xs[c + j] = x[xo + c + 2 * j]; xs[c + h + j] = x[xo + c + 2 * j + 1]; }
        for (; c < n; c++) xs[c] = x[xo + c];
    }

    /** Σ bf16 row·x for one row, x in {@link #evenOddOrder}. */
    public static float dotBf16EvenOdd(MemorySegment seg, long byteOff, float[] xs, int n) {
        return V ? VectorKernels.dotBf16EvenOdd(seg, byteOff, xs, n) : ScalarKernels.dotBf16EvenOdd(seg, byteOff, xs, n);
    }

    /** out[oo+i] += Σ_j a[ao + i·stride + j]·x[xo+j] for i &lt; 4. */
    public static void dot4(float[] a, int ao, int stride, float[] x, int xo, int n, float[] out, int oo) {
        if (V) VectorKernels.dot4(a, ao, stride, x, xo, n, out, oo);
        else ScalarKernels.dot4(a, ao, stride, x, xo, n, out, oo);
    }

    /** The small-batch GEMV tile, see {@link VectorKernels#dotTile}. */
    public static void dotTile(float[] w, int wo, int ws, int wRows, float[] x, int x0, int xs, int xRows, int n,
                               float[] out, int oo, int os, int or) {
        if (V) VectorKernels.dotTile(w, wo, ws, wRows, x, x0, xs, xRows, n, out, oo, os, or);
        else ScalarKernels.dotTile(w, wo, ws, wRows, x, x0, xs, xRows, n, out, oo, os, or);
    }

    /** gate[i] = silu(gate[i])·up[i] for i in [from, to). */
    public static void siluMul(float[] gate, float[] up, int from, int to) {
        if (V) VectorKernels.siluMul(gate, up, from, to);
        else for (int i = from; i < to; i++) gate[i] = dev.navil4j.nn.Activations.silu(gate[i]) * up[i];
    }

    /** GELU over x[from, to) (vector: float-precision erf; scalar: the table erf). */
    public static void gelu(float[] x, int from, int to) {
        if (V) VectorKernels.gelu(x, from, to);
        else for (int i = from; i < to; i++) x[i] = dev.navil4j.nn.Activations.gelu(x[i]);
    }

    /** Σ a·b in a fixed, JIT-independent order (training). */
    public static float dotFixedOrder(float[] a, int ao, float[] b, int bo, int n) {
        return V ? VectorKernels.dotFixedOrder(a, ao, b, bo, n) : ScalarKernels.dot(a, ao, b, bo, n);
    }

    /** Σ of the f32 lanes of seg[from, to): the read-bandwidth probe (to − from a multiple of 128 bytes). */
    public static float streamSum(MemorySegment seg, long from, long to) {
        return V ? VectorKernels.streamSum(seg, from, to) : ScalarKernels.streamSum(seg, from, to);
    }

    /** 12 chains × iters FMAs of {@link Simd#floatLanes()} lanes each, registers only (the FMA-peak probe). */
    public static float fmaLoop(long iters) {
        return V ? VectorKernels.fmaLoop(iters) : ScalarKernels.fmaLoop(iters);
    }
}
