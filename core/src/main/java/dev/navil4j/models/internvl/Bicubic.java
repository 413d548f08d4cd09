package dev.navil4j.models.internvl;

/**
 * torch.nn.functional.interpolate(mode='bicubic', align_corners=False) on a channels-last grid, as InternViT's
 * _get_pos_embed resamples position embeddings: source = (dst + 0.5)·in/out − 0.5 (not clamped for cubic),
 * index = floor, t = source − index clamped to [0, 1], Keys cubic with A = −0.75, taps clamped to the border.
 */
final class Bicubic {
    private static final double A = -0.75;

    private Bicubic() {}

    /** in [ih, iw, d] → out [oh, ow, d]. */
    static float[] resize(float[] in, int ih, int iw, int d, int oh, int ow) {
        int[] yi = new int[oh * 4], xi = new int[ow * 4];
        float[] yw = new float[oh * 4], xw = new float[ow * 4];
        taps(ih, oh, yi, yw);
        taps(iw, ow, xi, xw);
        float[] out = new float[oh * ow * d];
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int o = (oy * ow + ox) * d;
                for (int a = 0; a < 4; a++) {
                    float wy = yw[oy * 4 + a];
                    int row = yi[oy * 4 + a];
                    for (int b = 0; b < 4; b++) {
                        float w = wy * xw[ox * 4 + b];
                        int s = (row * iw + xi[ox * 4 + b]) * d;
                        for (int c = 0; c < d; c++) out[o + c] += w * in[s + c];
                    }
                }
            }
        return out;
    }

    /** The 4 source indices and weights of each output index along one axis. */
    static void taps(int in, int out, int[] idx, float[] w) {
        float scale = (float) in / out;
        for (int o = 0; o < out; o++) {
            float src = scale * (o + 0.5f) - 0.5f;
            int i0 = Math.min((int) Math.floor(src), in - 1);
            float t = Math.min(Math.max(src - i0, 0f), 1f);
            double[] c = {conv2(t + 1.0), conv1(t), conv1(1.0 - t), conv2(2.0 - t)};
            for (int k = 0; k < 4; k++) {
                idx[o * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), in - 1);
                w[o * 4 + k] = (float) c[k];
            }
        }
    }

    private static double conv1(double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; }

    private static double conv2(double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; }
}
