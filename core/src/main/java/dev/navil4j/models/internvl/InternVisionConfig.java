package dev.navil4j.models.internvl;

import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

/**
 * {@code vision_config} of an InternVL checkpoint (configuration_intern_vit.py InternVisionConfig), with the
 * reference's defaults for absent keys. The two InternViT layouts are chosen here, by config, never by shapes:
 * 300M ({@code norm_type "layer_norm"}, {@code qkv_bias true}, {@code qk_normalization false}) and 6B
 * ({@code "rms_norm"}, no qkv bias, QK-norm over the whole q/k vector).
 */
public record InternVisionConfig(int hiddenSize, int heads, int intermediateSize, int layers, int patchSize,
                                 int imageSize, int numChannels, boolean qkvBias, boolean qkNormalization,
                                 boolean rmsNorm, float layerNormEps) {

    public int headDim() { return hiddenSize / heads; }

    /** Patches per side of the grid the position embedding was trained for. */
    public int gridSize() { return imageSize / patchSize; }

    public static InternVisionConfig parse(Json.Obj v) {
        String norm = v.string("norm_type", "rms_norm");
        if (!norm.equals("rms_norm") && !norm.equals("layer_norm"))
            throw new WeightsException(v.where() + ": unsupported norm_type \"" + norm + "\" (rms_norm or layer_norm)");
        String act = v.string("hidden_act", "gelu");
        if (!act.equals("gelu"))
            throw new WeightsException(v.where() + ": unsupported hidden_act \"" + act + "\" (InternViT uses gelu)");
        if (v.bool("use_moe", false))
            throw new WeightsException(v.where() + ": InternViT with use_moe is not supported");
        var c = new InternVisionConfig(
                v.integer("hidden_size", 3200), v.integer("num_attention_heads", 25),
                v.integer("intermediate_size", 12800), v.integer("num_hidden_layers", 48),
                v.integer("patch_size", 14), v.integer("image_size", 224), v.integer("num_channels", 3),
                v.bool("qkv_bias", false), v.bool("qk_normalization", true), norm.equals("rms_norm"),
                (float) v.number("layer_norm_eps", 1e-6));
        if (c.hiddenSize % c.heads != 0)
            throw new WeightsException(v.where() + ": hidden_size " + c.hiddenSize + " is not divisible by num_attention_heads " + c.heads);
        if (c.imageSize % c.patchSize != 0)
            throw new WeightsException(v.where() + ": image_size " + c.imageSize + " is not a multiple of patch_size " + c.patchSize);
        return c;
    }
}
