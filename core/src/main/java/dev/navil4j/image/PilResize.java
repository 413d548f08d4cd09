package dev.navil4j.image;

import dev.navil4j.tensor.Parallel;

/**
 * Pillow's {@code Image.resize((w, h), resample)} for 8-bit RGB images, bit-exact with Pillow's
 * {@code ImagingResample} (libImaging/Resample.c): separable convolution, horizontal pass first into
 * an intermediate of only the rows the vertical pass needs, then the vertical pass; filter support
 * widened by the scale on downscale (antialiasing); per-output coefficients normalised to sum 1 in
 * double, then converted to fixed point with {@link #PRECISION_BITS} fraction bits (rounded away from 0);
 * each pass accumulates in 32-bit ints starting at ½, shifts and clamps to 0..255 (so the intermediate
 * is rounded to uint8). A pass whose size is unchanged is skipped; no pass at all returns a copy.
 */
public final class PilResize {
    /** Pillow: {@code #define PRECISION_BITS (32 - 8 - 2)}. */
    public static final int PRECISION_BITS = 32 - 8 - 2;

    /** Resampling filters with Pillow's support radius. */
    public enum Filter {
        /** Pillow's BILINEAR (triangle), support 1. */
        BILINEAR(1.0),
        /** Pillow's BICUBIC, Keys cubic with a = −0.5, support 2 (the default of {@code Image.resize}). */
        BICUBIC(2.0);

        final double support;

        Filter(double support) { this.support = support; }

        /** The filter kernel; operation order as in Resample.c so results are bit-identical. */
        double eval(double x) {
            if (this == BILINEAR) {
                if (x < 0.0) x = -x;
                return x < 1.0 ? 1.0 - x : 0.0;
            }
            final double a = -0.5;
            if (x < 0.0) x = -x;
            if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }
    }

    private PilResize() {}

    /** {@code image.resize((width, height))}: Pillow's default filter BICUBIC. */
    public static RgbImage resize(RgbImage in, int width, int height) { return resize(in, width, height, Filter.BICUBIC); }

    /** {@code image.resize((width, height), filter)} on the full image box. */
    public static RgbImage resize(RgbImage in, int width, int height, Filter filter) {
        if (width <= 0 || height <= 0) throw new ImageException("resize target must be positive, got " + width + "x" + height);
        boolean needH = width != in.width();
        boolean needV = height != in.height();
        Coeffs ch = Coeffs.of(in.width(), width, filter);
        Coeffs cv = Coeffs.of(in.height(), height, filter);
        // Rows of the source the vertical pass reads: only those are resampled horizontally.
        int yFirst = cv.bounds[0];
        int yLast = cv.bounds[2 * height - 2] + cv.bounds[2 * height - 1];
        RgbImage cur = in;
        if (needH) {
            for (int i = 0; i < height; i++) cv.bounds[2 * i] -= yFirst;
            cur = horizontal(in, yFirst, yLast - yFirst, width, ch);
        }
        if (needV) cur = vertical(cur, height, cv);
        if (cur == in) cur = new RgbImage(in.width(), in.height(), in.rgb().clone());
        return cur;
    }

    /** Fixed-point coefficients of one axis: per output pixel {@code bounds[2i]} = first input, {@code bounds[2i+1]} = count. */
    static final class Coeffs {
        final int ksize;
        final int[] bounds;
        final int[] k;       // outSize × ksize, fixed point
        final double[] kd;   // the same before fixed-point conversion (tests)

        private Coeffs(int ksize, int[] bounds, int[] k, double[] kd) {
            this.ksize = ksize; this.bounds = bounds; this.k = k; this.kd = kd;
        }

        /** Resample.c {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for the box [0, inSize). */
        static Coeffs of(int inSize, int outSize, Filter f) {
            double in0 = 0, in1 = inSize;
            double scale = (in1 - in0) / outSize;
            double filterscale = scale < 1.0 ? 1.0 : scale;
            double support = f.support * filterscale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[outSize * 2];
            double[] kk = new double[outSize * ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = in0 + (xx + 0.5) * scale;
                double ww = 0.0;
                double ss = 1.0 / filterscale;
                int xmin = (int) (center - support + 0.5);   // C cast truncates toward 0, like Java
                if (xmin < 0) xmin = 0;
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) xmax = inSize;
                xmax -= xmin;
                int base = xx * ksize;
                for (int x = 0; x < xmax; x++) {
                    double w = f.eval((x + xmin - center + 0.5) * ss);
                    kk[base + x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++) if (ww != 0.0) kk[base + x] /= ww;
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            int[] k = new int[kk.length];
            for (int i = 0; i < kk.length; i++)
                k[i] = kk[i] < 0 ? (int) (-0.5 + kk[i] * (1 << PRECISION_BITS)) : (int) (0.5 + kk[i] * (1 << PRECISION_BITS));
            return new Coeffs(ksize, bounds, k, kk);
        }
    }

    /** Resample.c clip8: fixed-point accumulator → uint8. */
    static int clip8(int in) {
        if (in >= (1 << PRECISION_BITS << 8)) return 255;
        if (in <= 0) return 0;
        return in >> PRECISION_BITS;
    }

    /** Rows per parallel task: resampling is cheap per row, so keep tasks coarse. */
    private static final int ROW_GRAIN = 16;

    private static RgbImage horizontal(RgbImage in, int offset, int outH, int outW, Coeffs c) {
        byte[] src = in.rgb();
        int inW = in.width();
        byte[] dst = new byte[outW * outH * 3];
        Parallel.forRange(outH, ROW_GRAIN, (from, to) -> {
            for (int yy = from; yy < to; yy++) {
                int row = (yy + offset) * inW * 3;
                for (int xx = 0; xx < outW; xx++) {
                    int xmin = c.bounds[xx * 2], xmax = c.bounds[xx * 2 + 1], kb = xx * c.ksize;
                    int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                    for (int x = 0; x < xmax; x++) {
                        int p = row + (x + xmin) * 3, k = c.k[kb + x];
                        s0 += (src[p] & 0xFF) * k;
                        s1 += (src[p + 1] & 0xFF) * k;
                        s2 += (src[p + 2] & 0xFF) * k;
                    }
                    int o = (yy * outW + xx) * 3;
                    dst[o] = (byte) clip8(s0);
                    dst[o + 1] = (byte) clip8(s1);
                    dst[o + 2] = (byte) clip8(s2);
                }
            }
        });
        return new RgbImage(outW, outH, dst);
    }

    /**
     * Vertical pass. Accumulates whole rows (same integer sums as Resample.c's per-pixel loop — int
     * addition is exact here, so the order does not matter) for sequential memory access.
     */
    private static RgbImage vertical(RgbImage in, int outH, Coeffs c) {
        byte[] src = in.rgb();
        int w = in.width(), rowLen = w * 3;
        byte[] dst = new byte[w * outH * 3];
        Parallel.forRange(outH, ROW_GRAIN, (from, to) -> {
            int[] acc = new int[rowLen];
            for (int yy = from; yy < to; yy++) {
                int ymin = c.bounds[yy * 2], ymax = c.bounds[yy * 2 + 1], kb = yy * c.ksize;
                java.util.Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
                for (int y = 0; y < ymax; y++) {
                    int row = (y + ymin) * rowLen, k = c.k[kb + y];
                    for (int i = 0; i < rowLen; i++) acc[i] += (src[row + i] & 0xFF) * k;
                }
                int o = yy * rowLen;
                for (int i = 0; i < rowLen; i++) dst[o + i] = (byte) clip8(acc[i]);
            }
        });
        return new RgbImage(w, outH, dst);
    }
}
