package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.InternVLImageProcessor;
import dev.navil4j.image.NaViLImageProcessor;
import dev.navil4j.image.VoRAImageProcessor;
import dev.navil4j.image.RgbImage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fixture cases of kind {@code preprocess}: image file → pixel tensors, per family (the fixture's
 * {@code family}): InternVL dynamic tiling, VoRA's CLIP processor, NaViL's multi-scale any-resolution
 * pyramid. Checks only the keys present in {@code expect}.
 */
public final class PreprocessCases {
    private PreprocessCases() {}

    public static CaseResult preprocess(Fixture fx, JsonNode c) throws Exception {
        String family = fx.family();
        if (family.startsWith("internvl")) return internvl(fx, c);
        if (family.equals("vora")) return vora(fx, c);
        if (family.startsWith("navil")) return navil(fx, c);
        return CaseResult.skip("preprocess for family '" + family + "' not implemented");
    }

    private static CaseResult internvl(Fixture fx, JsonNode c) {
        JsonNode p = c.path("params");
        RgbImage img = ImageLoader.loadRgb(fx.resolve(c.path("image").asText()));
        InternVLImageProcessor.Tiles t = InternVLImageProcessor.preprocess(img, p.path("min_num").asInt(1),
                p.path("max_num").asInt(12), p.path("input_size").asInt(448), p.path("use_thumbnail").asBoolean(true));
        Checker ck = new Checker(fx, c);
        ck.intEq("num_patches", t.numTiles());
        ck.intsEq("grid", new int[]{t.cols(), t.rows()});
        ck.floats("pixel_values", t.pixelValues());
        return ck.result();
    }

    private static CaseResult vora(Fixture fx, JsonNode c) {
        JsonNode p = c.path("params");
        VoRAImageProcessor.Params params = new VoRAImageProcessor.Params(p.path("expand2square").asBoolean(true),
                ints(p.path("background")), p.path("size").asInt(), p.path("crop_size").asInt(),
                p.path("rescale_factor").asDouble(1.0 / 255), floats(p.path("image_mean")), floats(p.path("image_std")), 14);
        VoRAImageProcessor.Result r = VoRAImageProcessor.load(fx.resolve(c.path("image").asText()), params);
        Checker ck = new Checker(fx, c);
        ck.intsEq("square_size", r.squareSize());
        ck.intsEq("grid_thw", r.gridThw());
        ck.floats("pixel_values", r.pixelValues());
        return ck.result();
    }

    private static CaseResult navil(Fixture fx, JsonNode c) {
        JsonNode p = c.path("params");
        NaViLImageProcessor.Params params = new NaViLImageProcessor.Params(p.path("min_pixels").asLong(),
                p.path("max_pixels").asLong(), p.path("scale_downsample_ratio").asDouble(), p.path("patch_size").asInt(16),
                p.path("merge_size").asInt(2), floats(p.path("image_mean")), floats(p.path("image_std")),
                p.path("rescale_factor").asDouble(1.0 / 255));
        List<RgbImage> images = new ArrayList<>();
        if (c.has("images")) for (JsonNode n : c.get("images")) images.add(ImageLoader.loadRgb(fx.resolve(n.asText())));
        else images.add(ImageLoader.loadRgb(fx.resolve(c.path("image").asText())));
        NaViLImageProcessor.Result r = NaViLImageProcessor.preprocess(images, params);
        Checker ck = new Checker(fx, c);
        long[] grid = new long[r.gridThw().length * 3];
        for (int i = 0; i < r.gridThw().length; i++) for (int j = 0; j < 3; j++) grid[i * 3 + j] = r.gridThw()[i][j];
        ck.longsEq("grid_thw", grid);
        JsonNode ns = c.path("expect").path("num_scales");
        if (ns.isInt()) ck.intEq("num_scales", r.numScales().length == 1 ? r.numScales()[0] : -1);
        else ck.intsEq("num_scales", r.numScales());
        ck.floats("pixel_values", r.pixelValues());
        return ck.result();
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    private static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) a.get(i).asDouble();
        return out;
    }

    /** Accumulates the comparison of the keys present in a case's {@code expect}. */
    static final class Checker {
        private final Fixture fx;
        private final JsonNode expect;
        private final double atol;
        private double err = 0;
        private final List<String> mismatches = new ArrayList<>();

        Checker(Fixture fx, JsonNode c) {
            this.fx = fx;
            this.expect = c.path("expect");
            this.atol = c.path("atol").asDouble(0);
        }

        void intEq(String key, int actual) {
            if (!expect.has(key)) return;
            int e = expect.get(key).asInt();
            if (e != actual) mismatches.add(key + " = " + actual + ", expected " + e);
        }

        void intsEq(String key, int[] actual) {
            if (!expect.has(key)) return;
            int[] e = fx.intsOrLiteral(expect.get(key));
            if (!Arrays.equals(e, actual)) mismatches.add(key + " = " + Arrays.toString(actual) + ", expected " + Arrays.toString(e));
        }

        void longsEq(String key, long[] actual) {
            if (!expect.has(key)) return;
            long[] e = expect.get(key).isTextual() ? fx.longs(expect.get(key)) : literalLongs(expect.get(key));
            if (!Arrays.equals(e, actual)) mismatches.add(key + " = " + Arrays.toString(actual) + ", expected " + Arrays.toString(e));
        }

        void mismatch(String what) { mismatches.add(what); }

        void floats(String key, float[] actual) {
            if (!expect.has(key)) return;
            float[] e = fx.floats(expect.get(key));
            if (e.length != actual.length) {
                mismatches.add(key + " has " + actual.length + " values, expected " + e.length);
                err = Double.POSITIVE_INFINITY;
                return;
            }
            err = Math.max(err, Compare.maxAbs(actual, e));
        }

        private static long[] literalLongs(JsonNode v) {
            long[] out = new long[v.size()];
            for (int i = 0; i < out.length; i++) out[i] = v.get(i).asLong();
            return out;
        }

        CaseResult result() {
            return CaseResult.of(err, atol, mismatches.isEmpty() ? null : String.join("; ", mismatches));
        }
    }
}
