package dev.navil4j.video;

/** Test data from {@link VideoReaderTest} for tests in other packages. */
public final class VideoReaderTestAccess {
    private VideoReaderTestAccess() {}

    /** A GIF with a w×h logical screen and {@code frames} 1×1 frames (decodes to w×h frames). */
    public static byte[] gif(int w, int h, int frames) { return VideoReaderTest.gif(w, h, frames); }
}
