package dev.navil4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector API inner loops. Species are static final (a non-constant species costs 3.5–4×, see JAVA-NOTES)
 * and vectors never leave local variables.
 */
public final class VectorKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final int L = F.length();

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
            s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        }
        for (; i <= n - L; i += L)
            s += FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
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
        float s = s0.add(s1).reduceLanes(VectorOperators.ADD);
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
        float s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += seg.get(Convert.LE_FLOAT, byteOff + 4L * i) * x[xo + i];
        return s;
    }
}
