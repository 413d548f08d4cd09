package dev.navil4j.video;

/**
 * Service interface of a video decoder. The core has none: video decoding needs FFmpeg, a large native dependency
 * a user who only sends images should not carry, so it lives in the optional {@code navil4j-video} module, which
 * registers its decoder in {@code META-INF/services/dev.navil4j.video.VideoDecoder}; {@link Videos} finds it.
 */
public interface VideoDecoder {
    /**
     * Reads the container header of a video held in memory (frame count, average fps, size), within {@code limits}.
     * {@code name} names the input in error messages, which must be the decoder's own words, never its library's.
     *
     * @throws dev.navil4j.Media.MediaException when the data is not a supported, valid video within the limits
     */
    Video open(byte[] data, String name, VideoLimits limits);
}
