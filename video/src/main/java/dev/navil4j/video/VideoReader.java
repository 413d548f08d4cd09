package dev.navil4j.video;

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

import dev.navil4j.Media;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Video decoding as the InternVL reference's {@code decord.VideoReader} sees it (see
 * fixtures/internvl3-video/README.md): FFmpeg (through JavaCV) decodes every frame in presentation
 * order; each frame is converted yuv → RGB24 by libswscale's default path (the same library and path
 * PyAV's {@code to_ndarray(format='rgb24')} and the ffmpeg CLI use), so the bytes match the
 * reference's frames. {@link #numFrames()} is the stream's frame count ({@code len(vr)}),
 * {@link #fps()} its average frame rate ({@code vr.get_avg_fps()}).
 *
 * <p>Untrusted input: FFmpeg only ever sees the bytes held in memory. The container is recognised by its
 * magic bytes here and only the demuxers of {@link #CONTAINERS} may run (a DASH/HLS manifest or an
 * {@code ffconcat} list would otherwise make FFmpeg open the local files or URLs they name), the
 * protocol whitelist admits no protocol at all (nested opens fail), and frame size, frame count and the
 * decoded bytes are bounded by {@link VideoLimits} from the header before frames are decoded. Error
 * messages name the input and the problem, never FFmpeg's or JavaCV's own text.
 */
public final class VideoReader implements Video {
    /** Container formats accepted, and the FFmpeg demuxer each is read with (never chosen by FFmpeg's probe). */
    public static final Map<String, String> CONTAINERS = Map.of("mp4/mov", "mov", "mkv/webm", "matroska", "gif", "gif");

    /** The only demuxers FFmpeg may instantiate, also for nested inputs (a comma list, as {@code format_whitelist} takes). */
    static final String DEMUXERS = "mov,matroska,gif";

    /**
     * {@code protocol_whitelist}: no FFmpeg protocol is named {@code none}, so every protocol (file, concat, http, …)
     * is refused. The bytes come through our own AVIOContext, which needs no protocol; with such a custom context
     * FFmpeg otherwise applies no whitelist at all to the inputs a demuxer opens.
     */
    static final String NO_PROTOCOL = "none";

    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private final byte[] data;
    private final String name;
    private final String demuxer;
    private final VideoLimits limits;
    private final VideoInfo info;

    private VideoReader(byte[] data, String name, String demuxer, VideoLimits limits, VideoInfo info) {
        this.data = data;
        this.name = name;
        this.demuxer = demuxer;
        this.limits = limits;
        this.info = info;
    }

    /** Opens a video file (read into memory) with the default limits. */
    public static VideoReader open(Path path) { return open(path, VideoLimits.DEFAULT); }

    public static VideoReader open(Path path, VideoLimits limits) {
        if (!Files.isRegularFile(path)) throw error(path + ": no such video file");
        byte[] data;
        try {
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) throw error(path + ": video file too large (" + size + " bytes)");
            data = Files.readAllBytes(path);
        } catch (java.io.IOException e) {
            throw error(path + ": cannot read file: " + e.getMessage());
        }
        return open(data, path.toString(), limits);
    }

    /** Opens a video held in memory; {@code name} names it in error messages. */
    public static VideoReader open(byte[] data, String name) { return open(data, name, VideoLimits.DEFAULT); }

    /** Opens a video held in memory and reads its stream header (frame count, average fps, size), within {@code limits}. */
    public static VideoReader open(byte[] data, String name, VideoLimits limits) {
        if (data.length == 0) throw error(name + ": empty file (0 bytes), not a video");
        String demuxer = demuxerFor(data);
        if (demuxer == null)
            throw error(name + ": not a supported video container (expected " + String.join(", ", new java.util.TreeSet<>(CONTAINERS.keySet())) + ")");
        avutil.av_log_set_level(avutil.AV_LOG_QUIET);   // failures surface as our exceptions, FFmpeg's log stays silent
        // 1) the header alone (no stream probing, which would decode a frame): refuse huge frames before any decoding
        // (without the decoder's max_pixels, which would fail the codec open itself without saying why)
        try (FFmpegFrameGrabber g = grabber(data, demuxer, null)) {
            g.start(false);
            checkSize(name, g.getImageWidth(), g.getImageHeight(), limits);
        } catch (Media.MediaException e) {
            throw e;
        } catch (Exception e) {
            throw error(name + ": cannot open video: the data is not a valid " + demuxer + " container");
        }
        // 2) the full open the reference's decoder does (stream info probed), counting frames when the header has none
        try (FFmpegFrameGrabber g = grabber(data, demuxer, limits)) {
            g.start();
            checkSize(name, g.getImageWidth(), g.getImageHeight(), limits);
            AVStream vs = videoStream(g.getFormatContext());
            long n = vs == null ? 0 : vs.nb_frames();
            if (n > limits.maxFrames()) throw tooManyFrames(name, limits);
            double fps = 0;
            if (vs != null) {
                AVRational r = vs.avg_frame_rate();
                if (r.den() != 0 && r.num() != 0) fps = (double) r.num() / r.den();
            }
            if (fps <= 0) fps = g.getFrameRate();
            if (n <= 0) {
                // no nb_frames in the container: count by decoding, as a full decode would see them
                int count = 0;
                while (g.grabImage() != null) {
                    if (++count > limits.maxFrames()) throw tooManyFrames(name, limits);
                }
                n = count;
            }
            if (n == 0) throw error(name + ": the video has no decodable frames");
            VideoInfo info = new VideoInfo((int) n, fps, g.getImageWidth(), g.getImageHeight());
            g.stop();
            return new VideoReader(data, name, demuxer, limits, info);
        } catch (Media.MediaException e) {
            throw e;
        } catch (Exception e) {
            throw error(name + ": cannot decode video: the " + demuxer + " data is corrupt or uses an unsupported codec");
        }
    }

    /**
     * The demuxer for the container the magic bytes announce, or null: ISO BMFF/QuickTime (a top-level box type at
     * offset 4), Matroska/WebM (the EBML magic), GIF87a/89a. Anything else (text manifests, playlists, raw streams)
     * is refused before FFmpeg sees it.
     */
    static String demuxerFor(byte[] b) {
        if (b.length >= 12) {
            String box = new String(b, 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (box.equals("ftyp") || box.equals("moov") || box.equals("mdat") || box.equals("free")
                    || box.equals("wide") || box.equals("skip")) return "mov";
        }
        if (b.length >= 4 && (b[0] & 0xff) == 0x1A && (b[1] & 0xff) == 0x45 && (b[2] & 0xff) == 0xDF && (b[3] & 0xff) == 0xA3)
            return "matroska";
        if (b.length >= 6) {
            String sig = new String(b, 0, 6, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (sig.equals("GIF87a") || sig.equals("GIF89a")) return "gif";
        }
        return null;
    }

    /**
     * A grabber over the in-memory bytes with the demuxer forced and FFmpeg's format and protocol whitelists set
     * (package-private so the tests can force a manifest demuxer and see the whitelists refuse it).
     */
    static FFmpegFrameGrabber grabber(byte[] data, String demuxer, VideoLimits decodeLimits) {
        FFmpegFrameGrabber g = new FFmpegFrameGrabber(new ByteArrayInputStream(data), data.length);
        g.setFormat(demuxer);
        g.setOption("format_whitelist", DEMUXERS);
        g.setOption("protocol_whitelist", NO_PROTOCOL);
        g.setOption("enable_drefs", "0");   // mov: never follow data references to other files (FFmpeg's default, made explicit)
        // the decoder refuses frames larger than the limit too (a stream may change size after the header)
        if (decodeLimits != null)
            g.setVideoOption("max_pixels", Long.toString(Math.min(Integer.MAX_VALUE, decodeLimits.maxPixels())));
        // RAW: the decoder's own AVFrame (e.g. yuv420p); the RGB conversion is ours (see RgbConverter), and JavaCV
        // allocates no frame-sized conversion buffer at start
        g.setImageMode(FrameGrabber.ImageMode.RAW);
        return g;
    }

    private static void checkSize(String name, int w, int h, VideoLimits limits) {
        if (w <= 0 || h <= 0) throw error(name + ": no video stream");
        if ((long) w * h > limits.maxPixels())
            throw error(name + ": video frames of " + w + "x" + h + " exceed the limit of " + limits.maxPixels() + " pixels per frame");
    }

    private static Media.MediaException tooManyFrames(String name, VideoLimits limits) {
        return error(name + ": the video has more than " + limits.maxFrames() + " frames");
    }

    /** Video errors are bad input ({@link IllegalArgumentException}); the message is ours alone. */
    private static Media.MediaException error(String message) { return new Media.MediaException(message); }

    @Override
    public VideoInfo info() { return info; }

    /**
     * The RGB frames at {@code indices} (0-based, presentation order; repeats allowed), decoding the
     * stream once from the start ({@code vr[i].asnumpy()} of each index).
     */
    @Override
    public List<RgbImage> frames(int[] indices) {
        int max = -1;
        for (int i : indices) {
            if (i < 0) throw error(name + ": negative frame index " + i);
            if (i >= info.numFrames())
                throw error(name + ": frame " + i + " requested but the video has only " + info.numFrames() + " frames");
            max = Math.max(max, i);
        }
        RgbImage[] byIndex = new RgbImage[max + 1];
        boolean[] wanted = new boolean[max + 1];
        int distinct = 0;
        for (int i : indices) if (!wanted[i]) { wanted[i] = true; distinct++; }
        long bytes = (long) distinct * info.width() * info.height() * 3;
        if (bytes > limits.maxDecodedBytes())
            throw error(name + ": " + distinct + " frames of " + info.width() + "x" + info.height() + " need " + bytes
                    + " bytes decoded, more than the limit of " + limits.maxDecodedBytes());
        try (FFmpegFrameGrabber g = grabber(data, demuxer, limits); RgbConverter conv = new RgbConverter()) {
            g.start();
            for (int k = 0; k <= max; k++) {
                Frame f = g.grabImage();
                if (f == null)
                    throw error(name + ": frame " + k + " requested but the video has only " + k + " decodable frames");
                if (wanted[k]) {
                    if (!(f.opaque instanceof AVFrame av)) throw error(name + ": decoder returned no raw frame");
                    if ((long) av.width() * av.height() > limits.maxPixels()) checkSize(name, av.width(), av.height(), limits);
                    byIndex[k] = conv.convert(av);
                }
            }
            g.stop();
        } catch (Media.MediaException e) {
            throw e;
        } catch (Exception e) {
            throw error(name + ": cannot decode video: the " + demuxer + " data is corrupt or uses an unsupported codec");
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
            if (w <= 0 || h <= 0) throw error("decoded frame has size " + w + "x" + h);
            ctx = swscale.sws_getCachedContext(ctx, w, h, av.format(), w, h, avutil.AV_PIX_FMT_RGB24,
                    swscale.SWS_BILINEAR, null, null, (DoublePointer) null);
            if (ctx == null) throw error("libswscale cannot convert pixel format " + av.format() + " to RGB24");
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
                if (rows != h) throw error("libswscale converted " + rows + " of " + h + " rows");
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
    public String toString() { return "VideoReader[" + name + ", " + info + "]"; }

}
