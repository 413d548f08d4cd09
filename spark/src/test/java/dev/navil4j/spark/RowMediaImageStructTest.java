package dev.navil4j.spark;

import dev.navil4j.Media;
import dev.navil4j.chat.Conversation;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.RgbImage;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Spark's image struct (OpenCV BGR/BGRA/gray bytes) becomes the same RGB pixels the engine decodes from the file. */
class RowMediaImageStructTest {
    static RgbImage pixels(Conversation.Media m) {
        assertThat(m).isInstanceOf(Conversation.Image.class);
        return ImageLoader.toRgb(((Conversation.Image) m).image(), "struct");
    }

    /** Two pixels written by hand in OpenCV order: (B,G,R) = (0,0,255) is red, (255,0,0) is blue. */
    @Test
    void bgrBytesAreReadAsOpenCvOrder() {
        RgbImage rgb = pixels(RowMedia.of(SparkImageRows.struct("x", 1, 2, 3, SparkImageRows.CV_8UC3,
                new byte[] {0, 0, (byte) 255, (byte) 255, 0, 0}), null, 1));
        assertThat(rgb.rgb()).containsExactly(255, 0, 0, 0, 0, 255);
        // BGRA: alpha is the fourth byte and is dropped, as the engine drops it from RGBA files
        rgb = pixels(RowMedia.of(SparkImageRows.struct("x", 1, 1, 4, SparkImageRows.CV_8UC4,
                new byte[] {10, 20, 30, 40}), null, 1));
        assertThat(rgb.rgb()).containsExactly(30, 20, 10);
        rgb = pixels(RowMedia.of(SparkImageRows.struct("x", 1, 1, 1, SparkImageRows.CV_8UC1, new byte[] {77}), null, 1));
        assertThat(rgb.rgb()).containsExactly(77, 77, 77);
    }

    /** Fixture PNGs of every colour type (RGB, gray, palette, RGBA): struct pixels equal the file's decoded pixels. */
    @Test
    void fixtureStructsEqualTheDecodedFiles() throws Exception {
        for (String f : Navil4jSparkTest.PHOTOS) {
            Path p = Navil4jSparkTest.IMAGES.resolve(f);
            byte[] bytes = Files.readAllBytes(p);
            RgbImage fromFile = ImageLoader.toRgb(new ImageLoader(ImageLoader.DEFAULT_MAX_PIXELS).decodeRaw(bytes, f), f);
            RgbImage fromStruct = pixels(RowMedia.of(SparkImageRows.of(p), null, 1));
            assertThat(fromStruct.width()).as(f).isEqualTo(fromFile.width());
            assertThat(fromStruct.height()).as(f).isEqualTo(fromFile.height());
            assertThat(fromStruct.rgb()).as(f).isEqualTo(fromFile.rgb());
        }
    }

    @Test
    void invalidStructIsARowError() {
        assertThatThrownBy(() -> RowMedia.of(SparkImageRows.invalid("file:/x/broken.png"), null, 1))
                .isInstanceOf(Media.MediaException.class).hasMessageContaining("broken.png");
    }
}
