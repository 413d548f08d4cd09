package dev.navil4j.models.vora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.models.qwen2.Qwen2Config;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * VoRAConfig (models/configuration_vora.py) as saved in config.json. The reference builds the LLM from
 * {@code config.llm} and then copies the LLM's config over its own, so every Qwen2 key is at the top level;
 * the {@code llm} path itself is ignored here.
 *
 * @param visionAttentionMask "bidirectional" (image blocks see themselves fully) or "default" (plain causal)
 * @param loraLayers          indices of the decoder layers whose target modules are LoRALayers
 * @param loraRank            r; -1 = merged checkpoint (LoRALayer.naive_forward), > 0 = lora_A/lora_B stored
 */
public record VoRAConfig(Qwen2Config llm, String visionEmbedding, int visionEmbeddingIntermediateSize, int patchSize,
                         int imageSize, String visionAttentionMask, List<Integer> loraLayers, int loraRank,
                         List<String> loraTargetModules, int imagePlaceholderIndex) {

    /** The processor's image_token_index (processing_vora.py): the id that marks where an image goes. */
    public static final int IMAGE_TOKEN_INDEX = -200;

    public boolean bidirectionalImages() { return visionAttentionMask.equals("bidirectional"); }

    /** Reads {@code dir/config.json}, with {@code override} (may be null) merged over its top-level keys. */
    public static VoRAConfig load(Path dir, JsonNode override) {
        Path file = dir.resolve("config.json");
        JsonNode node = Json.read(file);
        if (override != null && !override.isNull()) {
            if (!override.isObject() || !node.isObject()) throw new WeightsException(file + ": config_override must be a JSON object");
            node = ((ObjectNode) node.deepCopy()).setAll((ObjectNode) override);
        }
        return of(new Json.Obj(node, file.toString()));
    }

    public static VoRAConfig of(Json.Obj c) {
        // VoRAConfig's default "AIMv2" names no class of vision_embedding.py: getattr(VB, ...) fails without the key
        if (!c.has("vision_embedding"))
            throw new WeightsException(c.where() + ": vision_embedding is missing (the reference default \"AIMv2\" is no class of "
                    + "vision_embedding.py; VoRA checkpoints set \"AIMv2Embedding\")");
        String emb = c.string("vision_embedding");
        if (!emb.equals("AIMv2Embedding"))
            throw new WeightsException(c.where() + ": vision_embedding \"" + emb + "\" is not supported (only AIMv2Embedding)");
        // configuration_vora.py:23 default "bidirectional"
        String mask = c.string("vision_attention_mask", "bidirectional");
        if (!mask.equals("bidirectional") && !mask.equals("default"))
            throw new WeightsException(c.where() + ": vision_attention_mask \"" + mask + "\" is not supported (bidirectional or default, as make_mask)");
        if (c.has("aux_vision") && !c.string("aux_vision").isEmpty())
            throw new WeightsException(c.where() + ": aux_vision is a training-only head; an inference checkpoint has aux_vision \"\"");
        Qwen2Config llm = Qwen2Config.of(c);
        List<Integer> layers = new ArrayList<>();
        int rank = -1;
        List<String> targets = new ArrayList<>();
        // modeling_vora.py:47: `if config.lora:` — an empty dict means no LoRA layers at all
        if (c.has("lora") && !c.obj("lora").node().isEmpty()) {
            Json.Obj lora = c.obj("lora");
            rank = lora.integer("r", 1024);
            JsonNode l = lora.node().path("layers");
            int n;
            if (l.isMissingNode() || l.isTextual() && l.asText().equalsIgnoreCase("all")) n = llm.numHiddenLayers();
            else if (l.canConvertToInt()) n = l.asInt();
            else throw new WeightsException(c.where() + ": lora.layers must be an integer or \"all\", got " + l);
            if (n < 0 || n > llm.numHiddenLayers())
                throw new WeightsException(c.where() + ": lora.layers " + n + " outside [0, " + llm.numHiddenLayers() + "]");
            for (int i = 0; i < n; i++) layers.add(i);
            JsonNode t = lora.node().path("target_modules");
            if (t.isArray()) t.forEach(x -> targets.add(x.asText()));
            else targets.addAll(List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.up_proj", "mlp.gate_proj", "mlp.down_proj")); // lora.py QWEN2_TARGET_MODULES
        }
        return new VoRAConfig(llm, emb, c.integer("vision_embedding_intermediate_size", 1536), c.integer("patch_size", 14),
                c.integer("image_size", 448), mask, List.copyOf(layers), rank, List.copyOf(targets), IMAGE_TOKEN_INDEX);
    }
}
