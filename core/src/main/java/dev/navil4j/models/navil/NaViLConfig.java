package dev.navil4j.models.navil;

import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.util.List;

/**
 * NaViL's config.json ({@code NaViLChatConfig}): the top level with {@code vision_config} and
 * {@code llm_config}, parsed with the hub key names and the reference defaults.
 *
 * @param template            conversation template name ("internlm2-chat", "qwen3-chat")
 * @param systemMessage       config {@code system_message}, or null for the template's own
 * @param downsampleRatio     pixel-shuffle ratio (0.5 → 2×2 merge units)
 * @param minDynamicPatch     min patches of one scale (min_pixels = this·16²)
 * @param maxDynamicPatch     max patches of the top scale (max_pixels = this·16²)
 * @param scaleDownsampleRatio pyramid ratio between scales
 */
public record NaViLConfig(Vision vision, Llm llm, String template, String systemMessage, double downsampleRatio,
                          int minDynamicPatch, int maxDynamicPatch, double scaleDownsampleRatio, Json.Obj llmJson) {

    /** Without the llm_config object (synthesized models: generation defaults are HF's global ones). */
    public NaViLConfig(Vision vision, Llm llm, String template, String systemMessage, double downsampleRatio,
                       int minDynamicPatch, int maxDynamicPatch, double scaleDownsampleRatio) {
        this(vision, llm, template, systemMessage, downsampleRatio, minDynamicPatch, maxDynamicPatch, scaleDownsampleRatio, null);
    }

    /** {@code NaViLVisionConfig}: the any-resolution ViT. */
    public record Vision(int hiddenSize, int heads, int layers, int intermediateSize, int patchSize, String normType,
                         double layerNormEps, boolean qkvBias, boolean qkNormalization, int windowSize,
                         List<Integer> fullattBlockIndexes, int mergeSize) {
        public int headDim() { return hiddenSize / heads; }

        /** Layers attending over the whole grid (all of them when fullatt_block_indexes is null). */
        public boolean fullAttention(int layer) { return fullattBlockIndexes == null || fullattBlockIndexes.contains(layer); }
    }

    /**
     * The LLM ({@code InternLM2VEForCausalLM} or {@code Qwen3VEForCausalLM}).
     *
     * @param ropeDynamicFactor rope_scaling factor when its type is "dynamic" (InternLM2), else 0
     */
    public record Llm(String architecture, int hiddenSize, int heads, int kvHeads, int headDim, int layers,
                      int intermediateSize, int vocabSize, double ropeTheta, double rmsNormEps,
                      int maxPositionEmbeddings, double ropeDynamicFactor, boolean tieWordEmbeddings) {}

    /**
     * Parses config.json with the rules of configuration_navil_chat.py / configuration_navil_vit.py /
     * modeling_navil_chat.py and the LLM's own config class (docs/CONFIG.md): their defaults for absent keys,
     * ps_version and select_layer ignored (extract_feature always runs pixel_shuffle_v2 on last_hidden_state), and a
     * refusal naming the field for what the reference cannot build or navil4j does not run.
     */
    public static NaViLConfig parse(Json.Obj c) {
        Json.Obj v = c.objOrEmpty("vision_config");
        if (!c.has("llm_config"))
            throw new WeightsException(c.where() + ": llm_config is missing");
        Json.Obj l = c.obj("llm_config");
        for (String lora : new String[] {"use_backbone_lora", "use_llm_lora"})
            if (c.integer(lora, 0) != 0)
                throw new WeightsException(c.where() + ": " + lora + " " + c.integer(lora, 0)
                        + " wraps the model in peft LoRA (base_model.model.* tensors); merge the LoRA weights first");
        // configuration_navil_chat.py:53: vision_config.downsample_ratio = the top-level downsample_ratio
        double ratio = c.number("downsample_ratio", 0.5);
        int merge = (int) Math.round(1.0 / ratio);
        if (ratio <= 0 || Math.abs(merge * ratio - 1) > 1e-9)
            throw new WeightsException(c.where() + ": downsample_ratio " + ratio + " is not 1/k for an integer k");
        Vision vision = vision(v, merge);
        Llm llm = llm(l);
        // template defaults to None, and get_conv_template(None) fails (modeling_navil_chat.py:147)
        if (!c.has("template"))
            throw new WeightsException(c.where() + ": template is missing or null (the reference looks up conv_templates[None] and fails)");
        return new NaViLConfig(vision, llm, c.string("template"), systemMessage(c), ratio,
                c.integer("min_dynamic_patch", 256), c.integer("max_dynamic_patch", 24576),
                c.number("scale_downsample_ratio", 0.7071), l);
    }

    /** modeling_navil_chat.py:148, as InternVL: a system_message key wins (JSON null is Python None, printed "None"). */
    static String systemMessage(Json.Obj c) {
        if (!c.node().has("system_message")) return null;
        return c.node().get("system_message").isNull() ? "None" : c.string("system_message");
    }

    /** NaViLVisionConfig (configuration_navil_vit.py) with its defaults. */
    static Vision vision(Json.Obj v, int merge) {
        int vh = v.integer("hidden_size", 3200), vHeads = v.integer("num_attention_heads", 25);
        if (vh % vHeads != 0) throw new WeightsException(v.where() + ": hidden_size " + vh + " not divisible by num_attention_heads " + vHeads);
        String norm = v.string("norm_type", "rms_norm");
        if (!norm.equals("rms_norm") && !norm.equals("layer_norm"))
            throw new WeightsException(v.where() + ": unknown norm_type \"" + norm + "\"");
        String act = v.string("hidden_act", "gelu");
        if (!act.equals("gelu")) throw new WeightsException(v.where() + ": hidden_act \"" + act + "\" is not supported (gelu)");
        boolean qkNorm = v.bool("qk_normalization", true);
        // the reference applies q_norm/k_norm (weight [hidden]) to q viewed as (seq, heads, head_dim): it only runs
        // with one head, where that is an RMSNorm over the whole hidden size (what this engine computes)
        if (qkNorm && vHeads != 1)
            throw new WeightsException(v.where() + ": qk_normalization with " + vHeads
                    + " heads cannot run in the reference NaViL ViT (norm of size hidden_size over head_dim); not supported");
        List<Integer> full = v.has("fullatt_block_indexes") ? v.intList("fullatt_block_indexes") : null;
        int window = v.integer("window_size", 8);
        // get_window_index asserts window_size // merge_size > 0 on every call, full-attention-only models included
        if (window / merge <= 0)
            throw new WeightsException(v.where() + ": window_size " + window + " must be at least the merge size " + merge);
        return new Vision(vh, vHeads, v.integer("num_hidden_layers", 48), v.integer("intermediate_size", 12800),
                v.integer("patch_size", 14), norm, v.number("layer_norm_eps", 1e-6), v.bool("qkv_bias", false),
                qkNorm, window, full, merge);
    }

    /** The LLM config, per architecture: InternLM2Config (remote code) or Qwen3VEConfig (configuration_qwen3.py). */
    static Llm llm(Json.Obj l) {
        String arch = l.has("architectures") && l.required("architectures").size() > 0
                ? l.required("architectures").get(0).asText() : "";
        boolean internlm2 = arch.equals("InternLM2VEForCausalLM");
        if (!internlm2 && !arch.equals("Qwen3VEForCausalLM"))
            throw new WeightsException(l.where() + ": architectures[0] \"" + arch
                    + "\" is not supported (the reference NaViLChatConfig builds InternLM2VEForCausalLM and Qwen3VEForCausalLM)");
        int hidden = l.integer("hidden_size", 4096), heads = l.integer("num_attention_heads", 32);
        // InternLM2Config: num_key_value_heads None -> heads; Qwen3VEConfig: default 32, None -> heads
        boolean kvNull = l.node().has("num_key_value_heads") && l.node().get("num_key_value_heads").isNull();
        int kvHeads = kvNull ? heads : l.integer("num_key_value_heads", internlm2 ? heads : 32);
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
            throw new WeightsException(l.where() + ": num_attention_heads " + heads + " not divisible by num_key_value_heads " + kvHeads);
        // InternLM2Attention: head_dim = hidden_size // num_heads (a head_dim key is ignored); Qwen3: head_dim, default 128
        int headDim = internlm2 ? hidden / heads : l.integer("head_dim", 128);
        if (internlm2 && hidden % heads != 0)
            throw new WeightsException(l.where() + ": hidden_size " + hidden + " not divisible by num_attention_heads " + heads);
        if (internlm2 && l.bool("bias", true))
            throw new WeightsException(l.where() + ": bias true (wqkv/wo biases) is not supported for InternLM2VEForCausalLM");
        if (!internlm2 && l.bool("attention_bias", false))
            throw new WeightsException(l.where() + ": attention_bias true is not supported for Qwen3VEForCausalLM");
        if (!internlm2 && l.bool("use_sliding_window", false))
            throw new WeightsException(l.where() + ": use_sliding_window true is not supported");
        String act = l.string("hidden_act", "silu");
        if (!act.equals("silu")) throw new WeightsException(l.where() + ": hidden_act \"" + act + "\" is not supported (silu)");
        double dyn = internlm2 ? internlm2Rope(l) : qwen3Rope(l);
        return new Llm(arch, hidden, heads, kvHeads, headDim, l.integer("num_hidden_layers", 32),
                l.integer("intermediate_size", internlm2 ? 11008 : 22016), l.integer("vocab_size", internlm2 ? 103168 : 151936),
                l.number("rope_theta", 10000), l.number("rms_norm_eps", 1e-6),
                l.integer("max_position_embeddings", internlm2 ? 2048 : 32768), dyn,
                // the LLM's own flag decides; the top-level tie_word_embeddings (a PretrainedConfig default) is ignored
                l.bool("tie_word_embeddings", false));
    }

    /**
     * InternLM2Config._rope_scaling_validation: null, or a dict of exactly {type, factor} with type "linear" or
     * "dynamic" and a float factor >= 1 (an integer JSON factor is refused, as isinstance(factor, float) does);
     * InternLM2Attention._init_rope reads ['type'] only. Returns the dynamic factor, 0 for plain RoPE.
     */
    static double internlm2Rope(Json.Obj l) {
        if (!l.has("rope_scaling")) return 0;
        Json.Obj rs = l.obj("rope_scaling");
        if (rs.node().size() != 2 || !rs.has("type") || !rs.node().has("factor"))
            throw new WeightsException(l.where() + ": rope_scaling " + rs.node() + " must have exactly the fields type and factor (InternLM2Config)");
        String type = rs.string("type");
        var f = rs.node().get("factor");
        if (!f.isFloatingPointNumber() || f.asDouble() < 1)
            throw new WeightsException(l.where() + ": rope_scaling.factor " + f + " must be a float >= 1 (InternLM2Config)");
        return switch (type) {
            case "dynamic" -> f.asDouble();
            case "linear" -> throw new WeightsException(l.where() + ": rope_scaling.type \"linear\" is not supported (navil4j implements dynamic)");
            default -> throw new WeightsException(l.where() + ": rope_scaling.type \"" + type + "\" is not one of linear, dynamic (InternLM2Config)");
        };
    }

    /**
     * Qwen3VEConfig.__init__ (transformers 4.x): a legacy 'type' overwrites rope_type; then ROPE_INIT_FUNCTIONS[rope_type].
     * Only "default" and "dynamic" are implemented.
     */
    static double qwen3Rope(Json.Obj l) {
        if (!l.has("rope_scaling")) return 0;
        Json.Obj rs = l.obj("rope_scaling");
        String type = rs.has("type") ? rs.string("type") : rs.string("rope_type", "default");
        return switch (type) {
            case "default" -> 0;
            case "dynamic" -> rs.number("factor");
            default -> throw new WeightsException(l.where() + ": rope_scaling.rope_type \"" + type
                    + "\" is not supported (navil4j implements \"default\" and \"dynamic\")");
        };
    }
}
