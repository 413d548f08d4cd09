package dev.navil4j.models.vora;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Generator;
import dev.navil4j.generate.Sequence;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelFamily;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Checker;
import dev.navil4j.verify.FixtureCases;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.TensorInfo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** VoRA (Hon-Wong/VoRA): {@code VoRAForCausalLM} checkpoints, model_type "vora". */
public final class VoRAFamily implements ModelFamily, FixtureCases {
    @Override
    public boolean handlesFixture(String fixtureFamily) { return fixtureFamily.equals("vora"); }

    @Override public String name() { return "vora"; }

    @Override
    public boolean accepts(Json.Obj config) {
        for (JsonNode a : config.node().path("architectures")) if (a.asText().equals("VoRAForCausalLM")) return true;
        return config.node().path("model_type").asText("").equals("vora");
    }

    @Override
    public VisionLanguageModel load(Path modelDir, LoadOptions options) { return VoRAForCausalLM.load(modelDir, options); }

    // ---------------------------------------------------------------- fixture cases

    @Override
    public CaseResult verify(Fixture fx, JsonNode c) throws Exception {
        return switch (c.path("kind").asText()) {
            case "preprocess" -> preprocess(fx, c);
            case "vision" -> vision(fx, c);
            case "forward" -> forward(fx, c);
            case "generate" -> generate(fx, c);
            // training (fixtures/vora-train-tiny): the recipe's forward, grads, AdamW steps and merge
            default -> CaseResult.skip("kind " + c.path("kind").asText() + " is not a VoRA model case");
        };
    }

    private static VoRAForCausalLM model(Fixture fx, JsonNode c, boolean mergeLora) {
        Path dir = fx.modelDir(c);
        JsonNode override = c.get("config_override");
        String key = "vora:" + dir + ":" + override + ":" + mergeLora;
        return fx.cached(key, k -> VoRAForCausalLM.load(dir, fx.loadOptions().withConfigOverride(override).withMergeLora(mergeLora)));
    }

    /** Both LoRA paths when the checkpoint stores unmerged LoRA weights (merged at load, and on the fly); else one. */
    private static List<VoRAForCausalLM> models(Fixture fx, JsonNode c) {
        VoRAForCausalLM merged = model(fx, c, true);
        return merged.config.loraRank() > 0 ? List.of(merged, model(fx, c, false)) : List.of(merged);
    }

    /** pixel_values [1, 3, H, W] → AIMv2Embedding features [1, N, hidden]. */
    private static CaseResult vision(Fixture fx, JsonNode c) {
        TensorInfo pv = fx.tensor(c.get("pixel_values").asText());
        int h = pv.dim(2), w = pv.dim(3);
        float[] feats = model(fx, c, true).encodeImage(pv.toFloatArray(), h, w);
        double err = Compare.maxAbs(feats, fx.floats(c.path("expect").get("features")));
        return CaseResult.of(err, c.path("atol").asDouble(), null);
    }

    /** Logits of every position for ids (with -200) and pixel values; the image positions (vision_mask). */
    private static CaseResult forward(Fixture fx, JsonNode c) {
        int[] ids = fx.ints(c.get("input_ids"));
        JsonNode exp = c.path("expect");
        float[] want = fx.floats(exp.get("logits"));
        double err = 0;
        String mismatch = null;
        for (VoRAForCausalLM m : models(fx, c)) {
            float[] logits;
            if (c.hasNonNull("pixel_values")) {
                TensorInfo pv = fx.tensor(c.get("pixel_values").asText());
                PreparedPrompt p = m.prepare(ids, List.of(pv.toFloatArray()), pv.dim(2), null);
                logits = m.forwardAll(p);
                if (exp.has("vision_mask") && mismatch == null)
                    mismatch = Compare.ids(VoRAForCausalLM.visionMask(p), fx.ints(exp.get("vision_mask")));
            } else {
                logits = m.forwardText(ids);
            }
            err = Math.max(err, Compare.maxAbs(logits, want));
        }
        return CaseResult.of(err, c.path("atol").asDouble(), mismatch == null ? null : "vision_mask: " + mismatch);
    }

    /** Greedy generation through the whole pipeline: template, ids, pixels, tokens, response text. */
    private static CaseResult generate(Fixture fx, JsonNode c) {
        JsonNode exp = c.path("expect");
        Conversation conv = conversation(fx, c.path("messages"));
        String mismatch = null;
        for (VoRAForCausalLM m : models(fx, c)) {
            GenerationConfig g = generationFor(m.defaultGeneration(), c.path("generation"));
            if (mismatch == null && c.has("effective_generation")) mismatch = checkEffective(g, c.get("effective_generation"));
            VoRAForCausalLM.Processed s = m.process(conv);
            PreparedPrompt p = m.prepare(s.inputIds(), s.pixelValues(), s.side(), s.text());
            if (mismatch == null && exp.has("prompt")) mismatch = prefix("prompt", Compare.text(p.text(), exp.get("prompt").asText()));
            if (mismatch == null && exp.has("prompt_ids")) mismatch = prefix("prompt_ids", Compare.ids(s.inputIds(), fx.ints(exp.get("prompt_ids"))));
            if (mismatch == null && exp.has("pixel_values")) {
                double e = Compare.maxAbs(s.pixelValues().isEmpty() ? new float[0] : s.pixelValues().getFirst(), fx.floats(exp.get("pixel_values")));
                if (e > 1e-6) mismatch = "pixel_values differ: max_abs_err " + e;
            }
            Sequence.Result r = Generator.generate(m, p, g);
            if (mismatch == null && exp.has("generated_ids")) mismatch = prefix("generated_ids", Compare.ids(r.ids(), fx.ints(exp.get("generated_ids"))));
            if (mismatch == null && exp.has("response")) mismatch = prefix("response", Compare.text(r.text(), exp.get("response").asText()));
        }
        return CaseResult.of(0, c.path("atol").asDouble(), mismatch);
    }

