package dev.navil4j.video;

import org.junit.jupiter.api.Assumptions;

/**
 * For the core's tests that decode a real video file: the core has no decoder (FFmpeg is the optional navil4j-video
 * module), so they are skipped here and run in navil4j-video's build, which scans this test jar with its decoder on
 * the class path (video/pom.xml).
 */
public final class VideoTests {
    private VideoTests() {}

    public static void assumeDecoder() {
        Assumptions.assumeTrue(Videos.available(), "no video decoder on the class path: this test runs in navil4j-video");
    }
}
