package dev.navil4j.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The kernels' own exp (VectorKernels.exp / ScalarKernels.exp) against Math.exp, and the vector against the scalar. */
class ExpTest {
    static float[] inputs() {
        Random rnd = new Random(11);
        float[] x = new float[200_003];
        int i = 0;
        for (; i < 100_000; i++) x[i] = -87f + (88.73f + 87f) * i / 100_000f;     // the whole range, evenly
        for (; i < 190_000; i++) x[i] = (float) (rnd.nextDouble() * 20 - 16);    // softmax / GELU / SiLU inputs
        float[] special = {0f, -0f, 1f, -1f, 88.72283935546875f, 88.7228394f, 89f, -87f, -87.0001f, -100f, 1e30f, -1e30f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE, -Float.MIN_VALUE};
        for (float s : special) x[i++] = s;
        for (; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 1e-3);
        return x;
    }

    @Test
    void withinTwoUlpOfMathExp() {
        double worst = 0;
        for (float x : inputs()) {
            float got = ScalarKernels.exp(x);
            if (Float.isNaN(x)) { assertTrue(Float.isNaN(got)); continue; }
            if (x < ExpConstants.LOW) { assertEquals(0f, got, "x=" + x); continue; }
            double want = Math.exp(x);
            if (want > Float.MAX_VALUE) { assertEquals(Float.POSITIVE_INFINITY, got, "x=" + x); continue; }
            double ulps = Math.abs(got - want) / Math.ulp((float) want);
            worst = Math.max(worst, ulps);
            assertTrue(ulps <= 2, "exp(" + x + ") = " + got + ", Math.exp " + want + " (" + ulps + " ulp)");
        }
        assertTrue(worst > 0, "compared nothing");
    }

    @Test
    void vectorEqualsScalarBitForBit() {
        if (!Simd.VECTOR) return; // the plain-loop JVM has no vector exp
        float[] x = inputs();
        int lanes = VectorKernels.L;
        float[] got = new float[x.length];
        int i = 0;
        for (; i + lanes <= x.length; i += lanes) VectorKernels.exp(FloatVector.fromArray(VectorKernels.F, x, i)).intoArray(got, i);
        for (int j = 0; j < i; j++)
            assertEquals(Float.floatToIntBits(ScalarKernels.exp(x[j])), Float.floatToIntBits(got[j]), "x=" + x[j]);
    }

    @Test
    void softmaxNumeratorsDoNotDependOnPosition() {
        // expShiftSum: vector body and scalar tail give one element the same value
        Random rnd = new Random(4);
        float[] base = new float[37];
        for (int i = 0; i < base.length; i++) base[i] = (float) rnd.nextGaussian() * 4;
        for (int off = 0; off < 9; off++) {
            float[] a = new float[off + base.length];
            System.arraycopy(base, 0, a, off, base.length);
            Kernels.expShiftSum(a, off, base.length, 1.5f);
            for (int i = 0; i < base.length; i++)
                assertEquals(Float.floatToIntBits(ScalarKernels.exp(base[i] - 1.5f)), Float.floatToIntBits(a[off + i]), "off=" + off + " i=" + i);
        }
    }

    @Test
    void laneSumFollowsItsReferenceOrder() {
        if (!Simd.VECTOR) return;
        Random rnd = new Random(8);
        for (int rep = 0; rep < 1000; rep++) {
            float[] v = new float[VectorKernels.L];
            for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(8) - 4));
            assertEquals(Float.floatToIntBits(LaneSum.reference(v)), Float.floatToIntBits(LaneSum.of(FloatVector.fromArray(VectorKernels.F, v, 0))));
        }
    }
}
