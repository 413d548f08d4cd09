package dev.navil4j.spark;

import dev.navil4j.Media;
import dev.navil4j.chat.Conversation;
import dev.navil4j.image.ImageLoader;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The media of one row: an image or a video, from whichever form the image column has. Decoding problems surface
 * as {@link Media.MediaException} with the row's name, which the caller turns into the row's error column.
 */
final class RowMedia {
    /** Extensions read as video (the containers the video reader demuxes). */
    static final Set<String> VIDEO_EXTENSIONS = Set.of("mp4", "m4v", "mov", "mkv", "webm", "avi");

    /** The engine's image decoder with its default pixel limit (the same one the server uses). */
    private static final ImageLoader IMAGES = new ImageLoader(ImageLoader.DEFAULT_MAX_PIXELS);

    private RowMedia() {}

    /**
     * The media for a cell value. {@code name} is the row's file name (from the path column), or null.
     * A string is a local path or a URI (Hadoop schemes are read through Hadoop); a {@code byte[]} is the encoded
     * file; a {@link Row} is Spark's image struct (origin, height, width, nChannels, mode, data).
     */
    static Conversation.Media of(Object cell, String name, int videoFrames) {
        return switch (cell) {
            case null -> throw new Media.MediaException("the row has no image (the image column is null)" + where(name));
            case String s -> fromLocation(s, videoFrames);
            case byte[] bytes -> fromBytes(bytes, name != null ? name : "binary image", videoFrames);
            case Row struct -> fromImageStruct(struct);
            default -> throw new Media.MediaException("unsupported image column type " + cell.getClass().getSimpleName()
                    + where(name) + " (use a path string, a binary column or Spark's image struct)");
        };
    }

    private static String where(String name) { return name == null ? "" : " (" + name + ")"; }

    private static Conversation.Media fromLocation(String location, int videoFrames) {
        URI hadoop = ModelLocator.hadoopUri(location);
        if (hadoop == null) {
            Path p = location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
            return isVideoName(p.toString()) ? Media.video(p, videoFrames) : Media.image(p);
        }
        try {
            FileSystem fs = FileSystem.get(hadoop, new Configuration());
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(hadoop);
            long len = fs.getFileStatus(p).getLen();
            if (len > Integer.MAX_VALUE - 16) throw new Media.MediaException("file too large to read into memory: " + location);
            byte[] bytes = new byte[(int) len];
            try (FSDataInputStream in = fs.open(p)) { in.readFully(bytes); }
            return fromBytes(bytes, location, videoFrames);
        } catch (IOException e) {
            throw new Media.MediaException("cannot read " + location + ": " + e.getMessage(), e);
        }
    }

    private static Conversation.Media fromBytes(byte[] bytes, String name, int videoFrames) {
        if (isVideoName(name) || looksLikeVideo(bytes)) return new Conversation.Video(null, videoFrames, null, bytes);
        try {
            return Media.image(IMAGES.decodeRaw(bytes, name));
        } catch (RuntimeException e) {
            throw new Media.MediaException("cannot decode image " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Spark's {@code image} data source: {@code data} holds rows of pixels in OpenCV order (BGR or BGRA, or one gray
     * channel), {@code mode} the OpenCV type; the engine wants RGB.
     */
    private static Conversation.Media fromImageStruct(Row r) {
        String origin = r.getAs("origin");
        int h = r.<Integer>getAs("height"), w = r.<Integer>getAs("width"), ch = r.<Integer>getAs("nChannels");
        byte[] data = r.getAs("data");
        if (data == null || w <= 0 || h <= 0 || (ch != 1 && ch != 3 && ch != 4) || data.length < (long) w * h * ch)
            throw new Media.MediaException("invalid image struct" + where(origin) + " (the image source could not decode it)");
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] line = new int[w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * ch;
                int b = data[i] & 0xFF, g = ch == 1 ? b : data[i + 1] & 0xFF, red = ch == 1 ? b : data[i + 2] & 0xFF;
                line[x] = red << 16 | g << 8 | b;
            }
            img.setRGB(0, y, w, 1, line, 0, w);
        }
        return Media.image(img);
    }

    static boolean isVideoName(String name) {
        if (name == null) return false;
        int dot = name.lastIndexOf('.');
        return dot >= 0 && VIDEO_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** ISO BMFF ({@code ftyp} box at offset 4: mp4, mov), Matroska/WebM (EBML magic) or AVI (RIFF....AVI ). */
    static boolean looksLikeVideo(byte[] b) {
        if (b.length >= 12 && b[4] == 'f' && b[5] == 't' && b[6] == 'y' && b[7] == 'p') {
            String brand = new String(b, 8, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            return !brand.startsWith("avi") && !brand.startsWith("hei") && !brand.startsWith("mif"); // AVIF/HEIF are images
        }
        if (b.length >= 4 && (b[0] & 0xFF) == 0x1A && (b[1] & 0xFF) == 0x45 && (b[2] & 0xFF) == 0xDF && (b[3] & 0xFF) == 0xA3) return true;
        return b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'A' && b[9] == 'V' && b[10] == 'I';
    }
}
