package dev.navil4j;

/**
 * Receives {@link ProgressEvent}s while a model is downloaded from the hub and loads
 * ({@link dev.navil4j.models.LoadOptions#withProgress}, also through {@link Navil4j#load(String, dev.navil4j.models.LoadOptions)})
 * or a request is prepared and prefilled ({@link RequestOptions#withProgress}, per row in {@link ChatModel#batch}),
 * so an application can show what it is
 * waiting for. Events come on the thread doing the work, between steps of it (a few per tile, chunk or tensor, none
 * per generated token): keep {@link #onProgress} quick and let it not throw (an exception aborts the load or request).
 * The CLI's renderer is {@code dev.navil4j.cli.ProgressPrinter}.
 */
@FunctionalInterface
public interface ProgressListener {
    /** Ignores everything. */
    ProgressListener NONE = e -> {};

    void onProgress(ProgressEvent event);

    /** Reports {@code done} of {@code total} (a convenience for the code that makes progress). */
    default void report(ProgressEvent.Stage stage, long done, long total, ProgressEvent.Unit unit, String detail) {
        if (this != NONE) onProgress(new ProgressEvent(stage, done, total, unit, detail));
    }

    /** {@code listener}, or {@link #NONE} for null. */
    static ProgressListener orNone(ProgressListener listener) { return listener == null ? NONE : listener; }
}
