package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelFamily;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;

import java.nio.file.Path;

/** InternVL (InternVLChatModel checkpoints: InternViT + MLP projector + LLM). */
public final class InternVLFamily implements ModelFamily {
    @Override
    public String name() { return "internvl3"; }

    @Override
    public boolean accepts(Json.Obj config) {
        JsonNode arch = config.node().path("architectures");
        if (arch.isArray()) for (JsonNode a : arch) if (a.asText().equals("InternVLChatModel")) return true;
        return config.node().path("model_type").asText("").equals("internvl_chat");
    }

    @Override
    public VisionLanguageModel load(Path modelDir, LoadOptions options) {
        throw new UnsupportedOperationException("InternVL LLM not wired yet");
    }

    @Override
    public CaseResult verify(Fixture fx, JsonNode c) throws Exception {
        return switch (c.path("kind").asText()) {
            case "vision" -> vision(fx, c);
            default -> CaseResult.skip("kind " + c.path("kind").asText() + " not implemented for internvl3");
        };
    }

    /** InternVisionModel last hidden state (incl. CLS) and extract_feature() on the fixture's pixel values. */
    private static CaseResult vision(Fixture fx, JsonNode c) {
        InternVLVisionEncoder enc = fx.cached("internvl-vision:" + fx.modelDir(c), k -> loadEncoder(fx.modelDir(c)));
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

    private static InternVLVisionEncoder loadEncoder(Path dir) {
        InternVLChatConfig cfg = InternVLChatConfig.parse(Json.Obj.of(dir.resolve("config.json")));
        SafeTensors st = SafeTensors.open(dir);
        return InternVLVisionEncoder.load(st, cfg, cfg.llm().integer("hidden_size"));
    }
}
