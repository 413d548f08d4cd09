package dev.navil4j.nn;

/** Normalizations in f32 over the last dimension of row-major [n, d] activations. */
public final class Norms {
    private Norms() {}

    /**
     * RMSNorm as Qwen2/InternLM2/InternRMSNorm: x·rsqrt(mean(x²)+eps)·w, accumulated in f32 like torch's
     * {@code hidden.pow(2).mean(-1)} (sum then divide). {@code out} may alias {@code x}.
     */
    public static void rmsNorm(float[] x, int xo, float[] out, int oo, int n, int d, float[] w, float eps) {
        for (int t = 0; t < n; t++) {
            int a = xo + t * d, b = oo + t * d;
            double ss = 0;
            for (int j = 0; j < d; j++) ss += x[a + j] * x[a + j];
            float inv = (float) (1.0 / Math.sqrt((float) (ss / d) + eps));
            for (int j = 0; j < d; j++) out[b + j] = w[j] * (x[a + j] * inv);
        }
    }

    public static void rmsNorm(float[] x, float[] out, int n, int d, float[] w, float eps) {
        rmsNorm(x, 0, out, 0, n, d, w, eps);
    }

    /** LayerNorm with weight and bias (biased variance, as torch). {@code out} may alias {@code x}. */
    public static void layerNorm(float[] x, float[] out, int n, int d, float[] w, float[] b, float eps) {
        for (int t = 0; t < n; t++) {
            int a = t * d;
            double mean = 0;
            for (int j = 0; j < d; j++) mean += x[a + j];
            mean /= d;
            double var = 0;
            for (int j = 0; j < d; j++) { double c = x[a + j] - mean; var += c * c; }
            var /= d;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            float m = (float) mean;
            for (int j = 0; j < d; j++) out[a + j] = (x[a + j] - m) * inv * w[j] + (b == null ? 0f : b[j]);
        }
    }
}
