package dev.navil4j.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;

/**
 * CMYK as Pillow holds it (mode "CMYK"), made from a JPEG's raw samples the way Pillow's JPEG decoder does:
 * libjpeg converts YCCK to CMYK (jdcolor.c ycck_cmyk_convert, with its fixed-point YCC tables), Pillow's
 * "CMYK;I" unpacker inverts all four channels (Adobe polarity, assumed for every CMYK JPEG), and
 * {@link ImageLoader#toRgb} applies Pillow's cmyk2rgb to the result.
 */
final class PillowCmyk {
    private PillowCmyk() {}

    private static final int SCALEBITS = 16, ONE_HALF = 1 << (SCALEBITS - 1);
    private static final int[] CR_R = new int[256], CB_B = new int[256], CR_G = new int[256], CB_G = new int[256];

    static {
        // libjpeg's build_ycc_rgb_table (jdcolor.c): FIX(x) = (int) (x * 65536 + 0.5), x = i - 128.
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private static int fix(double v) { return (int) (v * (1 << SCALEBITS) + 0.5); }

    private static int clamp(int v) { return v < 0 ? 0 : Math.min(v, 255); }

    /** A mode-"CMYK" colour space marker; {@link ImageLoader#toRgb} converts with Pillow's formula, not this. */
    static final ColorSpace CMYK = new ColorSpace(ColorSpace.TYPE_CMYK, 4) {
        @Override public float[] toRGB(float[] v) {
            float nk = 1 - v[3];
            return new float[]{nk * (1 - v[0]), nk * (1 - v[1]), nk * (1 - v[2])};
        }
        @Override public float[] fromRGB(float[] rgb) { throw new UnsupportedOperationException(); }
        @Override public float[] toCIEXYZ(float[] v) { return ColorSpace.getInstance(ColorSpace.CS_sRGB).toCIEXYZ(toRGB(v)); }
        @Override public float[] fromCIEXYZ(float[] v) { throw new UnsupportedOperationException(); }
    };

    /**
     * @param raw the decoder's raster without colour conversion (4 bands: YCCK or CMYK as stored)
     * @param adobeTransform the APP14 transform, or {@link JpegHeader#NO_ADOBE}: libjpeg
     *        (jdapimin.c default_decompress_parms) reads 4 components as YCCK when an Adobe marker says
     *        transform 2 (or any value but 0), as CMYK otherwise
     */
    static BufferedImage fromRawJpegRaster(Raster raw, int adobeTransform) {
        if (raw.getNumBands() != 4) throw new ImageException("expected a 4-band JPEG raster, got " + raw.getNumBands());
        boolean ycck = adobeTransform != JpegHeader.NO_ADOBE && adobeTransform != 0;
        int w = raw.getWidth(), h = raw.getHeight();
        ComponentColorModel cm = new ComponentColorModel(CMYK, false, false, java.awt.Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        WritableRaster out = cm.createCompatibleWritableRaster(w, h);
        int[] px = new int[4];
        int x0 = raw.getMinX(), y0 = raw.getMinY();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                raw.getPixel(x0 + x, y0 + y, px);
                int c, m, ye, k = px[3];
                if (ycck) {   // ycck_cmyk_convert: C = 255 - R, M = 255 - G, Y = 255 - B of the YCC triple, K kept
                    int yy = px[0], cb = px[1], cr = px[2];
                    c = 255 - clamp(yy + CR_R[cr]);
                    m = 255 - clamp(yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
                    ye = 255 - clamp(yy + CB_B[cb]);
                } else {
                    c = px[0]; m = px[1]; ye = px[2];
                }
                // Pillow's "CMYK;I" unpacker: every channel inverted.
                out.setPixel(x, y, new int[]{255 - c, 255 - m, 255 - ye, 255 - k});
            }
        return new BufferedImage(cm, out, false, null);
    }

    /**
     * A 3-band JPEG raster as the JDK decoded it (no colour conversion) with rows of 4:4:0 chroma replicated,
     * re-upsampled as libjpeg-turbo does and colour-converted with libjpeg's YCbCr tables (jdcolor.c
     * ycc_rgb_convert). The JDK replicates each chroma row for its two output rows (jdsample.c int_upsample),
     * so the stored chroma rows are recovered exactly from the even rows and then filtered with
     * h1v2_fancy_upsample: nearest row ×3 + next nearest, +1 above / +2 below, >> 2, edge rows repeated.
     */
    static byte[] h1v2FancyRgb(Raster raw, JpegHeader h) {
        int w = raw.getWidth(), ht = raw.getHeight();
        int x0 = raw.getMinX(), y0 = raw.getMinY();
        int maxV = Math.max(h.vSamp()[0], Math.max(h.vSamp()[1], h.vSamp()[2]));
        int maxH = Math.max(h.hSamp()[0], Math.max(h.hSamp()[1], h.hSamp()[2]));
        boolean ycc = h.isYCbCr();
        int[][] planes = new int[3][];
        for (int c = 0; c < 3; c++) {
            int[] p = raw.getSamples(x0, y0, w, ht, c, (int[]) null);
            if (h.hSamp()[c] == maxH && maxV == 2 * h.vSamp()[c]) {
                int rows = (ht + 1) / 2;
                int[] out = new int[w * ht];
                for (int r = 0; r < ht; r++) {
                    int k = r >> 1;
                    int near = k, far = (r & 1) == 0 ? Math.max(0, k - 1) : Math.min(rows - 1, k + 1);
                    int bias = (r & 1) == 0 ? 1 : 2;
                    for (int x = 0; x < w; x++)
                        out[r * w + x] = (3 * p[2 * near * w + x] + p[2 * far * w + x] + bias) >> 2;
                }
                p = out;
            }
            planes[c] = p;
        }
        byte[] rgb = new byte[w * ht * 3];
        for (int i = 0, o = 0; i < w * ht; i++, o += 3) {
            int y = planes[0][i], cb = planes[1][i], cr = planes[2][i];
            if (ycc) {
                rgb[o] = (byte) clamp(y + CR_R[cr]);
                rgb[o + 1] = (byte) clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
                rgb[o + 2] = (byte) clamp(y + CB_B[cb]);
            } else {
                rgb[o] = (byte) y; rgb[o + 1] = (byte) cb; rgb[o + 2] = (byte) cr;
            }
        }
        return rgb;
    }
}
