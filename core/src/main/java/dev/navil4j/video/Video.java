package dev.navil4j.video;

import dev.navil4j.image.RgbImage;

import java.util.List;

/**
 * An opened video as InternVL's {@code load_video} reads it through decord: the stream's facts and random access
 * to decoded RGB frames. Opened by {@link Videos}; decoded by whichever {@link VideoDecoder} is on the class path.
 */
public interface Video {
    VideoInfo info();

    default int numFrames() { return info().numFrames(); }

    default double fps() { return info().fps(); }

    /**
     * The RGB frames at {@code indices} (0-based, presentation order; repeats allowed), as
     * {@code vr[i].asnumpy()} gives each index.
     *
     * @throws dev.navil4j.Media.MediaException for an index outside the stream or data that cannot be decoded
     */
    List<RgbImage> frames(int[] indices);
}
