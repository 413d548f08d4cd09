package dev.navil4j.models.navil;

import dev.navil4j.image.RgbImage;
import dev.navil4j.image.PilResize;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.ImageException;

import dev.navil4j.weights.Json;

import java.util.ArrayList;
import java.util.List;

/**
 * NaViL's any-resolution multi-scale image input: demo.py {@code load_image} →
 * {@code anyres_preprocess_multi_scale} → NaViL's {@code Qwen2VLImageProcessor} with
 * {@code do_resize=False, do_pad=True}.
 * <p>One scale: {@code smart_resize(h, w, factor=1)} within [min_pixels, max_pixels], Pillow BICUBIC
 * resize, zero-pad bottom/right to multiples of patch·merge (32), rescale (u8 · 1/255 in float64 →
 * float32), normalise {@code (x − 0.5)/0.5} in float32, cut into patches ordered (merge-block row,
 * merge-block col, row in block, col in block), each patch (3, p, p) C-major.
 * <p>Pyramid: the top scale uses max_pixels; then repeatedly max_pixels = (patches of the smallest
 * scale so far)·p²·ratio² as a float32 torch scalar; stop when it drops below min_pixels or the new
 * scale is not smaller; smaller scales are prepended (smallest first). As in the reference,
 * {@code max_pixels} is not reset between the images of one call.
 */
public final class NaViLImageProcessor {
    /**
     * @param minPixels            min_dynamic_patch · patch²
     * @param maxPixels            max_dynamic_patch · patch²
     * @param scaleDownsampleRatio config scale_downsample_ratio (0.7071)
     * @param patchSize            vision patch size (16)
     * @param mergeSize            spatial merge (2): padding multiple is patch·merge
     * @param mean                 image_mean (0.5)
     * @param std                  image_std (0.5)
     * @param rescaleFactor        1/255
     */
    public record Params(long minPixels, long maxPixels, double scaleDownsampleRatio, int patchSize, int mergeSize,
                         float[] mean, float[] std, double rescaleFactor) {
        /**
         * From a NaViL checkpoint's config.json: min_dynamic_patch, max_dynamic_patch,
         * vision_config.patch_size, scale_downsample_ratio (demo.py {@code load_image} arguments).
         */
        public static Params fromConfig(java.nio.file.Path configJson) {
            Json.Obj c = Json.Obj.of(configJson);
            return of(c.integer("min_dynamic_patch"), c.integer("max_dynamic_patch"),
                    c.obj("vision_config").integer("patch_size"), c.number("scale_downsample_ratio"));
        }

        /** From NaViL config.json values: min/max_dynamic_patch, patch size, scale_downsample_ratio. */
        public static Params of(int minDynamicPatch, int maxDynamicPatch, int patchSize, double scaleDownsampleRatio) {
            long pp = (long) patchSize * patchSize;
            return new Params(minDynamicPatch * pp, maxDynamicPatch * pp, scaleDownsampleRatio, patchSize, 2,
                    new float[]{0.5f, 0.5f, 0.5f}, new float[]{0.5f, 0.5f, 0.5f}, 1.0 / 255);
        }
    }

    /**
     * @param pixelValues all patches of all scales of all images, float32 [N, 3, p, p]
     * @param gridThw     one (t, h, w) row per scale (in patches), images in order, smallest scale first
     * @param numScales   scales per image
     * @param patchSize   p
     */
    public record Result(float[] pixelValues, int[][] gridThw, int[] numScales, int patchSize) {
        public int numPatches() { return pixelValues.length / (3 * patchSize * patchSize); }
    }

    /** One scale of one image. */
    public record Scale(int gridH, int gridW, float[] patches) {
        int numPatches() { return gridH * gridW; }
    }

    /**
     * max_pixels as the reference carries it: a Python int for the first call, then a float32 torch
     * scalar; the arithmetic of smart_resize differs between the two.
     */
    private record MaxPixels(long exact, float f32, boolean isF32) {
        static MaxPixels ofInt(long v) { return new MaxPixels(v, 0f, false); }
        static MaxPixels ofF32(float v) { return new MaxPixels(0, v, true); }

        /** {@code h*w > max_pixels}. */
        boolean below(long hw) { return isF32 ? (float) hw > f32 : hw > exact; }

        /** {@code (h*w) / max_pixels}: Python float division, or torch's {@code __rdiv__} = reciprocal() * other in float32. */
        double ratio(long hw) { return isF32 ? (double) ((1f / f32) * (float) hw) : (double) hw / exact; }
    }

    private NaViLImageProcessor() {}

    /** demo.py {@code load_image(image_files, ...)}: {@code Image.open(f).convert('RGB')} of each file, then the pyramid. */
    public static Result load(List<java.nio.file.Path> files, Params p) {
        List<RgbImage> images = new ArrayList<>();
        for (java.nio.file.Path f : files) images.add(ImageLoader.loadRgb(f));
        return preprocess(images, p);
    }

