package dev.navil4j.models.internvl;

import dev.navil4j.video.FrameSampler;
import dev.navil4j.video.Video;
import dev.navil4j.video.Videos;

import dev.navil4j.models.internvl.InternVLImageProcessor;
import dev.navil4j.image.RgbImage;

import java.nio.file.Path;
import java.util.List;

/**
 * InternVL's {@code load_video(video_path, bound, input_size, max_num, num_segments)}: frames chosen by
 * {@link FrameSampler#getIndex}, each frame tiled by {@code dynamic_preprocess(use_thumbnail=True)}
 * and normalised like an image ({@link InternVLImageProcessor}); the chat prompt then uses one
 * {@code Frame{i}: <image>} per frame with {@link Result#numPatchesList()}.
 */
public final class InternVLVideo {
    /**
     * @param frameIndices   the sampled frame indices
     * @param frames         the decoded RGB frames at those indices
     * @param pixelValues    float32 [Σ tiles, 3, s, s], frames in order
     * @param numPatchesList tiles per frame
     */
    public record Result(int[] frameIndices, List<RgbImage> frames, float[] pixelValues, int[] numPatchesList) {}

    private InternVLVideo() {}

    /** {@code load_video} with {@code bound} = [start_s, end_s] or null. */
    public static Result load(Path video, double[] bound, int inputSize, int maxNum, int numSegments) {
        return load(Videos.open(video), bound, inputSize, maxNum, numSegments);
    }

    /** {@code load_video} of an opened video (a file or bytes in memory). */
    public static Result load(Video vr, double[] bound, int inputSize, int maxNum, int numSegments) {
        int[] idx = FrameSampler.getIndex(bound, vr.fps(), vr.numFrames() - 1, numSegments);
        return fromFrames(idx, vr.frames(idx), inputSize, maxNum);
    }

    /** The per-frame preprocessing of already decoded frames. */
    public static Result fromFrames(int[] idx, List<RgbImage> frames, int inputSize, int maxNum) {
        int[] counts = new int[frames.size()];
        float[][] parts = new float[frames.size()][];
        int total = 0;
        for (int i = 0; i < frames.size(); i++) {
            InternVLImageProcessor.Tiles t = InternVLImageProcessor.preprocess(frames.get(i), 1, maxNum, inputSize, true);
            counts[i] = t.numTiles();
            parts[i] = t.pixelValues();
            total += parts[i].length;
        }
        float[] pv = new float[total];
        int o = 0;
        for (float[] p : parts) { System.arraycopy(p, 0, pv, o, p.length); o += p.length; }
        return new Result(idx, frames, pv, counts);
    }
}
