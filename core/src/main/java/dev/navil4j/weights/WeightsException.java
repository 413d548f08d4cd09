package dev.navil4j.weights;

/** A checkpoint file or config that cannot be used; the message names the file and, where known, the tensor or key. */
public class WeightsException extends RuntimeException {
    public WeightsException(String message) { super(message); }
    public WeightsException(String message, Throwable cause) { super(message, cause); }
}
