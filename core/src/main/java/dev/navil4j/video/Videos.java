package dev.navil4j.video;

import dev.navil4j.Media;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.ServiceLoader;

/**
 * Opens videos through the {@link VideoDecoder} found on the class path (the {@code navil4j-video} module's FFmpeg
 * decoder). Without one, every video input fails with a message that names the missing dependency, and images keep
 * working.
 */
public final class Videos {
    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private Videos() {}

    private static final class Holder {
        static final VideoDecoder DECODER = find();

        private static VideoDecoder find() {
            Iterator<VideoDecoder> it = ServiceLoader.load(VideoDecoder.class, Videos.class.getClassLoader()).iterator();
            return it.hasNext() ? it.next() : null;
        }
    }

    /** Whether a video decoder is on the class path. */
    public static boolean available() { return Holder.DECODER != null; }

    /** Opens a video file (read into memory) with the default limits. */
    public static Video open(Path path) { return open(path, VideoLimits.DEFAULT); }

    public static Video open(Path path, VideoLimits limits) {
        decoder();
        if (!Files.isRegularFile(path)) throw new Media.MediaException(path + ": no such video file");
        byte[] data;
        try {
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) throw new Media.MediaException(path + ": video file too large (" + size + " bytes)");
            data = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new Media.MediaException(path + ": cannot read file: " + e.getMessage());
        }
        return open(data, path.toString(), limits);
    }

    /** Opens a video held in memory; {@code name} names it in error messages. */
    public static Video open(byte[] data, String name) { return open(data, name, VideoLimits.DEFAULT); }

    public static Video open(byte[] data, String name, VideoLimits limits) {
        return decoder().open(data, name, limits);
    }

    private static VideoDecoder decoder() {
        VideoDecoder d = Holder.DECODER;
        if (d == null)
            throw new Media.MediaException("video input needs the navil4j-video module (FFmpeg) on the class path: "
                    + "add the dependency dev.navil4j:navil4j-video");
        return d;
    }
}
