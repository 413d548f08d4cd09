package dev.navil4j.video;

/**
 * The {@link VideoDecoder} this module registers (META-INF/services): {@link VideoReader}, FFmpeg through JavaCV.
 * Present on the class path, it is what {@link Videos} opens every video with.
 */
public final class FfmpegVideoDecoder implements VideoDecoder {
    @Override
    public Video open(byte[] data, String name, VideoLimits limits) {
        return VideoReader.open(data, name, limits);
    }
}
