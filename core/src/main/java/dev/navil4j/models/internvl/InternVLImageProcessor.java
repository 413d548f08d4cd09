package dev.navil4j.models.internvl;

import dev.navil4j.image.RgbImage;
import dev.navil4j.image.PilResize;
import dev.navil4j.image.ImageLoader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * InternVL's image input (model card {@code load_image} / {@code dynamic_preprocess} /
 * {@code build_transform}): the image is resized (Pillow BICUBIC) to a grid of {@code cols × rows}
 * tiles of {@code imageSize²} chosen by {@code find_closest_aspect_ratio}, cut row-major, plus a
 * thumbnail (the whole image resized to one tile) when there is more than one tile and
 * {@code useThumbnail}; each tile becomes float32 CHW: {@code (u8 / 255f − mean) / std} with ImageNet
 * mean/std. (The transform's {@code T.Resize((s, s), BICUBIC)} is the identity on s × s tiles.)
 */
public final class InternVLImageProcessor {
    /** ImageNet mean / std of InternVL's {@code build_transform} (IMAGENET_MEAN / IMAGENET_STD). */
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    /**
     * The tiles of one image.
     *
     * @param pixelValues float32 [numTiles, 3, imageSize, imageSize], row-major
     * @param numTiles    tiles incl. the thumbnail (the reference's {@code num_patches})
     * @param cols        grid columns (target_aspect_ratio[0])
     * @param rows        grid rows (target_aspect_ratio[1])
     */
    public record Tiles(float[] pixelValues, int numTiles, int imageSize, int cols, int rows) {}

    private InternVLImageProcessor() {}

    /** {@code load_image(path, input_size=imageSize, max_num=maxNum)}: min_num 1, thumbnail on. */
    public static Tiles load(Path image, int imageSize, int maxNum) {
        return preprocess(ImageLoader.loadRgb(image), 1, maxNum, imageSize, true);
    }

    /** dynamic_preprocess + build_transform of an RGB image. */
    public static Tiles preprocess(RgbImage image, int minNum, int maxNum, int imageSize, boolean useThumbnail) {
        int[] grid = chooseGrid(image.width(), image.height(), minNum, maxNum, imageSize);
        List<RgbImage> tiles = dynamicPreprocess(image, grid, imageSize, useThumbnail);
        int per = 3 * imageSize * imageSize;
        float[] pv = new float[tiles.size() * per];
        for (int t = 0; t < tiles.size(); t++) toTensorNormalize(tiles.get(t), IMAGENET_MEAN, IMAGENET_STD, pv, t * per);
        return new Tiles(pv, tiles.size(), imageSize, grid[0], grid[1]);
    }

    /** The tile images of {@code dynamic_preprocess} for a grid (cols, rows) from {@link #chooseGrid}. */
    public static List<RgbImage> dynamicPreprocess(RgbImage image, int[] grid, int imageSize, boolean useThumbnail) {
        int tw = imageSize * grid[0], th = imageSize * grid[1];
        int blocks = grid[0] * grid[1];
        RgbImage resized = PilResize.resize(image, tw, th);
        List<RgbImage> out = new ArrayList<>(blocks + 1);
        int perRow = tw / imageSize;
        for (int i = 0; i < blocks; i++) {
            int x = (i % perRow) * imageSize, y = (i / perRow) * imageSize;
            out.add(resized.crop(x, y, x + imageSize, y + imageSize));
        }
        if (useThumbnail && out.size() != 1) out.add(PilResize.resize(image, imageSize, imageSize));
        return out;
    }

    /**
     * {@code find_closest_aspect_ratio} over the reference's candidate list: {@code (cols, rows)}.
     * Candidates are {@code sorted(set((i, j) ...), key=i*j)}: CPython's set iteration order (see
     * {@link PySetOrder}) followed by a stable sort by area. The first candidate with the smallest
     * |aspect − i/j| wins; an exact tie moves to the later candidate only if
     * {@code w*h > 0.5 * s * s * i * j}.
     */
    public static int[] chooseGrid(int width, int height, int minNum, int maxNum, int imageSize) {
        if (minNum < 1 || maxNum < minNum) throw new IllegalArgumentException("need 1 <= min_num <= max_num, got " + minNum + ", " + maxNum);
        double aspect = (double) width / height;
        List<int[]> cands = candidateRatios(minNum, maxNum);
        double bestDiff = Double.POSITIVE_INFINITY;
        int[] best = {1, 1};
        long area = (long) width * height;
        for (int[] r : cands) {
            double target = (double) r[0] / r[1];
            double diff = Math.abs(aspect - target);
            if (diff < bestDiff) {
                bestDiff = diff;
                best = r;
            } else if (diff == bestDiff) {
                if (area > 0.5 * imageSize * imageSize * r[0] * r[1]) best = r;
            }
        }
        return best.clone();
    }

    /** The reference's {@code target_ratios} list in its exact order. */
    public static List<int[]> candidateRatios(int minNum, int maxNum) {
        List<int[]> gen = new ArrayList<>();
        for (int n = minNum; n <= maxNum; n++)
            for (int i = 1; i <= n; i++)
                for (int j = 1; j <= n; j++)
                    if (i * j <= maxNum && i * j >= minNum) gen.add(new int[]{i, j});
        List<int[]> ordered = new ArrayList<>(PySetOrder.iterationOrder(gen));
        ordered.sort((a, b) -> Integer.compare(a[0] * a[1], b[0] * b[1]));   // List.sort is stable, like sorted()
        return ordered;
    }

    /**
     * torchvision ToTensor + Normalize of one RGB image into {@code out[offset..]} as CHW float32:
     * {@code (float(u8) / 255f − mean[c]) / std[c]}, every step in float32.
     */
    public static void toTensorNormalize(RgbImage img, float[] mean, float[] std, float[] out, int offset) {
        byte[] rgb = img.rgb();
        int hw = img.width() * img.height();
        for (int c = 0; c < 3; c++) {
            float m = mean[c], s = std[c];
            int o = offset + c * hw;
            for (int p = 0; p < hw; p++) {
                float x = (float) (rgb[p * 3 + c] & 0xFF) / 255f;
                out[o + p] = (x - m) / s;
            }
        }
    }
}
