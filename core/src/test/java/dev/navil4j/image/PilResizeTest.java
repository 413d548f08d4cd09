package dev.navil4j.image;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PilResize against an independent double-precision computation of the same separable filter
 * (horizontal result clamped to 0..255 as Pillow stores it in uint8): the exact result differs from
 * the double one only by the two 8-bit roundings (intermediate, ≤ 0.5 × Σ|k| ≈ 0.63, and final, ≤ 0.5)
 * and the fixed-point coefficients, so it must stay within 1.2 uint8 steps everywhere (asserted);
 * the fixtures pin the bits (PreprocessCases, exact).
 */
class PilResizeTest {
    private static RgbImage random(int w, int h, long seed) {
        byte[] b = new byte[w * h * 3];
        new Random(seed).nextBytes(b);
        return new RgbImage(w, h, b);
    }

    /** Direct evaluation: out(x, y) = Σ ky(j) Σ kx(i) in(i, j) with Pillow's kernel definition, in double, no rounding. */
    private static double reference(RgbImage in, int ow, int oh, PilResize.Filter f, int x, int y, int c) {
        double[] kx = weights(in.width(), ow, f, x), ky = weights(in.height(), oh, f, y);
        double s = 0;
        for (int j = 0; j < in.height(); j++) {
            if (ky[j] == 0) continue;
            double row = 0;
            for (int i = 0; i < in.width(); i++) row += kx[i] * in.get(i, j, c);
            // the horizontal pass result is stored as uint8: clamped (its rounding is the tolerance)
            if (in.width() != ow) row = Math.max(0, Math.min(255, row));
            s += ky[j] * row;
        }
        return s;
    }

    private static double[] weights(int inSize, int outSize, PilResize.Filter f, int o) {
        // the kernel is zero outside its (scaled) support, so weighting every input pixel is equivalent
        double scale = (double) inSize / outSize, fs = Math.max(1, scale);
        double center = (o + 0.5) * scale;
        double[] w = new double[inSize];
        double sum = 0;
        for (int i = 0; i < inSize; i++) {
            w[i] = f.eval((i + 0.5 - center) / fs);
            sum += w[i];
        }
        for (int i = 0; i < inSize; i++) w[i] /= sum;
        return w;
    }

    @Test
    void withinOneStepOfDoublePrecisionReference() {
        int[][] sizes = {{37, 23, 112, 112}, {200, 150, 64, 48}, {50, 50, 50, 77}, {90, 40, 31, 40}};
        for (PilResize.Filter f : PilResize.Filter.values())
            for (int[] s : sizes) {
                RgbImage in = random(s[0], s[1], s[0] * 31L + s[1]);
                RgbImage out = PilResize.resize(in, s[2], s[3], f);
                assertThat(out.width()).isEqualTo(s[2]);
                assertThat(out.height()).isEqualTo(s[3]);
                Random r = new Random(7);
                for (int n = 0; n < 200; n++) {
                    int x = r.nextInt(s[2]), y = r.nextInt(s[3]), c = r.nextInt(3);
                    double ref = Math.max(0, Math.min(255, reference(in, s[2], s[3], f, x, y, c)));
                    assertThat((double) out.get(x, y, c)).as("%s %s (%d,%d,%d)", f, java.util.Arrays.toString(s), x, y, c)
                            .isCloseTo(ref, org.assertj.core.data.Offset.offset(1.2));
                }
            }
    }

    @Test
    void sameSizeIsACopyAndConstantStaysConstant() {
        RgbImage in = random(13, 9, 1);
        RgbImage same = PilResize.resize(in, 13, 9);
        assertThat(same.rgb()).isEqualTo(in.rgb()).isNotSameAs(in.rgb());
        RgbImage flat = RgbImage.filled(17, 5, 200, 3, 77);
        RgbImage up = PilResize.resize(flat, 40, 33);
        for (int y = 0; y < 33; y++)
            for (int x = 0; x < 40; x++) {
                assertThat(up.get(x, y, 0)).isEqualTo(200);
                assertThat(up.get(x, y, 1)).isEqualTo(3);
                assertThat(up.get(x, y, 2)).isEqualTo(77);
            }
    }

    @Test
    void fixedPointCoefficientsRoundAwayFromZero() {
        PilResize.Coeffs c = PilResize.Coeffs.of(100, 30, PilResize.Filter.BICUBIC);
        for (int i = 0; i < c.k.length; i++) {
            double v = c.kd[i] * (1 << PilResize.PRECISION_BITS);
            assertThat(c.k[i]).isEqualTo((int) (v < 0 ? v - 0.5 : v + 0.5));
        }
        assertThat(PilResize.clip8(-5)).isZero();
        assertThat(PilResize.clip8(256 << PilResize.PRECISION_BITS)).isEqualTo(255);
        assertThat(PilResize.clip8((7 << PilResize.PRECISION_BITS) + 12345)).isEqualTo(7);
    }
}