    private static String prefix(String what, String diff) { return diff == null ? null : what + ": " + diff; }

    /** The defaults overridden by the call's generate kwargs (max_new_tokens, do_sample, repetition_penalty, ...). */
    static GenerationConfig generationFor(GenerationConfig d, JsonNode kw) {
        GenerationConfig g = d;
        if (kw.has("max_new_tokens")) g = g.withMaxNewTokens(kw.get("max_new_tokens").asInt());
        if (kw.has("repetition_penalty")) g = g.withRepetitionPenalty((float) kw.get("repetition_penalty").asDouble());
        boolean sample = kw.has("do_sample") ? kw.get("do_sample").asBoolean() : g.doSample();
        float temp = kw.has("temperature") ? (float) kw.get("temperature").asDouble() : g.temperature();
        float topP = kw.has("top_p") ? (float) kw.get("top_p").asDouble() : g.topP();
        int topK = kw.has("top_k") ? kw.get("top_k").asInt() : g.topK();
        return g.withSampling(sample, temp, topP, topK, g.seed());
    }

    /** Our effective settings must equal the reference's resolved GenerationConfig. */
    private static String checkEffective(GenerationConfig g, JsonNode e) {
        List<String> diffs = new ArrayList<>();
        if (e.has("do_sample") && e.get("do_sample").asBoolean() != g.doSample()) diffs.add("do_sample");
        if (e.has("repetition_penalty") && (float) e.get("repetition_penalty").asDouble() != g.repetitionPenalty()) diffs.add("repetition_penalty");
        if (e.has("temperature") && (float) e.get("temperature").asDouble() != g.temperature()) diffs.add("temperature");
        if (e.has("top_p") && (float) e.get("top_p").asDouble() != g.topP()) diffs.add("top_p");
        if (e.has("top_k") && e.get("top_k").asInt() != g.topK()) diffs.add("top_k");
        if (e.has("max_new_tokens") && e.get("max_new_tokens").asInt() != g.maxNewTokens()) diffs.add("max_new_tokens");
        if (e.has("eos_token_id")) {
            Set<Integer> want = new TreeSet<>();
            JsonNode x = e.get("eos_token_id");
            if (x.isArray()) x.forEach(v -> want.add(v.asInt())); else want.add(x.asInt());
            if (!want.equals(new TreeSet<>(g.stopIds()))) diffs.add("eos_token_id");
        }
        return diffs.isEmpty() ? null : "generation settings differ from the reference's: " + diffs;
    }

    /** HF-style messages → a Conversation (system, user turns with their images, assistant answers). */
    static Conversation conversation(Fixture fx, JsonNode messages) {
        String system = null;
        List<Conversation.Turn> turns = new ArrayList<>();
        String user = null;
        List<Conversation.Media> media = new ArrayList<>();
        for (JsonNode m : messages) {
            String role = m.path("role").asText();
            JsonNode content = m.path("content");
            switch (role) {
                case "system" -> system = content.asText();
                case "user" -> {
                    if (user != null) { turns.add(new Conversation.Turn(user, media, null)); media = new ArrayList<>(); }
                    StringBuilder text = new StringBuilder();
                    if (content.isTextual()) text.append(content.asText());
                    else for (JsonNode item : content) {
                        if (item.has("image")) media.add(new Conversation.Image(fx.resolve(item.get("image").asText()), null));
                        else if (item.has("text")) text.append(item.get("text").asText());
                    }
                    user = text.toString();
                }
                case "assistant" -> {
                    if (user == null) throw new IllegalArgumentException("assistant message before any user message");
                    turns.add(new Conversation.Turn(user, media, content.asText()));
                    user = null;
                    media = new ArrayList<>();
                }
                default -> throw new IllegalArgumentException("unknown role \"" + role + "\"");
            }
        }
        if (user != null) turns.add(new Conversation.Turn(user, media, null));
        return new Conversation(system, turns);
    }

    /** The VoRA processor's image path (expand2square, resize, center crop, normalize) with the case's params. */
    private static CaseResult preprocess(Fixture fx, JsonNode c) {
        JsonNode p = c.path("params");
        VoRAImageProcessor.Params params = new VoRAImageProcessor.Params(p.path("expand2square").asBoolean(true),
                Checker.ints(p.path("background")), p.path("size").asInt(), p.path("crop_size").asInt(),
                p.path("rescale_factor").asDouble(1.0 / 255), Checker.floats(p.path("image_mean")), Checker.floats(p.path("image_std")), 14);
        VoRAImageProcessor.Result r = VoRAImageProcessor.load(fx.resolve(c.path("image").asText()), params);
        Checker ck = new Checker(fx, c);
        ck.intsEq("square_size", r.squareSize());
        ck.intsEq("grid_thw", r.gridThw());
        ck.floats("pixel_values", r.pixelValues());
        return ck.result();
    }
}
