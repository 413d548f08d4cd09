package dev.navil4j.bench;

import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@link BenchShape} read from a checkpoint's config.json (`bench --config DIR|FILE|org/name[@rev]`), so any
 * InternVL-style checkpoint can be benchmarked on synthesized weights without downloading its weights.
 * <p>The benchmark model is always the shipped InternVL code (InternViT + mlp1 + a Qwen2 decoder, see
 * {@link SyntheticInternVL}); a config whose language model is another decoder of the same layout (InternLM2, Qwen3,
 * Llama) is benchmarked as a Qwen2 decoder of its sizes — decode reads the same weight bytes per token, and the small
 * differences (q/k norms, biases) are named in {@link #notes}.
 *
 * @param shape the sizes the benchmark synthesizes
 * @param notes what the benchmark model does not reproduce of this config (printed before the run)
 */
public record ConfigShape(BenchShape shape, List<String> notes) {
    /** Decoders with Qwen2's layer layout (pre-norm attention with GQA + SwiGLU MLP). */
    private static final Set<String> SAME_LAYOUT = Set.of("Qwen2ForCausalLM", "Qwen3ForCausalLM", "InternLM2ForCausalLM",
            "LlamaForCausalLM");

    /**
     * @param name   the shape's name in the output (the directory or repo id the config came from)
     * @param config config.json: InternVL's original layout ({@code internvl_chat}), the transformers "-hf" layout
     *               ({@code internvl}), or a bare language model (qwen2, qwen3, internlm2, llama, and VoRA's Qwen2 config)
     */
    public static ConfigShape of(String name, Json.Obj config) {
        List<String> notes = new ArrayList<>();
        String type = config.string("model_type", "");
        switch (type) {
            case "internvl_chat" -> {
                // InternVLChatConfig forces tie_word_embeddings off: the stored lm_head is always read
                Json.Obj llm = config.obj("llm_config");
                Json.Obj vision = config.objOrEmpty("vision_config");
                int image = config.integer("force_image_size", 0);
                if (image <= 0) image = vision.has("image_size") ? vision.integer("image_size") : 448;
                return new ConfigShape(decoder(name, llm, false, notes, vision.has("hidden_size") ? vit(vision, image, image(vision, "patch_size"), notes) : null), notes);
            }
            case "internvl" -> {
                // transformers' InternVLForConditionalGeneration: text_config / vision_config, sizes as lists
                Json.Obj text = config.obj("text_config");
                Json.Obj vision = config.objOrEmpty("vision_config");
                boolean tied = config.bool("tie_word_embeddings", text.bool("tie_word_embeddings", false));
                BenchShape.Vision v = vision.has("hidden_size") ? vit(vision, image(vision, "image_size"), image(vision, "patch_size"), notes) : null;
                return new ConfigShape(decoder(name, text, tied, notes, v), notes);
            }
            case "navil_chat" -> throw new WeightsException(config.where() + ": NaViL's native ViT and visual experts are "
                    + "benchmarked by --shape navil-2b / navil-9b (the real NaViL code), not from a config");
            default -> {
                if (config.has("llm_config") || config.has("text_config"))
                    throw new WeightsException(config.where() + ": model_type \"" + type + "\" is not a layout bench knows "
                            + "(internvl_chat, internvl, or a bare decoder config)");
                if (type.equals("vora")) notes.add("VoRA: its patch embedding is not modelled (the LLM figures are)");
                return new ConfigShape(decoder(name, config, config.bool("tie_word_embeddings", false), notes, null), notes);
            }
        }
    }

    private static BenchShape decoder(String name, Json.Obj llm, boolean tied, List<String> notes, BenchShape.Vision vision) {
        String arch = llm.has("architectures") && llm.node().get("architectures").isArray() && !llm.node().get("architectures").isEmpty()
                ? llm.node().get("architectures").get(0).asText() : null;
        if (arch == null) {
            // VoRA's config names its own architecture at the top; its decoder is Qwen2
            String mt = llm.string("model_type", "");
            arch = switch (mt) {
                case "qwen2", "vora" -> "Qwen2ForCausalLM";
                case "qwen3" -> "Qwen3ForCausalLM";
                case "internlm2" -> "InternLM2ForCausalLM";
                case "llama" -> "LlamaForCausalLM";
                default -> null;
            };
        } else if (arch.equals("VoRAForCausalLM")) arch = "Qwen2ForCausalLM";
        if (arch == null || !SAME_LAYOUT.contains(arch))
            throw new WeightsException(llm.where() + ": language model architecture " + (arch == null ? "(none named)" : arch)
                    + " is not one bench can synthesize (" + String.join(", ", SAME_LAYOUT.stream().sorted().toList()) + ")");
        if (!arch.equals("Qwen2ForCausalLM"))
            notes.add(arch + " benchmarked as a Qwen2 decoder of the same sizes"
                    + (arch.startsWith("Qwen3") ? " (with q/k/v biases it does not have, without its q/k RMSNorms)" : " (with q/k/v biases it does not have)"));
        int hidden = llm.integer("hidden_size"), heads = llm.integer("num_attention_heads");
        // transformers: num_key_value_heads defaults to num_attention_heads, head_dim to hidden_size / heads
        // (InternLM2Attention ignores a head_dim key)
        int kvHeads = llm.integer("num_key_value_heads", heads);
        int headDim = arch.equals("InternLM2ForCausalLM") ? hidden / heads : llm.integer("head_dim", hidden / heads);
        double theta = llm.number("rope_theta", llm.has("rope_parameters") ? llm.obj("rope_parameters").number("rope_theta", 10000) : 10000);
        return new BenchShape(name, hidden, llm.integer("num_hidden_layers"), heads, kvHeads, headDim,
                llm.integer("intermediate_size"), llm.integer("vocab_size"), tied, !arch.equals("InternLM2ForCausalLM")
                && !arch.equals("LlamaForCausalLM") && !arch.startsWith("Qwen3"), theta, vision);
    }

    /** InternViT of the config's sizes, one tile of {@code image}² pixels in {@code patch}² patches plus the CLS token. */
    private static BenchShape.Vision vit(Json.Obj v, int image, int patch, List<String> notes) {
        if (image % patch != 0) throw new WeightsException(v.where() + ": image size " + image + " is not a multiple of the patch size " + patch);
        if ("rms_norm".equals(v.string("norm_type", "layer_norm")) || v.bool("qk_normalization", false) || v.bool("use_qk_norm", false))
            notes.add("vision tower: RMSNorm / q-k normalization (InternViT-6B) benchmarked as LayerNorm (the GEMMs dominate)");
        int tokens = (image / patch) * (image / patch) + 1;
        return new BenchShape.Vision("vit-" + v.integer("hidden_size") + "x" + v.integer("num_hidden_layers"), v.integer("hidden_size"),
                v.integer("num_hidden_layers"), v.integer("num_attention_heads"), v.integer("intermediate_size"), tokens, 3 * patch * patch);
    }

    /** An image or patch size written as a number (InternVL) or as [h, w] (transformers); only square ones. */
    private static int image(Json.Obj v, String key) {
        if (!v.has(key)) return key.equals("patch_size") ? 14 : 448;
        var n = v.node().get(key);
        if (n.isArray()) {
            List<Integer> hw = v.intList(key);
            if (hw.size() != 2 || !hw.get(0).equals(hw.get(1)))
                throw new WeightsException(v.where() + ": \"" + key + "\" must be square, got " + n);
            return hw.get(0);
        }
        return v.integer(key);
    }
}
