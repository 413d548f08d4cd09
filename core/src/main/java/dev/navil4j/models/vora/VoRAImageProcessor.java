package dev.navil4j.models.vora;

import dev.navil4j.image.RgbImage;
import dev.navil4j.image.PilResize;
import dev.navil4j.image.ImageLoader;

import dev.navil4j.weights.Json;

/**
 * VoRA's image input (generation_files/processing_vora.py + CLIPImageProcessor with its
 * preprocessor_config.json): expand2square — paste the image centred on a square of side
 * max(W, H) filled with {@code background} (offset (W−H)//2 on the short axis, LLaVA style); resize
 * the shortest edge to {@code size} with Pillow BICUBIC (long edge {@code int(size·long/short)});
 * center crop {@code cropSize} (top = (H−crop)//2, left = (W−crop)//2); rescale
 * {@code float32(u8 · rescale_factor)} computed in float64 (transformers' rescale); then
 * {@code (x − mean)/std} in float32.
 */
public final class VoRAImageProcessor {
    /** CLIP mean / std (OPENAI_CLIP_MEAN / STD, VoRA's preprocessor_config.json). */
    public static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    /**
     * Processor settings (preprocessor_config.json keys).
     *
     * @param expandToSquare VoRA's expand2square step
     * @param background     RGB fill of the square (VoRA: black)
     * @param size           shortest_edge
     * @param cropSize       crop_size (square)
     * @param rescaleFactor  rescale_factor (1/255)
     * @param mean           image_mean
     * @param std            image_std
     * @param patchSize      the vision embedding's patch size (for {@link Result#gridThw()})
     */
    public record Params(boolean expandToSquare, int[] background, int size, int cropSize, double rescaleFactor,
                         float[] mean, float[] std, int patchSize) {
        /**
         * From a VoRA checkpoint directory: preprocessor_config.json ({@code size} as an int or
         * {@code {"shortest_edge": n}}, {@code crop_size} as an int or {@code {"height", "width"}},
         * image_mean/std, rescale_factor default 1/255) and config.json {@code patch_size} (default 14).
         */
        public static Params fromModelDir(java.nio.file.Path modelDir) {
            Json.Obj pc = Json.Obj.of(modelDir.resolve("preprocessor_config.json"));
            Json.Obj cfg = Json.Obj.of(modelDir.resolve("config.json"));
            int size = pc.required("size").isInt() ? pc.integer("size") : pc.obj("size").integer("shortest_edge");
            int crop = pc.required("crop_size").isInt() ? pc.integer("crop_size") : pc.obj("crop_size").integer("height");
            return new Params(true, new int[]{0, 0, 0}, size, crop, pc.number("rescale_factor", 1.0 / 255),
                    pc.floatArray("image_mean"), pc.floatArray("image_std"), cfg.integer("patch_size", 14));
        }

        /** VoRA's defaults: 448 in the released config; the tiny fixture uses 112. */
        public static Params vora(int size) {
            return new Params(true, new int[]{0, 0, 0}, size, size, 1.0 / 255, CLIP_MEAN, CLIP_STD, 14);
        }
    }

    /**
     * @param pixelValues float32 [1, 3, H, W]
     * @param height      H (= crop size)
     * @param width       W
     * @param squareSize  size of the expanded square (or the original size without expansion), (w, h)
     */
    public record Result(float[] pixelValues, int height, int width, int[] squareSize, int patchSize) {
        /** (t, h, w) in patches: the vision embedding makes h·w image tokens. */
        public int[] gridThw() { return new int[]{1, height / patchSize, width / patchSize}; }
    }

    private VoRAImageProcessor() {}

    /** transformers {@code load_image} (EXIF orientation applied, then RGB) + {@link #preprocess}. */
    public static Result load(java.nio.file.Path image, Params p) {
        return preprocess(ImageLoader.loadRgbExifTransposed(image), p);
    }

    /** The processor on an already loaded RGB image. */
    public static Result preprocess(RgbImage image, Params p) {
        RgbImage img = p.expandToSquare() ? expandToSquare(image, p.background()) : image;
        int[] square = {img.width(), img.height()};
        // CLIP resize: shortest edge -> size, aspect kept (transformers get_resize_output_image_size, default_to_square=False)
        int w = img.width(), h = img.height();
        int shortE = Math.min(w, h), longE = Math.max(w, h);
        int newShort = p.size(), newLong = (int) ((long) p.size() * longE / shortE);
        int nw = w <= h ? newShort : newLong, nh = w <= h ? newLong : newShort;
        img = PilResize.resize(img, nw, nh);
        int top = (img.height() - p.cropSize()) / 2, left = (img.width() - p.cropSize()) / 2;
        img = img.crop(left, top, left + p.cropSize(), top + p.cropSize());
        int hw = p.cropSize() * p.cropSize();
        float[] out = new float[3 * hw];
        byte[] rgb = img.rgb();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < hw; i++) {
                float x = (float) ((rgb[i * 3 + c] & 0xFF) * p.rescaleFactor());   // float64 product, then float32
                out[c * hw + i] = (x - p.mean()[c]) / p.std()[c];
            }
        return new Result(out, p.cropSize(), p.cropSize(), square, p.patchSize());
    }

    /** LLaVA/VoRA expand2square: the image centred on a background-filled square of side max(W, H). */
    public static RgbImage expandToSquare(RgbImage img, int[] background) {
        int w = img.width(), h = img.height();
        if (w == h) return img;
        int side = Math.max(w, h);
        RgbImage sq = RgbImage.filled(side, side, background[0], background[1], background[2]);
        return w > h ? img.pasteOnto(sq, 0, (w - h) / 2) : img.pasteOnto(sq, (h - w) / 2, 0);
    }
}
