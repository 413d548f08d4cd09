package dev.navil4j.models.internvl;

import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

/**
 * Top level of an InternVL checkpoint's config.json (configuration_internvl_chat.py InternVLChatConfig), with the
 * reference's defaults. The LLM part ({@code llm_config}) is parsed by the LLM's own config class.
 *
 * @param forceImageSize tile size fed to the ViT (force_image_size, else vision_config.image_size)
 * @param systemMessage  config's system_message when present (the GitHub code uses it), else null = the template's
 */
public record InternVLChatConfig(InternVisionConfig vision, Json.Obj llm, String llmArchitecture, int forceImageSize,
                                 double downsampleRatio, String psVersion, int selectLayer, String template,
                                 String systemMessage, boolean dynamicImageSize, boolean useThumbnail,
                                 int minDynamicPatch, int maxDynamicPatch) {

    /** 1 / downsample_ratio: patches merged per side by pixel_shuffle. */
    public int shuffleFactor() { return (int) Math.round(1 / downsampleRatio); }

    /** num_image_token = (image_size // patch_size)² · downsample_ratio². */
    public int numImageToken() {
        int g = forceImageSize / vision.patchSize();
        return (int) (g * g * (downsampleRatio * downsampleRatio));
    }

    /** llm_config architectures the GitHub reference builds (configuration_internvl_chat.py:53-62). */
    static final java.util.List<String> REFERENCE_LLMS =
            java.util.List.of("LlamaForCausalLM", "InternLM2ForCausalLM", "Phi3ForCausalLM", "Qwen2ForCausalLM");

    /**
     * Parses config.json with the rules of configuration_internvl_chat.py / modeling_internvl_chat.py (docs/CONFIG.md):
     * the reference's defaults, tie_word_embeddings forced false at both levels, force_image_size falling back to
     * vision_config.image_size when null or 0, any ps_version other than "v1" acting as v2, and a refusal naming the
     * field for what the reference cannot build or navil4j does not run.
     */
    public static InternVLChatConfig parse(Json.Obj c) {
        InternVisionConfig v = InternVisionConfig.parse(c.obj("vision_config"));
        Json.Obj llm = c.obj("llm_config");
        if (!llm.has("architectures") || !llm.node().get("architectures").isArray() || llm.node().get("architectures").isEmpty())
            throw new WeightsException(llm.where() + ": missing \"architectures\"");
        String arch = llm.node().get("architectures").get(0).asText();
        checkArchitecture(llm, arch);
        for (String lora : new String[] {"use_backbone_lora", "use_llm_lora"})
            if (c.integer(lora, 0) != 0)
                throw new WeightsException(c.where() + ": " + lora + " " + c.integer(lora, 0)
                        + " wraps the model in peft LoRA (base_model.model.* tensors); merge the LoRA weights first");
        // configuration_internvl_chat.py:78-79: tie_word_embeddings = False, also copied into llm_config, whatever
        // the JSON says; Qwen2ForCausalLM then keeps its stored language_model.lm_head.weight
        com.fasterxml.jackson.databind.node.ObjectNode untied = llm.node().deepCopy();
        untied.put("tie_word_embeddings", false);
        llm = new Json.Obj(untied, llm.where());
        // modeling_internvl_chat.py:52: config.force_image_size or config.vision_config.image_size (None and 0 are falsy)
        int force = c.has("force_image_size") && c.integer("force_image_size") != 0 ? c.integer("force_image_size") : v.imageSize();
        double ratio = c.number("downsample_ratio", 0.5);
        int k = (int) Math.round(1 / ratio);
        if (ratio <= 0 || Math.abs(k * ratio - 1) > 1e-9)
            throw new WeightsException(c.where() + ": downsample_ratio " + ratio + " is not 1/k for an integer k");
        int grid = force / v.patchSize();
        if (force % v.patchSize() != 0 || grid % k != 0)
            throw new WeightsException(c.where() + ": force_image_size " + force + " gives a " + grid + "-patch grid not divisible by " + k);
        // pixel_shuffle (modeling_internvl_chat.py:266): only "v1" skips the swap back; every other value is v2
        String ps = c.node().path("ps_version").isNull() ? "None" : c.string("ps_version", "v1");
        // template defaults to None, and get_conv_template(None) is a KeyError (modeling_internvl_chat.py:97)
        if (!c.has("template"))
            throw new WeightsException(c.where() + ": template is missing or null (the reference looks up conv_templates[None] and fails); "
                    + "InternVL2.5/InternVL3 checkpoints set \"internvl2_5\"");
        String template = c.string("template");
        int select = c.integer("select_layer", -1);
        if (select < -(v.layers() + 1) || select > v.layers())
            throw new WeightsException(c.where() + ": select_layer " + select + " outside the " + v.layers() + "-layer ViT");
        return new InternVLChatConfig(v, llm, arch, force, ratio, ps, select, template, systemMessage(c),
                c.bool("dynamic_image_size", false), c.bool("use_thumbnail", false),
                c.integer("min_dynamic_patch", 1), c.integer("max_dynamic_patch", 6));
    }

    /**
     * modeling_internvl_chat.py:98: hasattr(config, 'system_message') — a key in config.json (PretrainedConfig keeps
     * unknown keys as attributes) wins over the template's, even "" ; a JSON null becomes Python None, which
     * str.format renders as "None". Absent: null here, meaning the template's own message.
     */
    static String systemMessage(Json.Obj c) {
        if (!c.node().has("system_message")) return null;
        return c.node().get("system_message").isNull() ? "None" : c.string("system_message");
    }

    /** Refuses an LLM the reference cannot build, or one it builds but navil4j does not run, naming the value. */
    static void checkArchitecture(Json.Obj llm, String arch) {
        if (arch.equals("Qwen2ForCausalLM")) return;
        if (REFERENCE_LLMS.contains(arch))
            throw new WeightsException(llm.where() + ": architectures[0] \"" + arch
                    + "\" is not supported (navil4j runs InternVL with Qwen2ForCausalLM)");
        throw new WeightsException(llm.where() + ": architectures[0] \"" + arch + "\" is not supported: the reference "
                + "InternVLChatConfig builds only " + String.join(", ", REFERENCE_LLMS) + "; this LLM's code exists only "
                + "as trust_remote_code in its hub repository (e.g. InternVL3-9B's InternLM3), which navil4j cannot run");
    }

    /** ViT layers run for select_layer: hidden_states[select_layer] of L + 1 states (index 0 = embeddings). */
    public int visionDepth() { return selectLayer < 0 ? vision.layers() + 1 + selectLayer : selectLayer; }
}
