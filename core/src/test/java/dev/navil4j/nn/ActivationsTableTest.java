package dev.navil4j.nn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The interpolated erf behind GELU against the series/continued-fraction erf, over the whole range. */
class ActivationsTableTest {
    @Test
    void erfTableMatchesSeries() {
        double worst = 0;
        for (int i = -800_000; i <= 800_000; i++) {
            double x = i * 1e-5 + 1.2345e-7;
            worst = Math.max(worst, Math.abs(Activations.erfTable(x) - Activations.erf(x)));
        }
        assertTrue(worst < 1e-10, "max |erfTable - erf| = " + worst);
        assertEquals(1.0, Activations.erfTable(7), 0);
        assertEquals(-1.0, Activations.erfTable(Double.NEGATIVE_INFINITY), 0);
        assertTrue(Double.isNaN(Activations.erfTable(Double.NaN)));
    }

    @Test
    void geluArrayIsElementwiseGelu() {
        float[] x = new float[100_003];
        for (int i = 0; i < x.length; i++) x[i] = (i - 50_000) / 7000f;
        float[] y = x.clone();
        Activations.gelu(y, y.length);
        for (int i = 0; i < x.length; i++) {
            double exact = 0.5 * x[i] * (1 + Activations.erf(x[i] * 0.7071067811865476));
            // the vector body's erf is Abramowitz–Stegun 7.1.26 evaluated in float: 1.5e-7 from the formula plus the
            // float rounding of t, P(t), e^(−z²) and 1 − t·P·e (a few ulps of ~1), ≤ 5e-7 on erf in all, scaled by
            // x/2 (torch's float GELU evaluates the same formula); the scalar table path is far inside that
            assertEquals(exact, y[i], 2 * Math.ulp((float) exact) + 0.5 * 5e-7 * Math.abs(x[i]), "gelu(" + x[i] + ")");
            assertEquals(exact, Activations.gelu(x[i]), Math.ulp((float) exact) + 1e-10 * Math.abs(x[i]), "scalar gelu(" + x[i] + ")");
        }
    }

    @Test
    void vectorSiluMulMatchesDoubleSilu() {
        // odd length: vector body plus scalar tail; range covers exp overflow (−90) and saturation (+90)
        float[] g = new float[70_001], u = new float[g.length];
        for (int i = 0; i < g.length; i++) { g[i] = (i - 35_000) / 389f; u[i] = 0.5f + (i % 7) * 0.25f; }
        float[] h = g.clone();
        Activations.siluMul(h, u, h.length);
        for (int i = 0; i < g.length; i++) {
            double exact = g[i] / (1 + Math.exp(-(double) g[i])) * u[i];
            // vector exp is within ~1 ulp: a few float ulps of relative error in the product, plus underflow near 0
            assertEquals(exact, h[i], 4e-7 * Math.abs(exact) + 1e-30, "x=" + g[i]);
        }
    }

    @Test
    void vectorSoftmaxPiecesMatchScalar() {
        float[] a = new float[1037];
        for (int i = 0; i < a.length; i++) a[i] = (float) Math.sin(i * 0.37) * 9;
        float max = dev.navil4j.tensor.VectorKernels.max(a, 3, 1030);
        float ref = Float.NEGATIVE_INFINITY;
        for (int i = 3; i < 1033; i++) ref = Math.max(ref, a[i]);
        assertEquals(ref, max, 0f);
        float[] e = a.clone();
        float sum = dev.navil4j.tensor.VectorKernels.expShiftSum(e, 3, 1030, max);
        double refSum = 0;
        for (int i = 3; i < 1033; i++) {
            double x = Math.exp(a[i] - max); // the shift is a float subtraction in both
            refSum += x;
            assertEquals(x, e[i], 2e-7 * x + 1e-38, "i=" + i);
        }
        assertEquals(refSum, sum, 1e-6 * refSum);
        assertEquals(a[0], e[0], 0f);
        assertEquals(a[1033], e[1033], 0f);
        assertEquals(Float.NEGATIVE_INFINITY, dev.navil4j.tensor.VectorKernels.max(a, 0, 0));
    }
}
