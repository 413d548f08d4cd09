package dev.navil4j.models.navil;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelFamily;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Checker;
import dev.navil4j.verify.FixtureCases;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;
import dev.navil4j.weights.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** NaViL (OpenGVLab): config.json architectures ["NaViL"], model_type "navil_chat". */
public final class NaViLFamily implements ModelFamily, FixtureCases {
    @Override
    public boolean handlesFixture(String fixtureFamily) { return fixtureFamily.startsWith("navil"); }

    @Override public String name() { return "navil"; }

    @Override
    public boolean accepts(Json.Obj config) {
        JsonNode a = config.node().path("architectures");
        if (a.isArray()) for (JsonNode n : a) if (n.asText().equals("NaViL")) return true;
        return config.node().path("model_type").asText("").equals("navil_chat");
    }

    @Override
    public VisionLanguageModel load(Path modelDir, LoadOptions options) {
        return NaViL.load(modelDir, options, NaViLTokenizers.load(modelDir));
    }

    private static NaViL model(Fixture fx, JsonNode c) {
        Path dir = fx.modelDir(c);
        JsonNode override = c.get("config_override");
        return fx.cached("navil:" + dir + ":" + (override == null ? "" : override.toString()), k -> {
            LoadOptions o = fx.loadOptions(); // verify --weights / --kv-cache
            if (override != null) o = o.withConfigOverride(override);
            return NaViL.load(dir, o, NaViLTokenizers.load(dir));
        });
    }

    /** grid_thw tensor(s) → scales. */
    static List<NaViLVisionModelAnyRes.Grid> grids(Fixture fx, JsonNode ref) {
        List<NaViLVisionModelAnyRes.Grid> out = new ArrayList<>();
        if (ref.isArray()) { for (JsonNode r : ref) out.addAll(grids(fx, r)); return out; }
        long[] g = fx.longs(ref);
        if (g.length % 3 != 0) throw new IllegalArgumentException(ref + ": grid_thw must be (scales, 3)");
        for (int i = 0; i < g.length; i += 3)
            out.add(new NaViLVisionModelAnyRes.Grid((int) g[i], (int) g[i + 1], (int) g[i + 2]));
        return out;
    }

    @Override
    public CaseResult verify(Fixture fx, JsonNode c) throws Exception {
        return switch (c.path("kind").asText()) {
            case "preprocess" -> preprocess(fx, c);
            case "vision" -> vision(fx, c);
            case "forward" -> forward(fx, c);
            case "generate" -> NaViLGenerateCase.run(fx, c, model(fx, c));
            default -> CaseResult.skip("NaViL does not run kind " + c.path("kind").asText());
        };
    }

    private CaseResult vision(Fixture fx, JsonNode c) {
        NaViL m = model(fx, c);
        double atol = c.path("atol").asDouble();
        float[] vit = m.vision.forward(fx.floats(c.get("pixel_values")), grids(fx, c.get("grid_thw")));
        float[] feats = m.project(vit);
        JsonNode e = c.path("expect");
        double err = 0;
        if (e.has("vit_embeds")) err = Math.max(err, Compare.maxAbs(vit, fx.floats(e.get("vit_embeds"))));
        if (e.has("features")) err = Math.max(err, Compare.maxAbs(feats, fx.floats(e.get("features"))));
        return CaseResult.of(err, atol, null);
    }

    private CaseResult forward(Fixture fx, JsonNode c) {
        NaViL m = model(fx, c);
        int[] ids = idsOf(fx, c.get("input_ids"));
        float[] features = null;
        if (c.hasNonNull("pixel_values"))
            features = m.extractFeature(fx.floats(c.get("pixel_values")), grids(fx, c.get("grid_thw")));
        float[] logits = m.forwardLogits(ids, features, null);
        double err = Compare.maxAbs(logits, fx.floats(c.path("expect").get("logits")));
        return CaseResult.of(err, c.path("atol").asDouble(), null);
    }

    static int[] idsOf(Fixture fx, JsonNode ref) {
        long[] l = fx.longs(ref);
        int[] ids = new int[l.length];
        for (int i = 0; i < l.length; i++) ids[i] = Math.toIntExact(l[i]);
        return ids;
    }

    /** demo.load_image's multi-scale any-resolution pyramid of the case's image(s) with its params. */
    private static CaseResult preprocess(Fixture fx, JsonNode c) {
        JsonNode p = c.path("params");
        NaViLImageProcessor.Params params = new NaViLImageProcessor.Params(p.path("min_pixels").asLong(),
                p.path("max_pixels").asLong(), p.path("scale_downsample_ratio").asDouble(), p.path("patch_size").asInt(16),
                p.path("merge_size").asInt(2), Checker.floats(p.path("image_mean")), Checker.floats(p.path("image_std")),
                p.path("rescale_factor").asDouble(1.0 / 255));
        List<dev.navil4j.image.RgbImage> images = new ArrayList<>();
        if (c.has("images")) for (JsonNode n : c.get("images")) images.add(dev.navil4j.image.ImageLoader.loadRgb(fx.resolve(n.asText())));
        else images.add(dev.navil4j.image.ImageLoader.loadRgb(fx.resolve(c.path("image").asText())));
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
}
