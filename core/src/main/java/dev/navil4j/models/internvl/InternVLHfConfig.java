package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A transformers-native {@code InternVLForConditionalGeneration} checkpoint's settings (the {@code OpenGVLab/InternVL3-*-hf}
 * repos): config.json read with configuration_internvl.py's fields and defaults, mapped onto the
 * {@link InternVLChatConfig} the shared model classes run on, plus what only this layout has: the image token id, the
 * top-level tie flag, and the processor ({@link InternVLHfProcessor}).
 *
 * <p>Field map (configuration_internvl.py → what the remote-code config called it): {@code vision_feature_layer} →
 * select_layer; {@code downsample_ratio} → downsample_ratio; pixel shuffle always the v2 order
 * (InternVLModel.pixel_shuffle swaps back); {@code vision_config.image_size} → force_image_size (there is no separate
 * force key); {@code attention_bias} → qkv_bias; {@code use_qk_norm} → qk_normalization; {@code text_config} → llm_config.
 * Absent keys take configuration_internvl.py's defaults, which are not the remote-code ones (norm_type "layer_norm",
 * hidden 1024, 24 layers, 16 heads, image 448, no qkv bias, no QK-norm).
 */
public record InternVLHfConfig(InternVLChatConfig chat, int imageTokenId, boolean tieWordEmbeddings, String textModelType) {

    /** Whether config.json is the transformers-native layout: architectures or model_type say so. */
    public static boolean accepts(Json.Obj config) {
        JsonNode arch = config.node().path("architectures");
        if (arch.isArray()) for (JsonNode a : arch) if (a.asText().equals("InternVLForConditionalGeneration")) return true;
        return config.node().path("model_type").asText("").equals("internvl");
    }

    public static InternVLHfConfig parse(Json.Obj c) {
        Json.Obj v = c.objOrEmpty("vision_config");
        InternVisionConfig vision = vision(v);
        Json.Obj text = c.objOrEmpty("text_config");
        // InternVLConfig.__post_init__: a text_config without model_type is built as qwen2
        String textType = text.string("model_type", "qwen2");
        if (!textType.equals("qwen2"))
            throw new WeightsException(text.where() + ": model_type \"" + textType + "\" is not supported (navil4j runs "
                    + "InternVLForConditionalGeneration with a qwen2 text model; InternVL3-9B's and InternVL2.5's "
                    + "llama-converted InternLM LLMs are not implemented)");
        String act = c.string("projector_hidden_act", "gelu");
        if (!act.equals("gelu"))
            throw new WeightsException(c.where() + ": projector_hidden_act \"" + act + "\" is not supported (InternVL's projector uses gelu)");
        String strategy = c.string("vision_feature_select_strategy", "default");
        if (!strategy.equals("default"))
            throw new WeightsException(c.where() + ": vision_feature_select_strategy \"" + strategy + "\" is not supported "
                    + "(\"default\" drops the CLS token; with \"full\" get_image_features cannot reshape the patch grid)");
        if (c.has("vision_feature_layer") && !c.node().get("vision_feature_layer").isIntegralNumber())
            throw new WeightsException(c.where() + ": vision_feature_layer " + c.node().get("vision_feature_layer")
                    + " is not supported (one layer index; a list of layers is not implemented)");
        int select = c.integer("vision_feature_layer", -1);
        if (select < -(vision.layers() + 1) || select > vision.layers())
            throw new WeightsException(c.where() + ": vision_feature_layer " + select + " outside the " + vision.layers() + "-layer ViT");
        double ratio = c.number("downsample_ratio", 0.5);
        int k = (int) Math.round(1 / ratio);
        if (ratio <= 0 || Math.abs(k * ratio - 1) > 1e-9)
            throw new WeightsException(c.where() + ": downsample_ratio " + ratio + " is not 1/k for an integer k");
        int grid = vision.gridSize();
        if (grid % k != 0)
            throw new WeightsException(c.where() + ": a " + grid + "-patch grid is not divisible by 1/downsample_ratio " + k);
        // the LLM architecture the shared loader checks; text_config.architectures when the converter kept them
        String arch = text.node().path("architectures").path(0).asText("Qwen2ForCausalLM");
        if (!arch.equals("Qwen2ForCausalLM"))
            throw new WeightsException(text.where() + ": architectures[0] \"" + arch + "\" is not supported (navil4j runs Qwen2ForCausalLM)");
        InternVLChatConfig chat = new InternVLChatConfig(vision, text, arch, vision.imageSize(), ratio, "v2", select,
                null, null, true, true, 1, 12);
        // InternVLConfig: image_token_id 151667 (Qwen2.5's <IMG_CONTEXT>), tie_word_embeddings True
        return new InternVLHfConfig(chat, c.integer("image_token_id", 151667), c.bool("tie_word_embeddings", true), textType);
    }

