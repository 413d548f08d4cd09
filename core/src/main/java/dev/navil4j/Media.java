package dev.navil4j;

import dev.navil4j.chat.Conversation;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Factories for the media a question can carry: images (a file or a decoded image) and videos (sampled
 * into frames the way the family's reference code samples them). The values are the engine's
 * {@link Conversation.Media} records, so they can be passed straight to {@link ChatSession#ask}.
 * <p>A file is only checked for existence here; it is decoded when the prompt is prepared, so a file
 * that is not a readable image fails there with a message naming it.
 */
public final class Media {
    private Media() {}

    /** An image file (PNG, JPEG, WebP, BMP, GIF: whatever the image decoder reads). */
    public static Conversation.Media image(Path file) {
        return new Conversation.Image(requireFile(file, "image"), null);
    }

    /** An image already decoded; it is used as is (it should be RGB, as {@code PIL.Image.convert('RGB')} gives). */
    public static Conversation.Media image(BufferedImage image) {
        if (image == null) throw new IllegalArgumentException("image is null");
        return new Conversation.Image(null, image);
    }

    /** A video file sampled into {@code frames} frames spread over its whole length. */
    public static Conversation.Media video(Path file, int frames) {
        if (frames < 1) throw new IllegalArgumentException("a video needs at least 1 frame, got " + frames);
        return new Conversation.Video(requireFile(file, "video"), frames, null);
    }

    /** A video file sampled into {@code frames} frames between {@code startSeconds} and {@code endSeconds}. */
    public static Conversation.Media video(Path file, int frames, double startSeconds, double endSeconds) {
        if (frames < 1) throw new IllegalArgumentException("a video needs at least 1 frame, got " + frames);
        if (!(startSeconds >= 0 && endSeconds > startSeconds))
            throw new IllegalArgumentException("video bound must satisfy 0 <= start < end, got " + startSeconds + ".." + endSeconds);
        return new Conversation.Video(requireFile(file, "video"), frames, new double[] {startSeconds, endSeconds});
    }

    static Path requireFile(Path file, String what) {
        if (file == null) throw new IllegalArgumentException(what + " path is null");
        if (!Files.exists(file)) throw new MediaException(what + " not found: " + file);
        if (!Files.isRegularFile(file)) throw new MediaException(what + " is not a file: " + file);
        if (!Files.isReadable(file)) throw new MediaException(what + " is not readable: " + file);
        return file;
    }

    /** A media file that is missing or cannot be decoded; the message names the file. */
    public static final class MediaException extends IllegalArgumentException {
        /** @param message names the file and the problem */
        public MediaException(String message) { super(message); }

        /** @param message names the file and the problem; @param cause the decoder's error */
        public MediaException(String message, Throwable cause) { super(message, cause); }
    }
}
