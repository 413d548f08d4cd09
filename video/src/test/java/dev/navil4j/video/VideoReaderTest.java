package dev.navil4j.video;

import dev.navil4j.Media;
import dev.navil4j.image.RgbImage;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

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
        assertThatThrownBy(() -> VideoReader.open(empty)).isInstanceOf(Media.MediaException.class).hasMessageContaining("empty file");
        Path text = Files.writeString(dir.resolve("text.mp4"), "not a video at all");
        assertThatThrownBy(() -> VideoReader.open(text)).isInstanceOf(Media.MediaException.class).hasMessageContaining("text.mp4");
        assertThatThrownBy(() -> VideoReader.open(dir.resolve("missing.mp4"))).isInstanceOf(Media.MediaException.class);
        VideoReader vr = VideoReader.open(CLIP);
        assertThatThrownBy(() -> vr.frames(new int[]{60})).isInstanceOf(Media.MediaException.class).hasMessageContaining("only 60");
    }

    @Test
    void fromMemoryDecodesTheSameFramesAsFromTheFile() throws Exception {
        VideoReader file = VideoReader.open(CLIP);
        VideoReader mem = VideoReader.open(Files.readAllBytes(CLIP), "clip");
        assertThat(mem.info()).isEqualTo(file.info());
        int[] idx = {0, 7, 33, 59};
        List<RgbImage> a = file.frames(idx), b = mem.frames(idx);
        for (int i = 0; i < idx.length; i++) assertThat(b.get(i).rgb()).isEqualTo(a.get(i).rgb());
    }

    /** A DASH manifest whose segment is a local file: FFmpeg's dash demuxer would open and decode it. */
    static String dash(String url) {
        return "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
                + "mediaPresentationDuration=\"PT2.5S\" minBufferTime=\"PT1S\" profiles=\"urn:mpeg:dash:profile:isoff-on-demand:2011\">\n"
                + "<Period><AdaptationSet mimeType=\"video/mp4\"><Representation id=\"1\" bandwidth=\"100000\" width=\"96\" height=\"72\">\n"
                + "<BaseURL>" + url + "</BaseURL>\n</Representation></AdaptationSet></Period></MPD>\n";
    }

    static String hls(String url) {
        return "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXTINF:2.5,\n" + url + "\n#EXT-X-ENDLIST\n";
    }

    /**
     * Manifests and playlists naming local files are refused before FFmpeg sees them, with the same message
     * whether the named file exists or not (no file-existence oracle), and the message never names the file.
     * The old reader let FFmpeg probe the format: the dash/hls/concat demuxers then read the named clip.
     */
    @Test
    void manifestsAndPlaylistsNamingLocalFilesAreRefused(@TempDir Path dir) throws Exception {
        Path clip = Files.copy(CLIP, dir.resolve("clip.mp4"));
        String there = clip.toAbsolutePath().toString(), missing = dir.resolve("missing.mp4").toAbsolutePath().toString();
        String[][] payloads = {
                {dash("file://" + there), dash("file://" + missing)},
                {hls("file://" + there), hls("file://" + missing)},
                {hls(there), hls(missing)},
                {"ffconcat version 1.0\nfile 'clip.mp4'\n", "ffconcat version 1.0\nfile 'missing.mp4'\n"},
                {"ffconcat version 1.0\nfile 'file:" + there + "'\n", "ffconcat version 1.0\nfile 'file:" + missing + "'\n"},
        };
        for (String[] p : payloads) {
            // as a file next to the clip (relative references resolve there) and as bytes in memory
            Path list = Files.writeString(dir.resolve("list.bin"), p[0]);
            Throwable a = catchThrowable(() -> VideoReader.open(list));
            Throwable b = catchThrowable(() -> VideoReader.open(p[0].getBytes(StandardCharsets.UTF_8), "video"));
            Throwable c = catchThrowable(() -> VideoReader.open(p[1].getBytes(StandardCharsets.UTF_8), "video"));
            assertThat(a).as(p[0]).isInstanceOf(Media.MediaException.class).hasMessageContaining("not a supported video container");
            assertThat(b).as(p[0]).isInstanceOf(Media.MediaException.class);
            assertThat(b.getMessage()).isEqualTo(c.getMessage()).doesNotContain(dir.toString());
        }
    }

    /**
     * Defence in depth: even with a manifest demuxer forced (as if the magic-byte check were wrong), FFmpeg's format
     * whitelist refuses to instantiate it, so no referenced file is opened.
     */
    @Test
    void formatWhitelistRefusesManifestDemuxers(@TempDir Path dir) throws Exception {
        Path clip = Files.copy(CLIP, dir.resolve("clip.mp4"));
        String url = "file://" + clip.toAbsolutePath();
        String[][] forced = {{"dash", dash(url)}, {"hls", hls(url)}, {"concat", "ffconcat version 1.0\nfile '" + url + "'\n"}};
        for (String[] f : forced) {
            try (FFmpegFrameGrabber g = VideoReader.grabber(f[1].getBytes(StandardCharsets.UTF_8), f[0], VideoLimits.DEFAULT)) {
                assertThatThrownBy(g::start).as(f[0]).isInstanceOf(Exception.class);
            }
        }
    }

    /** A GIF whose logical screen is w×h with {@code frames} 1×1 frames: a few dozen bytes that decode to w×h frames. */
    static byte[] gif(int w, int h, int frames) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes("GIF89a".getBytes(StandardCharsets.ISO_8859_1));
        o.write(w & 0xff); o.write(w >> 8); o.write(h & 0xff); o.write(h >> 8);
        o.write(0x80); o.write(0); o.write(0);                       // 2-entry global colour table
        o.writeBytes(new byte[]{0, 0, 0, (byte) 255, (byte) 255, (byte) 255});
        for (int i = 0; i < frames; i++) {
            o.writeBytes(new byte[]{0x21, (byte) 0xF9, 4, 0, 10, 0, 0, 0});               // graphic control: 0.1 s
            o.writeBytes(new byte[]{0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0});                  // 1x1 image at 0,0
            o.writeBytes(new byte[]{2, 2, 0x44, 1, 0});                                  // LZW: one pixel of colour 0
        }
        o.write(0x3B);
        return o.toByteArray();
    }

    /** The 195 KB GIF of 8000×8000 frames case: refused from the header, before a frame is decoded. */
    @Test
    void hugeFramesAreRefusedFromTheHeader() {
        byte[] bomb = gif(8000, 8000, 50);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> VideoReader.open(bomb, "video")).isInstanceOf(Media.MediaException.class)
                .hasMessageContaining("8000x8000").hasMessageContaining("pixels per frame");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(5.0);
        // the same file at a size within the limit opens and decodes (the GIF itself is well formed)
        VideoReader small = VideoReader.open(gif(64, 48, 3), "video");
        assertThat(small.numFrames()).isEqualTo(3);
        assertThat(small.frames(new int[]{2}).get(0).width()).isEqualTo(64);
        VideoLimits tight = VideoLimits.DEFAULT.withMaxPixels(64 * 47);
        assertThatThrownBy(() -> VideoReader.open(gif(64, 48, 3), "video", tight)).hasMessageContaining("64x48");
    }

    @Test
    void frameCountAndDecodedBytesAreBounded() throws Exception {
        byte[] clip = Files.readAllBytes(CLIP);
        assertThatThrownBy(() -> VideoReader.open(clip, "video", new VideoLimits(1 << 20, 59, 1L << 30)))
                .isInstanceOf(Media.MediaException.class).hasMessageContaining("more than 59 frames");
        // counted while decoding (GIF headers carry no frame count)
        assertThatThrownBy(() -> VideoReader.open(gif(8, 8, 20), "video", new VideoLimits(1 << 20, 10, 1L << 30)))
                .hasMessageContaining("more than 10 frames");
        VideoReader vr = VideoReader.open(clip, "video", new VideoLimits(1 << 20, 100, 96 * 72 * 3 * 2));
        assertThat(vr.frames(new int[]{3, 5, 3})).hasSize(3);
        assertThatThrownBy(() -> vr.frames(new int[]{1, 2, 3})).hasMessageContaining("limit");
    }

    /** Corrupt data: a clear error of ours, never FFmpeg's or JavaCV's text (no "setFormat()" advice, no stream names). */
    @Test
    void corruptVideoErrorsCarryNoInternals() throws Exception {
        byte[] clip = Files.readAllBytes(CLIP);
        byte[][] bad = {
                Arrays.copyOf(clip, 40),                                   // ftyp, then nothing
                Arrays.copyOf(clip, clip.length / 3),                      // cut inside the data
                garble(clip),
                {0x1A, 0x45, (byte) 0xDF, (byte) 0xA3, 1, 2, 3, 4, 5},     // EBML magic, then garbage
                Arrays.copyOf(gif(16, 16, 2), 13),                         // GIF header only
        };
        for (byte[] b : bad) {
            Throwable t = catchThrowable(() -> {
                VideoReader vr = VideoReader.open(b, "video");
                vr.frames(new int[]{vr.numFrames() - 1});
            });
            if (t == null) continue; // a decoder may conceal damage; then there is nothing to report
            assertThat(t).isInstanceOf(Media.MediaException.class);
            assertThat(t.getMessage()).startsWith("video: ").doesNotContain("setFormat", "avformat", "ByteArrayInputStream",
                    "error -", "/tmp");
        }
        assertThat(catchThrowable(() -> VideoReader.open(Arrays.copyOf(clip, 40), "video"))).isNotNull();
    }

    static byte[] garble(byte[] clip) {
        byte[] g = clip.clone();
        for (int i = 64; i < g.length; i += 7) g[i] ^= 0x5A;
        return g;
    }
}
