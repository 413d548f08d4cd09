package dev.navil4j.image;

import dev.navil4j.models.vora.VoRAImageProcessor;
import dev.navil4j.models.navil.NaViLImageProcessor;
import dev.navil4j.models.internvl.InternVLImageProcessor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Images of 1 px in either dimension through every family's preprocessing (their decode is checked
 * against Pillow in ImageCorpusTest). The references accept them: InternVL's dynamic_preprocess resizes
 * to the chosen grid whatever the size, VoRA pads to a square (expand2square) before CLIP's resize, and
 * NaViL's smart_resize accepts them up to its aspect-ratio limit of 200, past which it raises ValueError.
 */
class TinyImagesTest {
    private static final Path DIR = Path.of("fixtures/image-corpus/tiny-generated");

    @Test
    void everyFamilyPreprocessesOnePixelImages() {
        NaViLImageProcessor.Params navil = NaViLImageProcessor.Params.fromConfig(Path.of("fixtures/navil-qwen3-tiny/model/config.json"));
        for (String name : List.of("rgb_1x1.png", "rgb_1x37.png", "rgb_41x1.png", "rgb_1x37_lossy.webp", "rgb_41x1.jpg")) {
            Path p = DIR.resolve(name);
            RgbImage rgb = ImageLoader.loadRgb(p);
            InternVLImageProcessor.Tiles t = InternVLImageProcessor.load(p, 448, 12);
            int blocks = t.cols() * t.rows();
            assertThat(t.numTiles()).as(name).isEqualTo(blocks == 1 ? 1 : blocks + 1);
            assertThat(t.pixelValues()).as(name).hasSize(t.numTiles() * 3 * 448 * 448);
            // the grid follows the aspect ratio: a 1x37 column gets more rows than columns
            if (rgb.height() > rgb.width()) assertThat(t.rows()).as(name).isGreaterThan(t.cols());
            if (rgb.width() > rgb.height()) assertThat(t.cols()).as(name).isGreaterThan(t.rows());

            VoRAImageProcessor.Result v = VoRAImageProcessor.load(p, VoRAImageProcessor.Params.vora(448));
            assertThat(v.height()).as(name).isEqualTo(448);
            assertThat(v.width()).as(name).isEqualTo(448);
            assertThat(v.squareSize()).as(name).containsExactly(Math.max(rgb.width(), rgb.height()), Math.max(rgb.width(), rgb.height()));

            NaViLImageProcessor.Result n = NaViLImageProcessor.load(List.of(p), navil);
            assertThat(n.numPatches()).as(name).isPositive();
        }
    }

    @Test
    void navilRefusesAspectRatiosOver200AsItsReferenceDoes() {
        NaViLImageProcessor.Params navil = NaViLImageProcessor.Params.fromConfig(Path.of("fixtures/navil-qwen3-tiny/model/config.json"));
        assertThatThrownBy(() -> NaViLImageProcessor.preprocess(List.of(RgbImage.black(201, 1)), navil))
                .isInstanceOf(ImageException.class).hasMessageContaining("aspect ratio must be smaller than 200");
        assertThat(NaViLImageProcessor.preprocess(List.of(RgbImage.black(200, 1)), navil).numPatches()).isPositive();
    }
}
