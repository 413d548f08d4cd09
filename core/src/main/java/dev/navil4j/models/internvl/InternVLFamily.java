package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelFamily;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Checker;
import dev.navil4j.verify.FixtureCases;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;
import dev.navil4j.weights.Json;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.tokenizer.Tokenizers;
import dev.navil4j.weights.SafeTensors;

import java.nio.file.Path;

/**
 * InternVL: InternViT + MLP projector + LLM, from remote-code InternVLChatModel checkpoints or from transformers-native
 * InternVLForConditionalGeneration ("-hf") ones ({@link InternVLHfConfig}).
 */
public final class InternVLFamily implements ModelFamily, FixtureCases {
    @Override
    public boolean handlesFixture(String fixtureFamily) { return fixtureFamily.startsWith("internvl"); }

    @Override
    public String name() { return "internvl3"; }

    @Override
    public boolean accepts(Json.Obj config) {
        JsonNode arch = config.node().path("architectures");
        if (arch.isArray()) for (JsonNode a : arch) if (a.asText().equals("InternVLChatModel")) return true;
        return config.node().path("model_type").asText("").equals("internvl_chat") || InternVLHfConfig.accepts(config);
    }

    @Override
    public VisionLanguageModel load(Path modelDir, LoadOptions options) { return loadChatModel(modelDir, options); }

