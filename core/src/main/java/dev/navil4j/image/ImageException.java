package dev.navil4j.image;

/** An image (or video) that cannot be used: not an image, truncated, empty, too large. The message names the source. */
public class ImageException extends RuntimeException {
    public ImageException(String message) { super(message); }
    public ImageException(String message, Throwable cause) { super(message, cause); }
}