    /** {@code load_image(image_files, ...)} on already-decoded RGB images. */
    public static Result preprocess(List<RgbImage> images, Params p) {
        List<float[]> parts = new ArrayList<>();
        List<int[]> grids = new ArrayList<>();
        int[] numScales = new int[images.size()];
        MaxPixels maxPixels = MaxPixels.ofInt(p.maxPixels());
        float ratio2 = (float) (p.scaleDownsampleRatio() * p.scaleDownsampleRatio());   // python float ** 2, then a float32 operand
        int pp = p.patchSize() * p.patchSize();
        for (int k = 0; k < images.size(); k++) {
            RgbImage img = images.get(k);
            List<Scale> scales = new ArrayList<>();
            scales.add(oneScale(img, p, maxPixels));
            while (true) {
                long current = (long) scales.get(0).numPatches() * pp;
                // int64 tensor * python float -> float32 tensor (both operands as float32)
                maxPixels = MaxPixels.ofF32((float) current * ratio2);
                if (maxPixels.f32() < (float) p.minPixels()) break;
                Scale s = oneScale(img, p, maxPixels);
                if (s.numPatches() >= scales.get(0).numPatches()) break;
                scales.add(0, s);
            }
            for (Scale s : scales) {
                parts.add(s.patches());
                grids.add(new int[]{1, s.gridH(), s.gridW()});
            }
            numScales[k] = scales.size();
        }
        int total = 0;
        for (float[] a : parts) total += a.length;
        float[] pv = new float[total];
        int o = 0;
        for (float[] a : parts) { System.arraycopy(a, 0, pv, o, a.length); o += a.length; }
        return new Result(pv, grids.toArray(new int[0][]), numScales, p.patchSize());
    }

    /** Qwen2VLImageProcessor._preprocess with do_pad for one image at one max_pixels. */
    private static Scale oneScale(RgbImage img, Params p, MaxPixels maxPixels) {
        int[] hw = smartResize(img.height(), img.width(), p.minPixels(), maxPixels);
        RgbImage resized = PilResize.resize(img, hw[1], hw[0]);   // called even when unchanged (Pillow copies)
        int unit = p.patchSize() * p.mergeSize();
        int padH = ceilDiv(hw[0], unit) * unit, padW = ceilDiv(hw[1], unit) * unit;
        // zero padding at bottom/right = crop with the box extending past the image (Pillow fills 0)
        RgbImage padded = resized.crop(0, 0, padW, padH);
        return new Scale(padH / p.patchSize(), padW / p.patchSize(), patchify(padded, p));
    }

    /** smart_resize(height, width, factor=1, min_pixels, max_pixels) → {h̄, w̄}. */
    static int[] smartResize(int height, int width, long minPixels, MaxPixels maxPixels) {
        if ((double) Math.max(height, width) / Math.min(height, width) > 200)
            throw new ImageException("absolute aspect ratio must be smaller than 200, got " + width + "x" + height);
        int h = height, w = width;
        long hw = (long) h * w;
        if (maxPixels.below(hw)) {
            double beta = Math.sqrt(maxPixels.ratio(hw));
            h = (int) Math.floor(height / beta);
            w = (int) Math.floor(width / beta);
        } else if (hw < minPixels) {
            double beta = Math.sqrt((double) minPixels / hw);
            h = (int) Math.ceil(height * beta);
            w = (int) Math.ceil(width * beta);
        }
        if (h <= 0 || w <= 0) throw new ImageException("image " + width + "x" + height + " resizes to an empty image");
        return new int[]{h, w};
    }

    /** Rescale + normalise, then reorder into patches: (bh, bw, i, j) × (C, py, px). */
    private static float[] patchify(RgbImage img, Params p) {
        int ps = p.patchSize(), m = p.mergeSize();
        int gh = img.height() / ps, gw = img.width() / ps;
        int W = img.width();
        byte[] rgb = img.rgb();
        float[] out = new float[gh * gw * 3 * ps * ps];
        int o = 0;
        for (int bh = 0; bh < gh / m; bh++)
            for (int bw = 0; bw < gw / m; bw++)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < m; j++) {
                        int py0 = (bh * m + i) * ps, px0 = (bw * m + j) * ps;
                        for (int c = 0; c < 3; c++) {
                            float mean = p.mean()[c], std = p.std()[c];
                            for (int y = 0; y < ps; y++)
                                for (int x = 0; x < ps; x++) {
                                    int u = rgb[((py0 + y) * W + px0 + x) * 3 + c] & 0xFF;
                                    float v = (float) (u * p.rescaleFactor());   // float64 product -> float32
                                    out[o++] = (v - mean) / std;
                                }
                        }
                    }
        return out;
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
