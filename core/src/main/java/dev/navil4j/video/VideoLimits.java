package dev.navil4j.video;

/**
 * Bounds on what one video may cost, enforced by every {@link VideoDecoder}.
 *
 * @param maxPixels       largest width×height of a frame, checked on the container header before decoding
 * @param maxFrames       most frames in the stream (header count, or counted while decoding)
 * @param maxDecodedBytes most bytes of RGB frames one {@link Video#frames} call may hold (distinct frames × w × h × 3)
 */
public record VideoLimits(long maxPixels, int maxFrames, long maxDecodedBytes) {
    /** 40 MP frames (PIL's MAX_IMAGE_PIXELS order), 20 minutes at 30 fps, 1 GiB of decoded RGB. */
    public static final VideoLimits DEFAULT = new VideoLimits(40_000_000L, 36_000, 1L << 30);

    public VideoLimits {
        if (maxPixels < 1 || maxFrames < 1 || maxDecodedBytes < 1) throw new IllegalArgumentException("video limits must be positive");
    }

    public VideoLimits withMaxPixels(long pixels) { return new VideoLimits(pixels, maxFrames, maxDecodedBytes); }
}
