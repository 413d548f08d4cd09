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

    /** Parses an LLM config object; unknown variants (sliding window, other rope types, other activations) are refused. */
    public static Qwen2Config of(Json.Obj c) {
        int hidden = c.integer("hidden_size");
        int heads = c.integer("num_attention_heads");
        if (heads <= 0 || hidden % heads != 0 && !c.has("head_dim"))
            throw new WeightsException(c.where() + ": hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        String act = c.string("hidden_act", "silu");
        if (!act.equals("silu")) throw new WeightsException(c.where() + ": hidden_act \"" + act + "\" is not supported (Qwen2 uses silu)");
        if (c.bool("use_sliding_window", false))
            throw new WeightsException(c.where() + ": use_sliding_window=true is not supported");
        String ropeType = null;
        double factor = 0;
        if (c.has("rope_scaling")) {
            Json.Obj rs = c.obj("rope_scaling");
            String t = rs.string("rope_type", rs.string("type", "default"));
            switch (t) {
                case "default" -> { }
                case "dynamic" -> { ropeType = t; factor = rs.number("factor"); }
                default -> throw new WeightsException(c.where() + ": rope_scaling type \"" + t + "\" is not supported (only dynamic)");
            }
        }
        return new Qwen2Config(hidden, c.integer("intermediate_size"), heads, c.integer("num_key_value_heads", heads),
                c.integer("head_dim", hidden / heads), c.integer("num_hidden_layers"), (float) c.number("rms_norm_eps", 1e-6),
                c.number("rope_theta", 10000.0), ropeType, factor, c.integer("vocab_size"),
                c.bool("tie_word_embeddings", false), c.integer("max_position_embeddings", 32768));
    }

    public int kvDim() { return numKeyValueHeads * headDim; }

    public int qDim() { return numAttentionHeads * headDim; }

    private static void check(boolean ok, String msg) { if (!ok) throw new WeightsException("Qwen2 config: " + msg); }
}
