package dev.navil4j.video;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** With this module on the class path, the core's {@link Videos} finds its decoder through the service loader. */
class FfmpegVideoDecoderTest {
    @Test
    void theCoreOpensVideosThroughThisModule() {
        assertThat(Videos.available()).isTrue();
        Video v = Videos.open(Path.of("fixtures/images/moving_shapes_96x72_24fps.mp4"));
        assertThat(v).isInstanceOf(VideoReader.class);
        // the clip's header facts (fixtures/internvl3-video/README.md: 60 frames at 24 fps, 96x72)
        assertThat(v.info()).isEqualTo(new VideoInfo(60, 24.0, 96, 72));
        assertThat(v.frames(new int[] {0, 59})).hasSize(2);
    }
}
