package dev.navil4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector API inner loops at the width {@link Simd} chose at start-up ({@link Kernels} is the entry point; it calls
 * these only when {@link Simd#VECTOR}, so this class is never loaded in a JVM without the Vector API). Species are
 * static final (a non-constant species costs 3.5–4×, see JAVA-NOTES) and vectors never leave local variables.
 * Every loop is written in lanes of {@link #L}; nothing assumes 8.
 */
public final class VectorKernels {
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(Simd.SPECIES_BITS));
    /** bf16 rows are widened from shorts at half the float width (S2I doubles the lane size, not the count). */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Simd.SPECIES_BITS / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(Simd.SPECIES_BITS));
    static final int L = F.length();
    /**
     * {@link #dotBf16EvenOdd}'s species: the chosen width, but at most 256 bits. At 512 bits that kernel read
     * 896-column bf16 rows out of DRAM at 7.7 / 7.1 / 6.9 GB/s against 14.3 / 11.4 / 9.0 at 256 (one thread,
     * `bench --kernels`, NAVIL4J_SIMD=512 and 256 alternated, Zen 4) while the 4-row kernel was even.
     */
    static final VectorSpecies<Float> FE = Simd.SPECIES_BITS > 256 ? FloatVector.SPECIES_256 : F;
    static final VectorSpecies<Integer> IE = Simd.SPECIES_BITS > 256 ? IntVector.SPECIES_256 : I;
    static final int LE_LANES = FE.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorKernels() {}

    /** Σ a[ao+i]·b[bo+i] for i < n. */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0;
        if (n >= 4 * L) {
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            for (int bound = n - 4 * L; i <= bound; i += 4 * L) {
                s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
                s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
                s2 = FloatVector.fromArray(F, a, ao + i + 2 * L).fma(FloatVector.fromArray(F, b, bo + i + 2 * L), s2);
                s3 = FloatVector.fromArray(F, a, ao + i + 3 * L).fma(FloatVector.fromArray(F, b, bo + i + 3 * L), s3);
            }
            s = LaneSum.of(s0.add(s1).add(s2.add(s3)));
        }
        for (; i <= n - L; i += L)
            s += LaneSum.of(FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)));
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** max of a[off..off+n) (−∞ for n = 0). */
    public static float max(float[] a, int off, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector vm = FloatVector.fromArray(F, a, off);
            for (i = L; i <= n - L; i += L) vm = vm.max(FloatVector.fromArray(F, a, off + i));
            m = vm.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, a[off + i]);
        return m;
    }

    /**
     * a[off+i] = exp(a[off+i] − shift) in place; returns their sum (the softmax numerators), with {@link #exp}
     * (the tail with its scalar spelling, so an element's value does not depend on where it falls).
     */
    public static float expShiftSum(float[] a, int off, int n, float shift) {
        int i = 0;
        FloatVector vs = FloatVector.zero(F), vshift = FloatVector.broadcast(F, shift);
        for (; i <= n - L; i += L) {
            FloatVector e = exp(FloatVector.fromArray(F, a, off + i).sub(vshift));
            e.intoArray(a, off + i);
            vs = vs.add(e);
        }
        float sum = LaneSum.of(vs);
        for (; i < n; i++) {
            float e = ScalarKernels.exp(a[off + i] - shift);
            a[off + i] = e;
            sum += e;
        }
        return sum;
    }

    /** y[yo+i] += alpha·x[xo+i]. */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(F, alpha);
        for (; i <= n - L; i += L)
            FloatVector.fromArray(F, x, xo + i).fma(va, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /** dst[do..do+n) = bf16 elements [from, from+n) of seg widened to f32 (exact). */
    public static void bf16ToFloat(MemorySegment seg, long from, float[] dst, int dOff, int n) {
        int i = 0;
        long byteOff = from * 2;
        for (; i <= n - L; i += L) {
            ShortVector.fromMemorySegment(S, seg, byteOff + 2L * i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats()
                    .intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] = Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, byteOff + 2L * i));
    }

    /** Σ bf16(seg[from+i])·x[xo+i], widening on the fly (the decode GEMV inner loop). */
    public static float dotBf16(MemorySegment seg, long from, float[] x, int xo, int n) {
        int i = 0;
        long byteOff = from * 2;
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector w0 = ShortVector.fromMemorySegment(S, seg, byteOff + 2L * i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ShortVector.fromMemorySegment(S, seg, byteOff + 2L * (i + L), ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            s0 = w0.fma(FloatVector.fromArray(F, x, xo + i), s0);
            s1 = w1.fma(FloatVector.fromArray(F, x, xo + i + L), s1);
        }
        float s = LaneSum.of(s0.add(s1));
        for (; i < n; i++) s += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, byteOff + 2L * i)) * x[xo + i];
        return s;
    }

    /** Σ f32(seg[from+i])·x[xo+i]. */
    public static float dotF32(MemorySegment seg, long from, float[] x, int xo, int n) {
        int i = 0;
        long byteOff = from * 4;
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
        for (; i <= n - 2 * L; i += 2 * L) {
            s0 = FloatVector.fromMemorySegment(F, seg, byteOff + 4L * i, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, xo + i), s0);
            s1 = FloatVector.fromMemorySegment(F, seg, byteOff + 4L * (i + L), ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, xo + i + L), s1);
        }
        float s = LaneSum.of(s0.add(s1));
        for (; i < n; i++) s += seg.get(Convert.LE_FLOAT, byteOff + 4L * i) * x[xo + i];
        return s;
    }

    // ---------------------------------------------------------------------------------------------
    // GEMV kernels (decode, n = 1): four weight rows at a time share every activation load, two
    // accumulators per row (8 live ymm registers) hide the FMA latency. Rows are rowBytes apart.
    // ---------------------------------------------------------------------------------------------

    /** out[oo+i] = Σ_j f32 W[r0+i, j]·x[xo+j] for i < 4; W rows start at byteOff + i·rowBytes. */
    public static void dot4F32(MemorySegment seg, long byteOff, long rowBytes, float[] x, int xo, int n, float[] out, int oo) {
        long o0 = byteOff, o1 = byteOff + rowBytes, o2 = byteOff + 2 * rowBytes, o3 = byteOff + 3 * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(F, x, xo + i), x1 = FloatVector.fromArray(F, x, xo + i + L);
            long p = 4L * i, q = 4L * (i + L);
            a0 = FloatVector.fromMemorySegment(F, seg, o0 + p, LE).fma(x0, a0);
            a1 = FloatVector.fromMemorySegment(F, seg, o1 + p, LE).fma(x0, a1);
            a2 = FloatVector.fromMemorySegment(F, seg, o2 + p, LE).fma(x0, a2);
            a3 = FloatVector.fromMemorySegment(F, seg, o3 + p, LE).fma(x0, a3);
            b0 = FloatVector.fromMemorySegment(F, seg, o0 + q, LE).fma(x1, b0);
            b1 = FloatVector.fromMemorySegment(F, seg, o1 + q, LE).fma(x1, b1);
            b2 = FloatVector.fromMemorySegment(F, seg, o2 + q, LE).fma(x1, b2);
            b3 = FloatVector.fromMemorySegment(F, seg, o3 + q, LE).fma(x1, b3);
        }
        float s0 = LaneSum.of(a0.add(b0)), s1 = LaneSum.of(a1.add(b1));
        float s2 = LaneSum.of(a2.add(b2)), s3 = LaneSum.of(a3.add(b3));
        for (; i < n; i++) {
            float xv = x[xo + i];
            long p = 4L * i;
            s0 += seg.get(Convert.LE_FLOAT, o0 + p) * xv;
            s1 += seg.get(Convert.LE_FLOAT, o1 + p) * xv;
            s2 += seg.get(Convert.LE_FLOAT, o2 + p) * xv;
            s3 += seg.get(Convert.LE_FLOAT, o3 + p) * xv;
        }
        out[oo] = s0; out[oo + 1] = s1; out[oo + 2] = s2; out[oo + 3] = s3;
    }

    /**
     * As {@link #dot4F32} for bf16 rows, widened in registers (weights never inflated in memory): a bf16 is
     * the top half of an f32, so widening is a shift. Written out inline: vector-returning helpers that the
     * JIT does not inline box their results.
     */
    public static void dot4Bf16(MemorySegment seg, long byteOff, long rowBytes, float[] x, int xo, int n, float[] out, int oo) {
        long o0 = byteOff, o1 = byteOff + rowBytes, o2 = byteOff + 2 * rowBytes, o3 = byteOff + 3 * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(F, x, xo + i), x1 = FloatVector.fromArray(F, x, xo + i + L);
            long p = 2L * i, q = 2L * (i + L);
            a0 = ShortVector.fromMemorySegment(S, seg, o0 + p, LE).convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0);
            a1 = ShortVector.fromMemorySegment(S, seg, o1 + p, LE).convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a1);
            a2 = ShortVector.fromMemorySegment(S, seg, o2 + p, LE).convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a2);
            a3 = ShortVector.fromMemorySegment(S, seg, o3 + p, LE).convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a3);
            b0 = ShortVector.fromMemorySegment(S, seg, o0 + q, LE).convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, b0);
            b1 = ShortVector.fromMemorySegment(S, seg, o1 + q, LE).convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, b1);
            b2 = ShortVector.fromMemorySegment(S, seg, o2 + q, LE).convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, b2);
            b3 = ShortVector.fromMemorySegment(S, seg, o3 + q, LE).convertShape(VectorOperators.S2I, I, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, b3);
        }
        float s0 = LaneSum.of(a0.add(b0)), s1 = LaneSum.of(a1.add(b1));
        float s2 = LaneSum.of(a2.add(b2)), s3 = LaneSum.of(a3.add(b3));
        for (; i < n; i++) {
            float xv = x[xo + i];
            long p = 2L * i;
            s0 += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, o0 + p)) * xv;
            s1 += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, o1 + p)) * xv;
            s2 += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, o2 + p)) * xv;
            s3 += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, o3 + p)) * xv;
        }
        out[oo] = s0; out[oo + 1] = s1; out[oo + 2] = s2; out[oo + 3] = s3;
    }

    /**
     * Σ bf16 row·x for one row read as a single sequential stream (short rows: the hardware prefetcher
     * streams one row after the other, where four interleaved short rows kept it re-training; measured
     * 14 vs 10 GB/s per thread on 896-column rows out of DRAM). The row is loaded as 32-bit lanes that hold
     * two bf16 each: the low one widens with a shift, the high one with a mask — no lane conversion — so x
     * comes in {@link Kernels#evenOddOrder} (chunks of 2L: the L even elements, then the L odd ones; L of at most 8, see
     * {@link #FE}).
     */
    public static float dotBf16EvenOdd(MemorySegment seg, long byteOff, float[] xs, int n) {
        final int l = LE_LANES;
        FloatVector a0 = FloatVector.zero(FE), b0 = FloatVector.zero(FE), a1 = FloatVector.zero(FE), b1 = FloatVector.zero(FE);
        int i = 0;
        // one int lane holds two bf16: a chunk of 2l elements is one l-lane int vector, 4l bytes
        for (; i <= n - 4 * l; i += 4 * l) {
            long p = byteOff + 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(IE, seg, p, LE);
            IntVector v1 = IntVector.fromMemorySegment(IE, seg, p + 4L * l, LE);
            a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(FE, xs, i), a0);
            b0 = v0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(FE, xs, i + l), b0);
            a1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(FE, xs, i + 2 * l), a1);
            b1 = v1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(FE, xs, i + 3 * l), b1);
        }
        if (i <= n - 2 * l) {
            IntVector v0 = IntVector.fromMemorySegment(IE, seg, byteOff + 2L * i, LE);
            a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(FE, xs, i), a0);
            b0 = v0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(FE, xs, i + l), b0);
            i += 2 * l;
        }
        float s = LaneSum.of(a0.add(b0).add(a1.add(b1)));
        for (; i < n; i++) s += Convert.bf16ToFloat(seg.get(Convert.LE_SHORT, byteOff + 2L * i)) * xs[i];
        return s;
    }

    /** out[oo+i] = Σ_j a[ao + i·stride + j]·x[xo+j] for i < 4 (f32 rows on the heap, e.g. widened f16 chunks). */
    public static void dot4(float[] a, int ao, int stride, float[] x, int xo, int n, float[] out, int oo) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + i);
            a0 = FloatVector.fromArray(F, a, ao + i).fma(xv, a0);
            a1 = FloatVector.fromArray(F, a, ao + stride + i).fma(xv, a1);
            a2 = FloatVector.fromArray(F, a, ao + 2 * stride + i).fma(xv, a2);
            a3 = FloatVector.fromArray(F, a, ao + 3 * stride + i).fma(xv, a3);
        }
        float s0 = LaneSum.of(a0), s1 = LaneSum.of(a1);
        float s2 = LaneSum.of(a2), s3 = LaneSum.of(a3);
        for (; i < n; i++) {
            float xv = x[xo + i];
            s0 += a[ao + i] * xv; s1 += a[ao + stride + i] * xv; s2 += a[ao + 2 * stride + i] * xv; s3 += a[ao + 3 * stride + i] * xv;
        }
        out[oo] += s0; out[oo + 1] += s1; out[oo + 2] += s2; out[oo + 3] += s3;
    }

    /** Σ f16(seg[from+i])·x[xo+i], widening chunk by chunk on the heap. */
    public static float dotF16(MemorySegment seg, long from, float[] x, int xo, int n) {
        float[] buf = new float[Math.min(n, 512)];
        float s = 0;
        for (int c = 0; c < n; c += buf.length) {
            int len = Math.min(buf.length, n - c);
            Kernels.f16ToFloat(seg, (from + c) * 2, buf, 0, len);
            s += dot(buf, 0, x, xo + c, len);
        }
        return s;
    }

    // ---------------------------------------------------------------------------------------------
    // Small-batch GEMV (batched decode, 2..8 rows): two widened weight rows (in L1) against four activation
    // rows at a time — 8 accumulators, every weight and activation vector loaded once per 8 FMAs. Each
    // (weight row, activation row) pair is summed by one accumulator in the same order in every code path,
    // so a row's result never depends on its neighbours in the batch.
    // ---------------------------------------------------------------------------------------------

    /**
     * out[oo + k·os + i·or] = Σ_j w[wo + i·ws + j]·x[x0 + k·xs + j] for weight rows i < wRows (1..2) and activation
     * rows k < xRows (1..4).
     */
    public static void dotTile(float[] w, int wo, int ws, int wRows, float[] x, int x0, int xs, int xRows, int n,
                               float[] out, int oo, int os, int or) {
        if (wRows != 2 || xRows != 4) { // an odd last weight row (or a test): the same per-pair order, one chain at a time
            for (int i = 0; i < wRows; i++)
                for (int k = 0; k < xRows; k++) out[oo + k * os + i * or] = dot1(w, wo + i * ws, x, x0 + k * xs, n);
            return;
        }
        int w1 = wo + ws, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector u = FloatVector.fromArray(F, w, wo + i), v = FloatVector.fromArray(F, w, w1 + i);
            FloatVector y0 = FloatVector.fromArray(F, x, x0 + i), y1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector y2 = FloatVector.fromArray(F, x, x2 + i), y3 = FloatVector.fromArray(F, x, x3 + i);
            a0 = u.fma(y0, a0); a1 = u.fma(y1, a1); a2 = u.fma(y2, a2); a3 = u.fma(y3, a3);
            b0 = v.fma(y0, b0); b1 = v.fma(y1, b1); b2 = v.fma(y2, b2); b3 = v.fma(y3, b3);
        }
        float s0 = hsum(a0), s1 = hsum(a1);
        float s2 = hsum(a2), s3 = hsum(a3);
        float t0 = hsum(b0), t1 = hsum(b1);
        float t2 = hsum(b2), t3 = hsum(b3);
        for (; i < n; i++) {
            float p = w[wo + i], q = w[w1 + i];
            s0 += p * x[x0 + i]; s1 += p * x[x1 + i]; s2 += p * x[x2 + i]; s3 += p * x[x3 + i];
            t0 += q * x[x0 + i]; t1 += q * x[x1 + i]; t2 += q * x[x2 + i]; t3 += q * x[x3 + i];
        }
        out[oo] = s0; out[oo + os] = s1; out[oo + 2 * os] = s2; out[oo + 3 * os] = s3;
        out[oo + or] = t0; out[oo + or + os] = t1; out[oo + or + 2 * os] = t2; out[oo + or + 3 * os] = t3;
    }

    /**
     * The lanes of v summed left to right in scalar floats. {@code reduceLanes(ADD)} sums in one order in the Vector
     * API's Java fallback (interpreter, C1) and in another once C2 intrinsifies it, so the same call could change in
     * the last bit when the method got compiled; the small-batch kernels promise a row's result independent of its
     * neighbours and of the JIT, so they reduce this way.
     */
    static float hsum(FloatVector v) {
        float s = v.lane(0);
        for (int i = 1; i < L; i++) s += v.lane(i);
        return s;
    }

    /** One pair of {@link #dotTile}, summed in exactly its order (one accumulator, lanes reduced, then the tail). */
    static float dot1(float[] w, int wo, float[] x, int xo, int n) {
        FloatVector a = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) a = FloatVector.fromArray(F, w, wo + i).fma(FloatVector.fromArray(F, x, xo + i), a);
        float s = hsum(a);
        for (; i < n; i++) s += w[wo + i] * x[xo + i];
        return s;
    }

    /** The plain reference of {@link #dotTile}: double-accumulated dots. */
    public static void dotTileReference(float[] w, int wo, int ws, int wRows, float[] x, int x0, int xs, int xRows, int n,
                                        float[] out, int oo, int os, int or) {
        for (int r = 0; r < wRows; r++)
            for (int k = 0; k < xRows; k++) {
                double sum = 0;
                for (int j = 0; j < n; j++) sum += (double) w[wo + r * ws + j] * x[x0 + k * xs + j];
                out[oo + k * os + r * or] = (float) sum;
            }
    }

    // ---------------------------------------------------------------------------------------------
    // The GEMM micro-kernel (see Gemm): MR = 6 tokens × NR = 2L output rows, 12 accumulators + 2 weight
    // vectors + 1 broadcast (15 of AVX2's 16 ymm registers; AVX-512 and NEON have 32).
    // ---------------------------------------------------------------------------------------------

    static final int MR = Gemm.MR, NR = 2 * L;

    /**
     * The weight panel's transpose: pb[off + k·NR + j] = rows[j·kl + k] for j &lt; NR, k &lt; kl (rows: NR row slices of
     * kl floats, back to back). Per k, two gathers (one per half of the panel, index map j·kl) and two contiguous
     * stores; {@link ScalarKernels#packPanel} is the plain loop. The scalar transpose was ~7 % of an InternViT tile
     * at 512 bits (JFR), a strided store per element.
     */
    static void packPanel(float[] rows, int kl, float[] pb, int off) {
        int[] idx = new int[NR];
        for (int j = 0; j < NR; j++) idx[j] = j * kl;
        for (int k = 0; k < kl; k++) {
            FloatVector.fromArray(F, rows, k, idx, 0).intoArray(pb, off + k * NR);
            FloatVector.fromArray(F, rows, k, idx, L).intoArray(pb, off + k * NR + L);
        }
    }

    /** c[co + i·ldc + j] += Σ_k a[ao + MR·k + i]·b[bo + NR·k + j] for a full MR × NR tile. */
    static void gemmFullTile(float[] a, int ao, float[] b, int bo, int kl, float[] c, int co, int ldc) {
        if (MR == 12) gemmFullTile12(a, ao, b, bo, kl, c, co, ldc);
        else gemmFullTile6(a, ao, b, bo, kl, c, co, ldc);
    }

    /** The 6 × NR tile: 12 accumulators + 2 weight vectors + 1 broadcast, 15 of AVX2's 16 registers. */
    private static void gemmFullTile6(float[] a, int ao, float[] b, int bo, int kl, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F), c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        // the B index is the loop variable itself: C2 eliminates the array range checks of this form
        for (int bi = bo, ai = ao, bEnd = bo + kl * NR; bi < bEnd; bi += NR, ai += MR) {
            FloatVector b0 = FloatVector.fromArray(F, b, bi), b1 = FloatVector.fromArray(F, b, bi + L);
            FloatVector a0 = FloatVector.broadcast(F, a[ai]);
            c00 = b0.fma(a0, c00); c01 = b1.fma(a0, c01);
            FloatVector a1 = FloatVector.broadcast(F, a[ai + 1]);
            c10 = b0.fma(a1, c10); c11 = b1.fma(a1, c11);
            FloatVector a2 = FloatVector.broadcast(F, a[ai + 2]);
            c20 = b0.fma(a2, c20); c21 = b1.fma(a2, c21);
            FloatVector a3 = FloatVector.broadcast(F, a[ai + 3]);
            c30 = b0.fma(a3, c30); c31 = b1.fma(a3, c31);
            FloatVector a4 = FloatVector.broadcast(F, a[ai + 4]);
            c40 = b0.fma(a4, c40); c41 = b1.fma(a4, c41);
            FloatVector a5 = FloatVector.broadcast(F, a[ai + 5]);
            c50 = b0.fma(a5, c50); c51 = b1.fma(a5, c51);
        }
        // written out, not through a helper taking vectors: one the JIT declines to inline boxes them (JAVA-NOTES)
        c00.add(FloatVector.fromArray(F, c, co)).intoArray(c, co);
        c01.add(FloatVector.fromArray(F, c, co + L)).intoArray(c, co + L);
        int o = co + ldc;
        c10.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c11.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c20.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c21.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c30.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c31.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c40.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c41.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c50.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c51.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
    }

    /**
     * The 12 × NR tile for 32-register ISAs (AVX-512): 24 accumulators + 2 weight vectors + 1 broadcast. Per k, 2
     * weight loads feed 24 FMAs (the 6-row tile: 12), so a KC-deep panel streaming from L2 keeps the FMA pipes busy.
     * Each element's sum over k runs in the same order as in the 6-row tile (results are bit-identical); only the
     * number of tokens per C tile differs.
     */
    private static void gemmFullTile12(float[] a, int ao, float[] b, int bo, int kl, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F), c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F), c70 = FloatVector.zero(F), c71 = FloatVector.zero(F);
        FloatVector c80 = FloatVector.zero(F), c81 = FloatVector.zero(F), c90 = FloatVector.zero(F), c91 = FloatVector.zero(F);
        FloatVector ca0 = FloatVector.zero(F), ca1 = FloatVector.zero(F), cb0 = FloatVector.zero(F), cb1 = FloatVector.zero(F);
        for (int bi = bo, ai = ao, bEnd = bo + kl * NR; bi < bEnd; bi += NR, ai += MR) {
            FloatVector b0 = FloatVector.fromArray(F, b, bi), b1 = FloatVector.fromArray(F, b, bi + L);
            FloatVector x = FloatVector.broadcast(F, a[ai]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, a[ai + 1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, a[ai + 2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, a[ai + 3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, a[ai + 4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, a[ai + 5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(F, a[ai + 6]);
            c60 = b0.fma(x, c60); c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(F, a[ai + 7]);
            c70 = b0.fma(x, c70); c71 = b1.fma(x, c71);
            x = FloatVector.broadcast(F, a[ai + 8]);
            c80 = b0.fma(x, c80); c81 = b1.fma(x, c81);
            x = FloatVector.broadcast(F, a[ai + 9]);
            c90 = b0.fma(x, c90); c91 = b1.fma(x, c91);
            x = FloatVector.broadcast(F, a[ai + 10]);
            ca0 = b0.fma(x, ca0); ca1 = b1.fma(x, ca1);
            x = FloatVector.broadcast(F, a[ai + 11]);
            cb0 = b0.fma(x, cb0); cb1 = b1.fma(x, cb1);
        }
        int o = co;
        c00.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c01.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c10.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c11.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c20.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c21.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c30.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c31.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c40.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c41.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c50.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c51.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c60.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c61.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c70.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c71.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c80.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c81.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        c90.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c91.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        ca0.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        ca1.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        o += ldc;
        cb0.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        cb1.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
    }


    /**
     * e^x per lane, written out in lane-wise adds, multiplies and FMAs so that it rounds the same in C2 and in the
     * Vector API's Java fallback: the JDK's {@code lanewise(EXP)} is SVML in C2 but {@code Math.exp} per lane
     * before the caller is compiled, so a softmax gave results 1 ulp apart depending on the JIT's timing (three
     * fresh JVMs, three bit patterns of one attention). Cody–Waite reduction x = n·ln2 + r (n by the 1.5·2^23
     * rounding trick, ln2 in two parts), e^r = 1 + r + r²·P(r) with the Cephes expf minimax P (|r| ≤ ln2/2),
     * scaled by 2^(n−1)·2 so that n = 128 still rounds to the largest floats. Within 2 ulp of Math.exp on
     * [−86.5, 88.72] (ExpTest); below −86.5 (e^x &lt; 2.7e-38) 0, above 88.7228 +∞, NaN stays NaN.
     * {@link ScalarKernels#exp} is the same sequence in scalar floats (bit-identical, ExpTest).
     */
    static FloatVector exp(FloatVector x) {
        FloatVector t = x.fma(FloatVector.broadcast(F, ExpConstants.LOG2E), FloatVector.broadcast(F, ExpConstants.ROUNDER));
        FloatVector n = t.sub(ExpConstants.ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -ExpConstants.LN2_HI), x);
        r = n.fma(FloatVector.broadcast(F, -ExpConstants.LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(F, ExpConstants.P0), FloatVector.broadcast(F, ExpConstants.P1));
        p = p.fma(r, FloatVector.broadcast(F, ExpConstants.P2));
        p = p.fma(r, FloatVector.broadcast(F, ExpConstants.P3));
        p = p.fma(r, FloatVector.broadcast(F, ExpConstants.P4));
        p = p.fma(r, FloatVector.broadcast(F, ExpConstants.P5));
        FloatVector er = p.fma(r.mul(r), r.add(1f));
        // t's low mantissa bits hold n + 2^22 + 2^23 − 2^23·1.5…: bits − ROUNDER_BITS = n; 2^(n−1) = (n + 126) << 23
        FloatVector scale = t.reinterpretAsInts().sub(ExpConstants.ROUNDER_BITS - 126).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector e = er.add(er).mul(scale);
        return e.blend(0f, x.lt(ExpConstants.LOW)).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, ExpConstants.HIGH));
    }

    // ---------------------------------------------------------------------------------------------
    // Elementwise activations (Activations holds the math and the scalar references)
    // ---------------------------------------------------------------------------------------------

    /** gate[i] = silu(gate[i])·up[i] for i in [from, to) with {@link #exp}. */
    public static void siluMul(float[] gate, float[] up, int from, int to) {
        int i = from;
        var one = FloatVector.broadcast(F, 1f);
        for (; i <= to - L; i += L) {
            var g = FloatVector.fromArray(F, gate, i);
            var e = exp(g.neg());
            g.div(e.add(one)).mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < to; i++) gate[i] = dev.navil4j.nn.Activations.silu(gate[i]) * up[i];
    }

    /**
     * GELU over x[from, to): erf(z) = 1 − t·P(t)·e^(−z²), t = 1/(1 + 0.3275911·|z|) (Abramowitz–Stegun 7.1.26,
     * |error| ≤ 1.5e-7, the float-precision erf torch's vectorized CPU GELU evaluates), with {@link #exp}.
     */
    public static void gelu(float[] x, int from, int to) {
        var one = FloatVector.broadcast(F, 1f);
        int i = from;
        for (; i <= to - L; i += L) {
            var v = FloatVector.fromArray(F, x, i);
            var z = v.mul(0.70710678f);
            var a = z.abs();
            var t = one.div(a.fma(FloatVector.broadcast(F, 0.3275911f), one));
            var p = t.fma(FloatVector.broadcast(F, 1.061405429f), FloatVector.broadcast(F, -1.453152027f));
            p = p.fma(t, FloatVector.broadcast(F, 1.421413741f));
            p = p.fma(t, FloatVector.broadcast(F, -0.284496736f));
            p = p.fma(t, FloatVector.broadcast(F, 0.254829592f)).mul(t);
            var erfAbs = one.sub(p.mul(exp(a.mul(a).neg())));
            var erf = erfAbs.blend(erfAbs.neg(), z.lt(0f));
            v.mul(0.5f).mul(one.add(erf)).intoArray(x, i);
        }
        for (; i < to; i++) x[i] = dev.navil4j.nn.Activations.gelu(x[i]);
    }

    /**
     * Σ a[ao+i]·b[bo+i] in a fixed order (training): FMAs into 4 accumulators, then the lanes added one by one.
     * reduceLanes(ADD) may add lanes in another order once C2 intrinsifies it, so a JIT-warm and a cold JVM would
     * round differently — and a resumed training run must repeat an uninterrupted one bit for bit.
     */
    public static float dotFixedOrder(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        for (int bound = n - 4 * L; i <= bound; i += 4 * L) {
            s0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s0);
            s1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), s1);
            s2 = FloatVector.fromArray(F, a, ao + i + 2 * L).fma(FloatVector.fromArray(F, b, bo + i + 2 * L), s2);
            s3 = FloatVector.fromArray(F, a, ao + i + 3 * L).fma(FloatVector.fromArray(F, b, bo + i + 3 * L), s3);
        }
        FloatVector s = s0.add(s1).add(s2.add(s3));
        for (; i <= n - L; i += L) s = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), s);
        float r = 0;
        for (int k = 0; k < L; k++) r += s.lane(k);
        for (; i < n; i++) r += a[ao + i] * b[bo + i];
        return r;
    }

    /** Σ of the f32 lanes of seg[from, to) (to − from a multiple of 16L bytes): the read-bandwidth probe's loop. */
    public static float streamSum(MemorySegment seg, long from, long to) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        long step = 4L * L;
        for (long o = from; o < to; o += 4 * step) {
            s0 = s0.add(FloatVector.fromMemorySegment(F, seg, o, LE));
            s1 = s1.add(FloatVector.fromMemorySegment(F, seg, o + step, LE));
            s2 = s2.add(FloatVector.fromMemorySegment(F, seg, o + 2 * step, LE));
            s3 = s3.add(FloatVector.fromMemorySegment(F, seg, o + 3 * step, LE));
        }
        return LaneSum.of(s0.add(s1).add(s2.add(s3)));
    }

    /**
     * The FMA peak probe: 12 independent accumulator chains (≥ latency × pipes on current x86 and ARM cores) of
     * {@code iters} FMAs each, on registers only. Returns a value that depends on every FMA so none is removed.
     */
    public static float fmaLoop(long iters) {
        FloatVector a = FloatVector.broadcast(F, 0.999999f), b = FloatVector.broadcast(F, 1e-7f);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.broadcast(F, 1), c2 = FloatVector.broadcast(F, 2), c3 = FloatVector.broadcast(F, 3);
        FloatVector c4 = FloatVector.broadcast(F, 4), c5 = FloatVector.broadcast(F, 5), c6 = FloatVector.broadcast(F, 6), c7 = FloatVector.broadcast(F, 7);
        FloatVector c8 = FloatVector.broadcast(F, 8), c9 = FloatVector.broadcast(F, 9), c10 = FloatVector.broadcast(F, 10), c11 = FloatVector.broadcast(F, 11);
        for (long i = 0; i < iters; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return LaneSum.of(c0.add(c1).add(c2.add(c3)).add(c4.add(c5).add(c6.add(c7))).add(c8.add(c9).add(c10.add(c11))));
    }
}
