package dev.navil4j.models.qwen2;

import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

/**
 * The Qwen2 decoder's hyper-parameters under transformers' Qwen2Config key names and defaults. Read from
 * the LLM part of a checkpoint's config: {@code llm_config} for InternVL, the top level for VoRA.
 *
 * @param ropeScalingType  null (plain RoPE) or "dynamic" (NTK-aware, InternVL3 ships it)
 * @param ropeScalingFactor the dynamic factor (0 when unused)
 */
public record Qwen2Config(int hiddenSize, int intermediateSize, int numAttentionHeads, int numKeyValueHeads,
                          int headDim, int numHiddenLayers, float rmsNormEps, double ropeTheta, String ropeScalingType,
                          double ropeScalingFactor, int vocabSize, boolean tieWordEmbeddings, int maxPositionEmbeddings) {

    public Qwen2Config {
        check(hiddenSize > 0 && intermediateSize > 0 && numHiddenLayers > 0 && vocabSize > 0 && headDim > 0,
                "sizes must be positive");
        check(numAttentionHeads > 0 && numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0,
                "num_attention_heads (" + numAttentionHeads + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        check(headDim % 2 == 0, "head_dim must be even for rotary embeddings, got " + headDim);
    }

    /**
     * Parses an LLM config object the way transformers' Qwen2Config (v5, the fixtures' version) does: absent keys take
     * the class defaults, {@code rope_scaling} (legacy) or {@code rope_parameters} give the rotary variant, and variants
     * this engine does not run (sliding-window layers, other rope types, other activations) are refused naming the field.
     */
    public static Qwen2Config of(Json.Obj c) {
        // configuration_qwen2.py field defaults; num_key_value_heads: absent -> 32, null -> num_attention_heads
        int hidden = c.integer("hidden_size", 4096);
        int heads = c.integer("num_attention_heads", 32);
        int kvHeads = c.node().has("num_key_value_heads") && c.node().get("num_key_value_heads").isNull()
                ? heads : c.integer("num_key_value_heads", 32);
        int layers = c.integer("num_hidden_layers", 32);
        if (heads <= 0 || hidden % heads != 0 && !c.has("head_dim"))
            throw new WeightsException(c.where() + ": hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        String act = c.string("hidden_act", "silu");
        if (!act.equals("silu")) throw new WeightsException(c.where() + ": hidden_act \"" + act + "\" is not supported (Qwen2 uses silu)");
        checkSlidingWindow(c, layers);
        Rotary r = rotary(c);
        // Qwen2Attention: head_dim = getattr(config, "head_dim", hidden_size // num_attention_heads)
        return new Qwen2Config(hidden, c.integer("intermediate_size", 22016), heads, kvHeads,
                c.integer("head_dim", hidden / heads), layers, (float) c.number("rms_norm_eps", 1e-6),
                r.theta(), r.type(), r.factor(), c.integer("vocab_size", 151936),
                c.bool("tie_word_embeddings", false), c.integer("max_position_embeddings", 32768));
    }

    /** The rotary variant: type null (plain) or "dynamic", its factor, and the base. */
    record Rotary(String type, double factor, double theta) {}

    /**
     * modeling_rope_utils.py (v5) convert_rope_params_to_dict / standardize_rope_params: a legacy {@code rope_scaling}
     * dict replaces {@code rope_parameters}; its {@code rope_type} wins over the legacy {@code type}; a rope_theta
     * inside the dict wins over the top-level one (default 10000). Only "default" and "dynamic" are implemented.
     */
    static Rotary rotary(Json.Obj c) {
        String field = c.has("rope_scaling") ? "rope_scaling" : c.has("rope_parameters") ? "rope_parameters" : null;
        double topTheta = c.number("rope_theta", 10000.0);
        if (field == null) return new Rotary(null, 0, topTheta);
        Json.Obj rs = c.obj(field);
        String type = rs.string("rope_type", rs.string("type", "default"));
        double theta = rs.has("rope_theta") ? rs.number("rope_theta") : topTheta;
        return switch (type) {
            case "default" -> new Rotary(null, 0, theta);
            case "dynamic" -> {
                if (!rs.has("factor")) throw new WeightsException(c.where() + ": " + field + " type \"dynamic\" needs a \"factor\"");
                double f = rs.number("factor");
                // the reference only warns on factor < 1; dynamic NTK then never rescales below max_position_embeddings
                yield new Rotary("dynamic", f, theta);
            }
            default -> throw new WeightsException(c.where() + ": " + field + ".rope_type \"" + type
                    + "\" is not supported (navil4j implements \"default\" and \"dynamic\")");
        };
    }

    /**
     * Qwen2Config.__post_init__: a layer slides only when use_sliding_window is set and its index is at least
     * max_window_layers (or an explicit layer_types says so); a config whose layers all attend fully runs as usual.
     */
    private static void checkSlidingWindow(Json.Obj c, int layers) {
        if (c.has("layer_types")) {
            for (var t : c.required("layer_types"))
                if (!t.asText().equals("full_attention"))
                    throw new WeightsException(c.where() + ": layer_types \"" + t.asText() + "\" is not supported (only full_attention)");
            return;
        }
        // sliding_window: absent -> 4096, null -> no window
        boolean noWindow = c.node().has("sliding_window") && c.node().get("sliding_window").isNull();
        if (c.bool("use_sliding_window", false) && !noWindow && c.integer("max_window_layers", 28) < layers)
            throw new WeightsException(c.where() + ": use_sliding_window=true with max_window_layers "
                    + c.integer("max_window_layers", 28) + " < num_hidden_layers " + layers + " (sliding-window attention) is not supported");
    }

    public int kvDim() { return numKeyValueHeads * headDim; }

    public int qDim() { return numAttentionHeads * headDim; }

    private static void check(boolean ok, String msg) { if (!ok) throw new WeightsException("Qwen2 config: " + msg); }
}
