package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.image.RgbImage;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Checker;
import dev.navil4j.verify.Fixture;
import dev.navil4j.video.FrameSampler;
import dev.navil4j.models.internvl.InternVLVideo;
import dev.navil4j.video.Video;
import dev.navil4j.video.Videos;

import java.util.List;

/**
 * Fixture cases of kind {@code video} (internvl3-video/README.md): frame sampling ({@code get_index}),
 * decoded RGB frames, per-frame tiles (pixel_values) and num_patches_list.
 */
final class InternVLVideoCases {
    private InternVLVideoCases() {}

    static CaseResult video(Fixture fx, JsonNode c) throws Exception {
        Video vr = Videos.open(fx.resolve(c.path("video").asText()));
        Checker ck = new Checker(fx, c);
        StringBuilder meta = new StringBuilder();
        if (c.has("num_frames") && c.get("num_frames").asInt() != vr.numFrames())
            meta.append("num_frames = ").append(vr.numFrames()).append(", expected ").append(c.get("num_frames").asInt());
        if (c.has("fps") && c.get("fps").asDouble() != vr.fps())
            meta.append(" fps = ").append(vr.fps()).append(", expected ").append(c.get("fps").asDouble());
        if (!meta.isEmpty()) return CaseResult.fail(Double.NaN, c.path("atol").asDouble(), meta.toString().trim());
        double[] bound = null;
        JsonNode b = c.path("bound");
        if (b.isArray()) bound = new double[]{b.get(0).asDouble(), b.get(1).asDouble()};
        JsonNode p = c.path("params");
        int[] idx = FrameSampler.getIndex(bound, vr.fps(), vr.numFrames() - 1, c.path("num_segments").asInt());
        List<RgbImage> frames = vr.frames(idx);
        InternVLVideo.Result r = InternVLVideo.fromFrames(idx, frames, p.path("input_size").asInt(448), p.path("max_num").asInt(1));
        ck.longsEq("frame_indices", toLongs(idx));
        if (c.path("expect").has("frames_rgb")) {
            int[] exp = fx.ints(c.path("expect").get("frames_rgb"));
            int n = 0, maxDiff = 0, at = -1;
            for (RgbImage f : frames) for (byte v : f.rgb()) {
                if (n < exp.length) {
                    int d = Math.abs((v & 0xFF) - exp[n]);
                    if (d > maxDiff) { maxDiff = d; at = n; }
                }
                n++;
            }
            if (n != exp.length) ck.mismatch("frames_rgb has " + n + " values, expected " + exp.length);
            else if (maxDiff != 0) ck.mismatch("frames_rgb differ by up to " + maxDiff + " (first max at flat index " + at + ")");
        }
        ck.floats("pixel_values", r.pixelValues());
        ck.longsEq("num_patches_list", toLongs(r.numPatchesList()));
        return ck.result();
    }

    private static long[] toLongs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
    }
}
