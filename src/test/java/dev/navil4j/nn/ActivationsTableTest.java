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
            // float rounding of the result, plus the table's absolute erf error (1e-11) scaled by x/2
            assertEquals(exact, y[i], Math.ulp((float) exact) + 1e-10 * Math.abs(x[i]), "gelu(" + x[i] + ")");
        }
    }
}
