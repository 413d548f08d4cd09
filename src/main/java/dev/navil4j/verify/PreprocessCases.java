package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.InternVLImageProcessor;
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
