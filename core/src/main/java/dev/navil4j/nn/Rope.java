package dev.navil4j.nn;

/**
 * 1-D rotary position embedding with the rotate_half pairing (dims k and k + d/2), as Qwen2, Qwen3 and
 * InternLM2 apply it. inv_freq is computed in f32 like transformers ({@code 1/base^(arange(0,d,2)/d)}),
 * angles as f32 products, cos/sin rounded to f32.
 * <p>Dynamic NTK scaling (rope_scaling type "dynamic") changes the base only once the sequence exceeds
 * {@code maxPositions}, as transformers' dynamic rope does.
 */
public final class Rope {
    public final int rotaryDim;
    private final double base;
    private final double dynamicFactor;
    private final int maxPositions;

    public Rope(int rotaryDim, double base) { this(rotaryDim, base, 0, Integer.MAX_VALUE); }

    public Rope(int rotaryDim, double base, double dynamicFactor, int maxPositions) {
        this.rotaryDim = rotaryDim;
        this.base = base;
        this.dynamicFactor = dynamicFactor;
        this.maxPositions = maxPositions;
    }

    /** inv_freq for a sequence currently {@code seqLen} long. */
    public float[] invFreq(int seqLen) {
        double b = base;
        if (dynamicFactor > 0 && seqLen > maxPositions) {
            b = base * Math.pow(dynamicFactor * seqLen / maxPositions - (dynamicFactor - 1), rotaryDim / (rotaryDim - 2.0));
        }
        float[] inv = new float[rotaryDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float expo = (float) (2 * i) / rotaryDim;
            inv[i] = (float) (1.0 / Math.pow((float) b, expo));
        }
        return inv;
    }

    /**
     * Rotates {@code heads} vectors of size headDim (first rotaryDim dims) of each of n tokens in place.
     * x is [n, heads·headDim]; token t sits at position positions[t]. {@code seqLen} picks the dynamic base.
     */
    public void apply(float[] x, int n, int heads, int headDim, int[] positions, int seqLen) {
        apply(x, 0, n, heads, headDim, positions, 0, seqLen);
    }

    /** As {@link #apply(float[], int, int, int, int[], int)} on rows [row0, row0 + n) of x, at positions[posOff + t]. */
    public void apply(float[] x, int row0, int n, int heads, int headDim, int[] positions, int posOff, int seqLen) {
        float[] inv = invFreq(seqLen);
        int half = rotaryDim / 2;
        float[] cos = new float[half], sin = new float[half];
        for (int t = 0; t < n; t++) {
            float p = positions[posOff + t];
            for (int i = 0; i < half; i++) {
                float ang = p * inv[i];
                cos[i] = (float) Math.cos(ang);
                sin[i] = (float) Math.sin(ang);
            }
            for (int h = 0; h < heads; h++) rotateHalf(x, (row0 + t) * heads * headDim + h * headDim, cos, sin, half);
        }
    }

    /** x[o+i], x[o+i+half] ← (x1·cos − x2·sin, x2·cos + x1·sin). */
    public static void rotateHalf(float[] x, int o, float[] cos, float[] sin, int half) {
        for (int i = 0; i < half; i++) {
            float a = x[o + i], b = x[o + i + half];
            x[o + i] = a * cos[i] - b * sin[i];
            x[o + i + half] = b * cos[i] + a * sin[i];
        }
    }
}