    /** config.json (+ the options' config override) + tokenizer + safetensors; weights stay mapped. */
    public static InternVLChatModel loadChatModel(Path dir, LoadOptions options) {
        Json.Obj config = Json.Obj.of(dir.resolve("config.json"));
        if (options.configOverride() != null) {
            if (!options.configOverride().isObject()) throw new IllegalArgumentException("config override must be a JSON object");
            ObjectNode merged = config.node().deepCopy();
            deepMerge(merged, (ObjectNode) options.configOverride());
            config = new Json.Obj(merged, config.where() + " (with override)");
        }
        if (InternVLHfConfig.accepts(config) && !config.node().path("model_type").asText("").equals("internvl_chat"))
            return loadHfModel(dir, config, options);
        InternVLChatConfig cfg = InternVLChatConfig.parse(config);
        Tokenizer tok = Tokenizers.load(dir);
        SafeTensors st = SafeTensors.open(dir);
        try {
            st.reportProgress(options.progress()); // LOAD progress per scanned and per taken tensor
            st.requireFinite(); // NaN/Inf weights: a load error naming the tensor, not NaN logits later
            return InternVLChatModel.load(st, cfg, tok, options);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /**
     * An InternVLForConditionalGeneration checkpoint: config.json (InternVLConfig), the processor files
     * (preprocessor_config.json, processor_config.json, tokenizer_config.json, the chat template), generation_config.json,
     * the tokenizer and the safetensors.
     */
    private static InternVLChatModel loadHfModel(Path dir, Json.Obj config, LoadOptions options) {
        InternVLHfConfig cfg = InternVLHfConfig.parse(config);
        int g = cfg.chat().vision().gridSize() / cfg.chat().shuffleFactor();
        InternVLHfProcessor processor = InternVLHfProcessor.load(dir, g * g);
        Tokenizer tok = Tokenizers.load(dir);
        SafeTensors st = SafeTensors.open(dir);
        try {
            st.requireFinite();
            return InternVLChatModel.loadHf(st, cfg, processor, InternVLHfConfig.generationConfig(dir), tok, options);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /** Objects merge key by key (so {"vision_config": {"x": 1}} changes one key); anything else replaces. */
    static void deepMerge(ObjectNode into, ObjectNode over) {
        over.properties().forEach(e -> {
            JsonNode cur = into.get(e.getKey());
            if (cur instanceof ObjectNode co && e.getValue() instanceof ObjectNode oo) deepMerge(co, oo);
            else into.set(e.getKey(), e.getValue().deepCopy());
        });
    }

    /** The case's checkpoint, loaded once per fixture. */
    static InternVLChatModel loadForFixture(Fixture fx, JsonNode c) {
        Path dir = fx.modelDir(c);
        String key = "internvl:" + dir + (c.hasNonNull("config_override") ? ":" + c.get("config_override") : "");
        return fx.cached(key, k -> {
            LoadOptions o = fx.loadOptions();
            if (c.hasNonNull("config_override")) o = o.withConfigOverride(c.get("config_override"));
            return loadChatModel(dir, o);
        });
    }

    @Override
    public CaseResult verify(Fixture fx, JsonNode c) throws Exception {
        return switch (c.path("kind").asText()) {
            case "preprocess" -> preprocess(fx, c);
            case "video" -> InternVLVideoCases.video(fx, c);
            case "vision" -> vision(fx, c);
            case "forward" -> forward(fx, c);
            case "generate" -> InternVLCases.generate(fx, c);
            case "batch_generate" -> InternVLCases.batchGenerate(fx, c);
            default -> CaseResult.skip("kind " + c.path("kind").asText() + " not implemented for internvl3");
        };
    }

    /**
     * Teacher-forced logits at every position: language_model(input_ids), or InternVLChatModel.forward with the
     * features of the tiles whose image_flags are 1 written at the {@code <IMG_CONTEXT>} positions.
     */
    private static CaseResult forward(Fixture fx, JsonNode c) {
        InternVLChatModel m = loadForFixture(fx, c);
        int[] ids = fx.ints(c.get("input_ids"));
        float[] features = null;
        if (c.hasNonNull("pixel_values")) {
            int tiles = (int) fx.tensor(c.get("pixel_values").asText()).shape()[0];
            float[] all = m.vision.extractFeature(fx.floats(c.get("pixel_values")), tiles);
            int[] flags = c.hasNonNull("image_flags") ? fx.ints(c.get("image_flags")) : null;
            features = keepFlagged(all, tiles, flags);
        }
        float[] logits = m.forward(m.newState(), ids, features, true);
        return CaseResult.of(Compare.maxAbs(logits, fx.floats(c.get("expect").get("logits"))), c.path("atol").asDouble(), null);
    }

    /** vit_embeds[image_flags == 1]: the feature rows of flagged tiles, in order. */
    static float[] keepFlagged(float[] features, int tiles, int[] flags) {
        if (flags == null) return features;
        if (flags.length != tiles) throw new IllegalArgumentException(flags.length + " image_flags for " + tiles + " tiles");
        int per = features.length / tiles, kept = 0;
        float[] out = new float[features.length];
        for (int t = 0; t < tiles; t++)
            if (flags[t] == 1) System.arraycopy(features, t * per, out, kept++ * per, per);
        return java.util.Arrays.copyOf(out, kept * per);
    }

    /** InternVisionModel last hidden state (incl. CLS) and extract_feature() on the fixture's pixel values. */
    private static CaseResult vision(Fixture fx, JsonNode c) {
        InternVLVisionEncoder enc = loadForFixture(fx, c).vision;
        long[] shape = fx.tensor(c.get("pixel_values").asText()).shape();
        int tiles = (int) shape[0];
        float[] pixels = fx.floats(c.get("pixel_values"));
        float[] vit = enc.vitEmbeds(pixels, tiles);
        float[] feats = enc.project(vit, tiles);
        JsonNode e = c.get("expect");
        double err = 0;
        if (e.has("vit_embeds")) err = Math.max(err, Compare.maxAbs(vit, fx.floats(e.get("vit_embeds"))));
        if (e.has("features")) err = Math.max(err, Compare.maxAbs(feats, fx.floats(e.get("features"))));
        return CaseResult.of(err, c.path("atol").asDouble(), null);
    }

    /** load_image(): dynamic_preprocess tiles of the case's image with its params. */
    private static CaseResult preprocess(Fixture fx, JsonNode c) {
        JsonNode p = c.path("params");
        dev.navil4j.image.RgbImage img = dev.navil4j.image.ImageLoader.loadRgb(fx.resolve(c.path("image").asText()));
        InternVLImageProcessor.Tiles t = InternVLImageProcessor.preprocess(img, p.path("min_num").asInt(1),
                p.path("max_num").asInt(12), p.path("input_size").asInt(448), p.path("use_thumbnail").asBoolean(true));
        Checker ck = new Checker(fx, c);
        ck.intEq("num_patches", t.numTiles());
        ck.intsEq("grid", new int[]{t.cols(), t.rows()});
        ck.floats("pixel_values", t.pixelValues());
        return ck.result();
    }
}
