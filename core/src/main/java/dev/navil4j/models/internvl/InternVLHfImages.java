package dev.navil4j.models.internvl;

import dev.navil4j.image.PilResize;
import dev.navil4j.image.RgbImage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Images for the -hf layout, as transformers' GotOcr2 image processor (PIL backend) prepares them for InternVLProcessor:
 * {@code crop_image_to_patches} (grid from {@code get_optimal_tiled_canvas}, Pillow bicubic resize of the whole image to
 * the grid, tiles cut row-major, plus a thumbnail when there is more than one tile), then rescale and normalize.
 * What differs from the remote-code {@link InternVLImageProcessor}: the candidate grids are listed
 * {@code for w in 1..max: for h in 1..max} and stably sorted by area (no Python set order), the thumbnail is always
 * added (config use_thumbnail is not read), max_patches 1 means one resized tile, and rescaling multiplies by
 * {@code rescale_factor} in float64 before rounding to float32.
 */
public final class InternVLHfImages {
    private InternVLHfImages() {}

    /** The tiles of one image: [count, 3, s, s] and the chosen grid (columns, rows; 1×1 when not tiled). */
    public record Tiles(float[] pixelValues, int count, int cols, int rows) {}

    /**
     * {@code get_all_supported_aspect_ratios(min, max)}: (columns, rows) pairs with min ≤ columns·rows ≤ max, listed
     * columns-major and stably sorted by area.
     */
    public static List<int[]> candidateGrids(int minPatches, int maxPatches) {
        List<int[]> out = new ArrayList<>();
        for (int w = 1; w <= maxPatches; w++)
            for (int h = 1; h <= maxPatches; h++)
                if (w * h <= maxPatches && w * h >= minPatches) out.add(new int[] {w, h});
        out.sort(Comparator.comparingInt(g -> g[0] * g[1]));   // List.sort is stable, like sorted()
        return out;
    }

    /**
     * {@code get_optimal_tiled_canvas}: the first grid with the smallest |width/height − columns/rows|; an exact tie
     * moves to the later grid while width·height > 0.5 · tile² · columns · rows.
     */
    public static int[] chooseGrid(int width, int height, int minPatches, int maxPatches, int tileSize) {
        double aspect = (double) width / height;
        double area = (double) width * height, best = Double.POSITIVE_INFINITY;
        int[] grid = {1, 1};
        for (int[] g : candidateGrids(minPatches, maxPatches)) {
            double diff = Math.abs(aspect - (double) g[0] / g[1]);
            if (diff < best) {
                best = diff;
                grid = g;
            } else if (diff == best && area > 0.5 * tileSize * tileSize * g[0] * g[1]) grid = g;
        }
        return grid.clone();
    }

    /**
     * The processor's pixel values for one image; {@code maxTiles} > 0 overrides max_patches (a caller's
     * {@code max_patches=} argument).
     */
    public static Tiles preprocess(RgbImage image, InternVLHfProcessor p, int maxTiles) {
        int s = p.tileSize(), max = maxTiles > 0 ? maxTiles : p.maxPatches(), min = Math.min(p.minPatches(), max);
        List<RgbImage> tiles = new ArrayList<>();
        int[] grid = {1, 1};
        if (p.cropToPatches() && max > 1) {
            grid = chooseGrid(image.width(), image.height(), min, max, s);
            RgbImage resized = PilResize.resize(image, s * grid[0], s * grid[1]);
            for (int i = 0; i < grid[0] * grid[1]; i++) {
                int x = (i % grid[0]) * s, y = (i / grid[0]) * s;
                tiles.add(resized.crop(x, y, x + s, y + s));
            }
            if (tiles.size() != 1) tiles.add(PilResize.resize(image, s, s));
        } else {
            tiles.add(PilResize.resize(image, s, s));
        }
        int per = 3 * s * s;
        float[] pv = new float[Math.multiplyExact(tiles.size(), per)];
        for (int t = 0; t < tiles.size(); t++) rescaleNormalize(tiles.get(t), p, pv, t * per);
        return new Tiles(pv, tiles.size(), grid[0], grid[1]);
    }

    /**
     * numpy rescale ({@code image.astype(float64) * scale}, then float32) and normalize ({@code (x − mean) / std} with
     * float32 mean/std), CHW.
     */
    static void rescaleNormalize(RgbImage img, InternVLHfProcessor p, float[] out, int offset) {
        byte[] rgb = img.rgb();
        int hw = img.width() * img.height();
        for (int c = 0; c < 3; c++) {
            float m = p.mean()[c], sd = p.std()[c];
            int o = offset + c * hw;
            for (int i = 0; i < hw; i++) {
                float x = (float) ((rgb[i * 3 + c] & 0xFF) * p.rescaleFactor());
                out[o + i] = (x - m) / sd;
            }
        }
    }
}
