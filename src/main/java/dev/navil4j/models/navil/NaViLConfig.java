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
                          int minDynamicPatch, int maxDynamicPatch, double scaleDownsampleRatio) {

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

    public static NaViLConfig parse(Json.Obj c) {
        Json.Obj v = c.obj("vision_config");
        Json.Obj l = c.obj("llm_config");
        double ratio = c.number("downsample_ratio", 0.5);
        int merge = (int) Math.round(1.0 / ratio);
        String psVersion = c.string("ps_version", "v2");
        if (!psVersion.equals("v2"))
            throw new WeightsException(c.where() + ": NaViL ps_version \"" + psVersion + "\" is not supported (only v2)");
        int vh = v.integer("hidden_size"), vHeads = v.integer("num_attention_heads");
        if (vh % vHeads != 0) throw new WeightsException(v.where() + ": hidden_size " + vh + " not divisible by num_attention_heads " + vHeads);
        String norm = v.string("norm_type", "rms_norm");
        if (!norm.equals("rms_norm") && !norm.equals("layer_norm"))
            throw new WeightsException(v.where() + ": unknown norm_type \"" + norm + "\"");
        String act = v.string("hidden_act", "gelu");
        if (!act.equals("gelu")) throw new WeightsException(v.where() + ": hidden_act \"" + act + "\" is not supported (gelu)");
        // the reference applies q_norm/k_norm (weight [hidden]) to q viewed as (seq, heads, head_dim): it only runs
        // with one head, where that is an RMSNorm over the whole hidden size (what this engine computes)
        if (v.bool("qk_normalization", false) && vHeads != 1)
            throw new WeightsException(v.where() + ": qk_normalization with " + vHeads
                    + " heads cannot run in the reference NaViL ViT (norm of size hidden_size over head_dim); not supported");
        List<Integer> full = v.has("fullatt_block_indexes") ? v.intList("fullatt_block_indexes") : null;
        int window = v.integer("window_size", 0);
        // get_window_index asserts window_size // merge_size > 0 on every call, full-attention-only models included
        if (window / merge <= 0)
            throw new WeightsException(v.where() + ": window_size " + window + " must be at least the merge size " + merge);
        Vision vision = new Vision(vh, vHeads, v.integer("num_hidden_layers"), v.integer("intermediate_size"),
                v.integer("patch_size"), norm, v.number("layer_norm_eps", 1e-6), v.bool("qkv_bias", true),
                v.bool("qk_normalization", false), window, full, merge);

        String arch = l.has("architectures") && l.required("architectures").size() > 0
                ? l.required("architectures").get(0).asText() : "";
        if (!arch.equals("InternLM2VEForCausalLM") && !arch.equals("Qwen3VEForCausalLM"))
            throw new WeightsException(l.where() + ": unsupported NaViL LLM architecture \"" + arch
                    + "\" (InternLM2VEForCausalLM, Qwen3VEForCausalLM)");
        int hidden = l.integer("hidden_size"), heads = l.integer("num_attention_heads");
        int kvHeads = l.integer("num_key_value_heads", heads);
        if (heads % kvHeads != 0) throw new WeightsException(l.where() + ": num_attention_heads " + heads + " not divisible by num_key_value_heads " + kvHeads);
        int headDim = l.integer("head_dim", hidden / heads);
        double dyn = 0;
        if (l.has("rope_scaling")) {
            Json.Obj rs = l.obj("rope_scaling");
            String type = rs.string("type", rs.string("rope_type", "default"));
            if (type.equals("dynamic")) dyn = rs.number("factor");
            else if (!type.equals("default"))
                throw new WeightsException(l.where() + ": rope_scaling type \"" + type + "\" is not supported");
        }
        Llm llm = new Llm(arch, hidden, heads, kvHeads, headDim, l.integer("num_hidden_layers"),
                l.integer("intermediate_size"), l.integer("vocab_size"), l.number("rope_theta", 10000),
                l.number("rms_norm_eps", 1e-6), l.integer("max_position_embeddings", 32768), dyn,
                // the LLM's own flag decides; the top-level tie_word_embeddings (a PretrainedConfig default) is ignored
                l.bool("tie_word_embeddings", false));
        return new NaViLConfig(vision, llm, c.string("template", "internlm2-chat"),
                c.has("system_message") ? c.string("system_message") : null, ratio,
                c.integer("min_dynamic_patch", 256), c.integer("max_dynamic_patch", 24576),
                c.number("scale_downsample_ratio", 0.7071));
    }
}
