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

    public static InternVLChatConfig parse(Json.Obj c) {
        InternVisionConfig v = InternVisionConfig.parse(c.obj("vision_config"));
        Json.Obj llm = c.obj("llm_config");
        if (!llm.has("architectures") || !llm.node().get("architectures").isArray() || llm.node().get("architectures").isEmpty())
            throw new WeightsException(llm.where() + ": missing \"architectures\"");
        String arch = llm.node().get("architectures").get(0).asText();
        int force = c.has("force_image_size") ? c.integer("force_image_size") : v.imageSize();
        double ratio = c.number("downsample_ratio", 0.5);
        int k = (int) Math.round(1 / ratio);
        if (ratio <= 0 || Math.abs(k * ratio - 1) > 1e-9)
            throw new WeightsException(c.where() + ": downsample_ratio " + ratio + " is not 1/k for an integer k");
        int grid = force / v.patchSize();
        if (force % v.patchSize() != 0 || grid % k != 0)
            throw new WeightsException(c.where() + ": force_image_size " + force + " gives a " + grid + "-patch grid not divisible by " + k);
        String ps = c.string("ps_version", "v1");
        if (!ps.equals("v1") && !ps.equals("v2"))
            throw new WeightsException(c.where() + ": unknown ps_version \"" + ps + "\" (v1 or v2)");
        String template = c.string("template", "internvl2_5");
        int select = c.integer("select_layer", -1);
        if (select < -(v.layers() + 1) || select > v.layers())
            throw new WeightsException(c.where() + ": select_layer " + select + " outside the " + v.layers() + "-layer ViT");
        return new InternVLChatConfig(v, llm, arch, force, ratio, ps, select, template,
                c.has("system_message") ? c.string("system_message") : null,
                c.bool("dynamic_image_size", false), c.bool("use_thumbnail", false),
                c.integer("min_dynamic_patch", 1), c.integer("max_dynamic_patch", 6));
    }

    /** ViT layers run for select_layer: hidden_states[select_layer] of L + 1 states (index 0 = embeddings). */
    public int visionDepth() { return selectLayer < 0 ? vision.layers() + 1 + selectLayer : selectLayer; }
}
