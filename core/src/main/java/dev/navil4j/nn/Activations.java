package dev.navil4j.nn;

import dev.navil4j.tensor.Kernels;

/** Elementwise activations in place over {@code x[0..n)}. */
public final class Activations {
    private Activations() {}

    /** SiLU x·σ(x) (Qwen2/InternLM2 MLP "silu"). */
    public static float silu(float x) { return (float) (x / (1.0 + Math.exp(-x))); }

    /**
     * GELU with the exact erf (torch nn.GELU() default, "gelu" in HF configs). erf comes from
     * {@link #erfTable}: within 1e-11 of {@link #erf}, far below float precision, ~20× faster than the series
     * (a ViT tile evaluates 10⁸ GELUs).
     */
    public static float gelu(float x) { return (float) (0.5 * x * (1.0 + erfTable(x * 0.7071067811865476))); }

    /**
     * GELU in place over x[0..n), parallel for large n (elementwise, so the result does not depend on threads).
     * Vectorized: erf(z) = 1 − t·P(t)·e^(−z²), t = 1/(1 + 0.3275911·|z|) (Abramowitz–Stegun 7.1.26, |error| ≤
     * 1.5e-7 — the float-precision erf that torch's own vectorized CPU GELU evaluates), with the JDK's vector
     * EXP. The scalar {@link #gelu(float)} (table erf, 1e-11) is the reference it is tested against; the table
     * path was 8 % of an InternViT tile.
     */
    public static void gelu(float[] x, int n) {
        dev.navil4j.tensor.Parallel.forRange(n, 1 << 15, (from, to) -> Kernels.gelu(x, from, to));
    }

    /** Table step 1/256 over [0, 6]: cubic Hermite error ≤ h⁴/384·max|erf⁗| ≈ 1e-11. */
    private static final int ERF_STEPS_PER_UNIT = 256, ERF_CELLS = 6 * ERF_STEPS_PER_UNIT;
    private static final double[] ERF_V = new double[ERF_CELLS + 1], ERF_D = new double[ERF_CELLS + 1];
    static {
        for (int i = 0; i <= ERF_CELLS; i++) {
            double x = (double) i / ERF_STEPS_PER_UNIT;
            ERF_V[i] = erf(x);
            ERF_D[i] = 1.1283791670955126 * Math.exp(-x * x); // erf'(x) = 2/√π·e^(−x²), exact
        }
    }

    /** erf(x) by cubic Hermite interpolation of exact values and derivatives (odd symmetry; ±1 beyond 6). */
    public static double erfTable(double x) {
        double ax = Math.abs(x);
        if (!(ax < 6)) return Double.isNaN(x) ? x : Math.signum(x);
        double u = ax * ERF_STEPS_PER_UNIT;
        int i = (int) u;
        double t = u - i, h = 1.0 / ERF_STEPS_PER_UNIT;
        double t2 = t * t, t3 = t2 * t;
        double y = (2 * t3 - 3 * t2 + 1) * ERF_V[i] + (t3 - 2 * t2 + t) * h * ERF_D[i]
                + (-2 * t3 + 3 * t2) * ERF_V[i + 1] + (t3 - t2) * h * ERF_D[i + 1];
        return x < 0 ? -y : y;
    }

    /**
     * h[i] = silu(gate[i])·up[i] (SwiGLU), written into gate. Vectorized with the kernels' own exp (within 2 ulp
     * of Math.exp, the same bits before and after C2; Math.exp per element was ~10 % of a 512-token prefill);
     * {@link #silu} is the scalar reference.
     */
    public static void siluMul(float[] gate, float[] up, int n) {
        dev.navil4j.tensor.Parallel.forRange(n, 1 << 15, (from, to) -> Kernels.siluMul(gate, up, from, to));
    }

    /**
     * erf(x) to ~1e-15: Taylor series for |x| < 2.5, continued fraction for erfc above. Java has no erf;
     * GELU needs one accurate beyond float precision so that ViT MLPs match torch's erf-GELU. The slow
     * reference that {@link #erfTable} is built from and tested against.
     */
    public static double erf(double x) {
        double ax = Math.abs(x);
        if (ax < 2.5) {
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 80; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            return 1.1283791670955126 * sum;
        }
        if (ax > 6) return Math.signum(x);
        // erfc(ax) = exp(-ax²)/√π · 1/(ax + 1/2/(ax + 1/(ax + 3/2/(ax + ...)))) evaluated by modified Lentz
        double tiny = 1e-300, f = ax, c = ax, d = 0;
        for (int k = 1; k < 200; k++) {
            double a = k * 0.5;
            d = ax + a * d;
            if (Math.abs(d) < tiny) d = tiny;
            c = ax + a / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        double erfc = Math.exp(-ax * ax) / (f * 1.7724538509055159);
        return Math.signum(x) * (1 - erfc);
    }
}
