package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.RgbImage;
import dev.navil4j.weights.Json;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The -hf layout's image preprocessing against transformers' GotOcr2ImageProcessor (PIL backend, crop_to_patches=True
 * as InternVLProcessor passes it), from fixtures/internvl3-hf/preprocess.json (scripts/internvl_hf_reference.py,
 * transformers 5.18, Pillow 12.3): the grid, the tile count, and every tile's float32 values (SHA-256 of their
 * little-endian bytes, plus a few values and the tile sum).
 */
class InternVLHfImagesTest {
    static final Path REF = Path.of("fixtures/internvl3-hf");

    @Test
    void tilesAreTransformersPilBackendBitForBit() throws Exception {
        InternVLHfProcessor p = InternVLHfProcessor.load(REF.resolve("hf"), 64);
        JsonNode cases = Json.read(REF.resolve("preprocess.json")).get("cases");
        assertThat(cases.size()).isGreaterThanOrEqualTo(20);
        for (JsonNode c : cases) {
            String what = c.get("image").asText() + " max_patches " + c.get("max_patches").asInt();
            RgbImage img = ImageLoader.loadRgb(Path.of(c.get("image").asText()));
            InternVLHfImages.Tiles t = InternVLHfImages.preprocess(img, p, c.get("max_patches").asInt());
            assertThat(new int[] {t.cols(), t.rows()}).as(what + " grid").containsExactly(c.get("grid").get(0).asInt(), c.get("grid").get(1).asInt());
            assertThat(t.count()).as(what + " tiles").isEqualTo(c.get("num_patches").asInt());
            int per = 3 * 224 * 224;
            for (int i = 0; i < t.count(); i++) {
                float[] tile = java.util.Arrays.copyOfRange(t.pixelValues(), i * per, (i + 1) * per);
                for (JsonNode s : c.get("samples").get(i)) {
                    int ch = s.get(0).asInt(), y = s.get(1).asInt(), x = s.get(2).asInt();
                    assertThat(tile[ch * 224 * 224 + y * 224 + x]).as(what + " tile " + i + " " + s).isEqualTo((float) s.get(3).asDouble());
                }
                assertThat(sha256(tile)).as(what + " tile " + i + " bytes").isEqualTo(c.get("tile_sha256").get(i).asText());
            }
        }
    }

    /**
     * Where the original pipeline (dynamic_preprocess, {@link InternVLImageProcessor}) and transformers' differ for the
     * same image and tile budget: the candidate order (Python set order vs columns-major) picks the same grid for every
     * fixture image (a brute-force comparison of the two Python functions over ~600k sizes found no difference either);
     * both resize with Pillow's bicubic, and ToTensor's float32 u8/255 equals numpy's float64 u8·(1/255) rounded to
     * float32 for all 256 byte values (checked with numpy), so the tiles are the same bits. What differs is outside this
     * path: max_patches 1 / crop_to_patches false, the thumbnail rule, and the torchvision backend (see docs/CONFIG.md).
     */
    @Test
    void originalPipelineGivesTheSameTilesForTheSameBudget() {
        InternVLHfProcessor p = InternVLHfProcessor.load(REF.resolve("hf"), 64);
        for (String name : List.of("red_panda_500x373.png", "wide_1200x150.png", "tall_120x900.png", "tie_500x400.png", "tiny_40x30.png")) {
            RgbImage img = ImageLoader.loadRgb(Path.of("fixtures/images", name));
            for (int max : new int[] {12, 6, 4, 1}) {
                InternVLHfImages.Tiles hf = InternVLHfImages.preprocess(img, p, max);
                InternVLImageProcessor.Tiles orig = InternVLImageProcessor.preprocess(img, 1, max, 224, true);
                assertThat(new int[] {hf.cols(), hf.rows(), hf.count()}).as(name + " " + max)
                        .containsExactly(orig.cols(), orig.rows(), orig.numTiles());
                assertThat(java.util.Arrays.equals(hf.pixelValues(), orig.pixelValues())).as(name + " " + max + " pixels").isTrue();
            }
        }
    }

    /** get_all_supported_aspect_ratios' documented example (1, 4): columns-major, stably sorted by area. */
    @Test
    void candidateOrderIsTransformers() {
        List<int[]> g = InternVLHfImages.candidateGrids(1, 4);
        int[][] want = {{1, 1}, {1, 2}, {2, 1}, {1, 3}, {3, 1}, {1, 4}, {2, 2}, {4, 1}};
        assertThat(g).hasSize(want.length);
        for (int i = 0; i < want.length; i++) assertThat(g.get(i)).containsExactly(want[i]);
    }

    static String sha256(float[] v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }
}
