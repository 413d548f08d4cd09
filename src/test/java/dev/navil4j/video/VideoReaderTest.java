package dev.navil4j.video;

import dev.navil4j.image.ImageException;
import dev.navil4j.image.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VideoReaderTest {
    private static final Path CLIP = Path.of("fixtures/images/moving_shapes_96x72_24fps.mp4");

    @Test
    void headerAndFrameCounterBar() {
        VideoReader vr = VideoReader.open(CLIP);
        assertThat(vr.numFrames()).isEqualTo(60);
        assertThat(vr.fps()).isEqualTo(24.0);
        assertThat(vr.info().width()).isEqualTo(96);
        assertThat(vr.info().height()).isEqualTo(72);
        // README: frame i has a white counter bar on the bottom 4 rows, round(W * (i + 1) / N) pixels long;
        // checks presentation order (B-frames reordered) independently of the fixture tensors.
        List<RgbImage> frames = vr.frames(new int[]{0, 29, 59, 29});
        assertThat(frames.get(1)).isSameAs(frames.get(3));
        int[] which = {0, 29, 59};
        for (int k = 0; k < 3; k++) {
            RgbImage f = frames.get(k);
            int len = (int) Math.round(96.0 * (which[k] + 1) / 60);
            int y = 70;
            // well inside the bar: white-ish; well past its end: not white
            assertThat(f.get(Math.max(0, len - 3), y, 1)).as("frame %d inside bar", which[k]).isGreaterThan(200);
            if (len + 3 < 96) assertThat(f.get(len + 3, y, 1)).as("frame %d after bar", which[k]).isLessThan(200);
        }
    }

    @Test
    void badFilesGiveClearErrors(@TempDir Path dir) throws Exception {
        Path empty = Files.write(dir.resolve("empty.mp4"), new byte[0]);
        assertThatThrownBy(() -> VideoReader.open(empty)).isInstanceOf(ImageException.class).hasMessageContaining("empty file");
        Path text = Files.writeString(dir.resolve("text.mp4"), "not a video at all");
        assertThatThrownBy(() -> VideoReader.open(text)).isInstanceOf(ImageException.class).hasMessageContaining("text.mp4");
        assertThatThrownBy(() -> VideoReader.open(dir.resolve("missing.mp4"))).isInstanceOf(ImageException.class);
        VideoReader vr = VideoReader.open(CLIP);
        assertThatThrownBy(() -> vr.frames(new int[]{60})).isInstanceOf(ImageException.class).hasMessageContaining("only 60");
    }
}
