package dev.navil4j.video;

/**
 * InternVL's {@code get_index(bound, fps, max_frame, first_idx=0, num_segments)} (model card /
 * internvl_chat README): {@code num_segments} frame indices at the centres of equal segments of
 * [start_idx, end_idx]. Rounding is half-to-even in both places (Python {@code round} and
 * {@code np.round}: {@link Math#rint}), and {@code int()} truncates.
 */
public final class FrameSampler {
    private FrameSampler() {}

    /**
     * @param bound       [start_s, end_s] in seconds, or null for the whole video (±100000 s)
     * @param fps         average frame rate
     * @param maxFrame    last frame index (num_frames − 1)
     * @param numSegments number of frames to pick
     */
    public static int[] getIndex(double[] bound, double fps, int maxFrame, int numSegments) {
        if (numSegments <= 0) throw new IllegalArgumentException("num_segments must be positive, got " + numSegments);
        double start = -100000, end = 100000;
        if (bound != null) {
            if (bound.length != 2) throw new IllegalArgumentException("bound must be [start_s, end_s]");
            start = bound[0];
            end = bound[1];
        }
        final int firstIdx = 0;
        long startIdx = Math.max(firstIdx, (long) Math.rint(start * fps));
        long endIdx = Math.min((long) Math.rint(end * fps), maxFrame);
        double segSize = (double) (endIdx - startIdx) / numSegments;
        int[] idx = new int[numSegments];
        for (int k = 0; k < numSegments; k++)
            idx[k] = (int) (startIdx + segSize / 2 + Math.rint(segSize * k));   // (int) truncates toward 0 like int()
        return idx;
    }
}
