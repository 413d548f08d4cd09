package dev.navil4j.video;

import dev.navil4j.Media;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** The core alone has no video decoder: a video input is refused with a message naming the module to add. */
class VideosWithoutDecoderTest {
    @Test
    void aVideoNamesTheMissingModule() {
        assumeFalse(Videos.available(), "a decoder is on this class path");
        assertThatThrownBy(() -> Videos.open(Path.of("fixtures/images/moving_shapes_96x72_24fps.mp4")))
                .isInstanceOf(Media.MediaException.class)
                .hasMessageContaining("navil4j-video");
        assertThatThrownBy(() -> Videos.open(new byte[] {1, 2, 3}, "clip"))
                .isInstanceOf(Media.MediaException.class)
                .hasMessageContaining("dev.navil4j:navil4j-video");
    }
}
