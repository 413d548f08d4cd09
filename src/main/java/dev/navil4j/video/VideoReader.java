package dev.navil4j.video;

import dev.navil4j.image.ImageException;
import dev.navil4j.image.RgbImage;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.global.swscale;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Video decoding as the InternVL reference's {@code decord.VideoReader} sees it (see
 * fixtures/internvl3-video/README.md): FFmpeg (through JavaCV) decodes every frame in presentation
 * order; each frame is converted yuv → RGB24 by libswscale's default path (the same library and path
 * PyAV's {@code to_ndarray(format='rgb24')} and the ffmpeg CLI use), so the bytes match the
 * reference's frames. {@link #numFrames()} is the stream's frame count ({@code len(vr)}),
 * {@link #fps()} its average frame rate ({@code vr.get_avg_fps()}).
 */
public final class VideoReader {
    /** Basic stream facts. */
    public record Info(int numFrames, double fps, int width, int height) {}

    private final Path path;
    private final Info info;

    private VideoReader(Path path, Info info) {
        this.path = path;
        this.info = info;
    }

    /** Opens a video and reads its stream header (frame count, average fps, size). */
    public static VideoReader open(Path path) {
        if (!Files.isRegularFile(path)) throw new ImageException(path + ": no such video file");
        try {
            if (Files.size(path) == 0) throw new ImageException(path + ": empty file (0 bytes), not a video");
        } catch (java.io.IOException e) {
            throw new ImageException(path + ": cannot read file: " + e.getMessage(), e);
        }
        avutil.av_log_set_level(avutil.AV_LOG_FATAL);   // failures surface as ImageException with the cause
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(path.toFile())) {
            g.start();
            if (g.getImageWidth() <= 0 || g.getImageHeight() <= 0) throw new ImageException(path + ": no video stream");
            AVStream vs = videoStream(g.getFormatContext());
            int n = vs == null ? 0 : (int) vs.nb_frames();
            double fps = 0;
            if (vs != null) {
                AVRational r = vs.avg_frame_rate();
                if (r.den() != 0 && r.num() != 0) fps = (double) r.num() / r.den();
            }
            if (fps <= 0) fps = g.getFrameRate();
            if (n <= 0) {
                // no nb_frames in the container: count by decoding, as a full decode would see them
                int count = 0;
                while (g.grabImage() != null) count++;
                n = count;
            }
            Info info = new Info(n, fps, g.getImageWidth(), g.getImageHeight());
            g.stop();
            return new VideoReader(path, info);
        } catch (ImageException e) {
            throw e;
        } catch (Exception e) {
            throw new ImageException(path + ": cannot open video: " + e.getMessage(), e);
        }
    }

    public Info info() { return info; }

    public int numFrames() { return info.numFrames(); }

    public double fps() { return info.fps(); }

    /**
     * The RGB frames at {@code indices} (0-based, presentation order; repeats allowed), decoding the
     * stream once from the start ({@code vr[i].asnumpy()} of each index).
     */
    public List<RgbImage> frames(int[] indices) {
        int max = -1;
        for (int i : indices) {
            if (i < 0) throw new ImageException(path + ": negative frame index " + i);
            max = Math.max(max, i);
        }
        RgbImage[] byIndex = new RgbImage[max + 1];
        boolean[] wanted = new boolean[max + 1];
        for (int i : indices) wanted[i] = true;
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(path.toFile()); RgbConverter conv = new RgbConverter()) {
            // RAW: the decoder's own AVFrame (e.g. yuv420p); the RGB conversion is ours (see RgbConverter)
            g.setImageMode(FrameGrabber.ImageMode.RAW);
            g.start();
            for (int k = 0; k <= max; k++) {
                Frame f = g.grabImage();
                if (f == null)
                    throw new ImageException(path + ": frame " + k + " requested but the video has only " + k + " decodable frames");
                if (wanted[k]) {
                    if (!(f.opaque instanceof AVFrame av)) throw new ImageException(path + ": decoder returned no raw frame");
                    byIndex[k] = conv.convert(av);
                }
            }
            g.stop();
        } catch (ImageException e) {
            throw e;
        } catch (Exception e) {
            throw new ImageException(path + ": cannot decode video: " + e.getMessage(), e);
        }
        List<RgbImage> out = new ArrayList<>(indices.length);
        for (int i : indices) out.add(byIndex[i]);
        return out;
    }

    private static AVStream videoStream(AVFormatContext fc) {
        for (int i = 0; i < fc.nb_streams(); i++) {
            AVStream s = fc.streams(i);
            if (s.codecpar().codec_type() == avutil.AVMEDIA_TYPE_VIDEO) return s;
        }
        return null;
    }

    /**
     * yuv → packed RGB24 with libswscale exactly as PyAV's {@code frame.to_ndarray(format='rgb24')}:
     * {@code sws_getCachedContext(src fmt → AV_PIX_FMT_RGB24, same size, SWS_BILINEAR)} and
     * {@code sws_scale}, default colourspace details (the frames' unspecified colourspace/range mean
     * BT.601 limited range). For yuv420p at the same size libswscale takes its unscaled special
     * converter, which replicates each chroma sample over its 2×2 luma block.
     */
    private static final class RgbConverter implements AutoCloseable {
        private SwsContext ctx;
        private BytePointer buf;
        private long bufSize;

        RgbImage convert(AVFrame av) {
            int w = av.width(), h = av.height();
            if (w <= 0 || h <= 0) throw new ImageException("decoded frame has size " + w + "x" + h);
            ctx = swscale.sws_getCachedContext(ctx, w, h, av.format(), w, h, avutil.AV_PIX_FMT_RGB24,
                    swscale.SWS_BILINEAR, null, null, (DoublePointer) null);
            if (ctx == null) throw new ImageException("libswscale cannot convert pixel format " + av.format() + " to RGB24");
            long need = (long) w * h * 3 + 64;   // + slack: swscale may write a few bytes past the last row
            if (buf == null || bufSize < need) {
                if (buf != null) avutil.av_free(buf);
                buf = new BytePointer(avutil.av_malloc(need));
                bufSize = need;
            }
            try (PointerPointer<BytePointer> dst = new PointerPointer<>(4); IntPointer dstStride = new IntPointer(4)) {
                dst.put(0, buf);
                dstStride.put(0, w * 3);
                int rows = swscale.sws_scale(ctx, av.data(), av.linesize(), 0, h, dst, dstStride);
                if (rows != h) throw new ImageException("libswscale converted " + rows + " of " + h + " rows");
            }
            byte[] out = new byte[w * h * 3];
            buf.position(0).get(out);
            return new RgbImage(w, h, out);
        }

        @Override
        public void close() {
            if (ctx != null) swscale.sws_freeContext(ctx);
            if (buf != null) avutil.av_free(buf);
            ctx = null;
            buf = null;
        }
    }

    @Override
    public String toString() { return "VideoReader[" + path + ", " + info + "]"; }

}