    /** vision_config with InternVLVisionConfig's field names and defaults. */
    static InternVisionConfig vision(Json.Obj v) {
        String norm = v.string("norm_type", "layer_norm");
        if (!norm.equals("rms_norm") && !norm.equals("layer_norm"))
            throw new WeightsException(v.where() + ": norm_type \"" + norm + "\" is not supported (rms_norm or layer_norm)");
        String act = v.string("hidden_act", "gelu");
        if (!act.equals("gelu"))
            throw new WeightsException(v.where() + ": hidden_act \"" + act + "\" is not supported (InternViT uses gelu)");
        if (!v.bool("use_absolute_position_embeddings", true))
            throw new WeightsException(v.where() + ": use_absolute_position_embeddings false is not supported (InternViT's embeddings have them)");
        if (!v.bool("use_mean_pooling", true))
            throw new WeightsException(v.where() + ": use_mean_pooling false (a final LayerNorm on the ViT output) is not supported");
        int image = square(v, "image_size", 448), patch = square(v, "patch_size", 14);
        float eps = (float) v.number("layer_norm_eps", 1e-6);
        boolean qkNorm = v.bool("use_qk_norm", false);
        // InternVLVisionRMSNorm(embed_dim) for q_norm/k_norm takes its default eps 1e-6, not layer_norm_eps (the
        // remote code used layer_norm_eps for both); the shared ViT has one eps, so a checkpoint where they differ is refused
        if (qkNorm && eps != 1e-6f)
            throw new WeightsException(v.where() + ": use_qk_norm with layer_norm_eps " + v.number("layer_norm_eps")
                    + " is not supported (transformers' q_norm/k_norm use eps 1e-6)");
        var c = new InternVisionConfig(v.integer("hidden_size", 1024), v.integer("num_attention_heads", 16),
                v.integer("intermediate_size", 4096), v.integer("num_hidden_layers", 24), patch, image,
                v.integer("num_channels", 3), v.bool("attention_bias", false), qkNorm, norm.equals("rms_norm"), eps);
        if (c.hiddenSize() % c.heads() != 0)
            throw new WeightsException(v.where() + ": hidden_size " + c.hiddenSize() + " is not divisible by num_attention_heads " + c.heads());
        if (c.imageSize() % c.patchSize() != 0)
            throw new WeightsException(v.where() + ": image_size " + c.imageSize() + " is not a multiple of patch_size " + c.patchSize());
        return c;
    }

    /** An int or an [h, w] pair (InternVLVisionConfig turns an int into a pair); only squares are supported. */
    private static int square(Json.Obj v, String key, int dflt) {
        if (!v.has(key)) return dflt;
        JsonNode n = v.node().get(key);
        if (n.isArray()) {
            if (n.size() != 2 || !n.get(0).isIntegralNumber() || !n.get(1).isIntegralNumber())
                throw new WeightsException(v.where() + ": " + key + " " + n + " must be an integer or a pair of integers");
            if (n.get(0).asInt() != n.get(1).asInt())
                throw new WeightsException(v.where() + ": " + key + " " + n + " is not supported (only square sizes)");
            return n.get(0).asInt();
        }
        return v.integer(key);
    }

    /**
     * text_config with the head-tying decision made: transformers ties lm_head to embed_tokens when the top-level
     * tie_word_embeddings is true (its default) and the checkpoint has no lm_head; a stored lm_head whose values
     * differ from the embeddings is kept untied (modeling_utils.tie_weights), as InternVL3 ships it.
     */
    public Json.Obj textConfig(boolean lmHeadStored) {
        ObjectNode t = chat.llm().node().deepCopy();
        t.put("tie_word_embeddings", !lmHeadStored && tieWordEmbeddings);
        return new Json.Obj(t, chat.llm().where());
    }

    /** The checkpoint's generation_config.json (transformers reads it for generate()), or null. */
    static Json.Obj generationConfig(Path dir) {
        Path g = dir.resolve("generation_config.json");
        return Files.isRegularFile(g) ? Json.Obj.of(g) : null;
    }
}
