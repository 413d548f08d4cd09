package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.SafeTensorsWriter;
import dev.navil4j.weights.TensorInfo;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Test-side conversion of a remote-code InternVL checkpoint into the transformers-native layout, written here from the
 * rules of transformers' convert_internvl_weights_to_hf.py (independently of the loader under test):
 * <ul>
 *   <li>config.json: InternVLConfig with vision_config (the converter's UNNECESSARY_CONFIG_KEYS dropped,
 *       qk_normalization → use_qk_norm, qkv_bias → attention_bias, use_absolute_position_embeddings true) and
 *       text_config (llm_config minus the same keys, use_cache true, eos_token_id forced to {@code <|im_end|>} as for
 *       InternVL3), image_token_id = {@code <IMG_CONTEXT>}, select_layer → vision_feature_layer;</li>
 *   <li>tensors: the converter's regex renames applied in its order, {@code attn.qkv} split into q/k/v rows
 *       [0, C), [C, 2C), [C·2, 3C) (its {@code [:dim]}, {@code [dim:2*dim]}, {@code [-dim:]}), in one of the two namings
 *       the -hf repos were saved with;</li>
 *   <li>processor files: preprocessor_config.json as its write_image_processor (GotOcr2, size = the ViT's image size),
 *       processor_config.json (image_seq_length), the chat template, tokenizer_config.json with the
 *       start/end/context image tokens.</li>
 * </ul>
 */
final class HfLayoutConverter {
    /** The converter's first saving (transformers 4.51 module tree) or its later one (model.* prefixes, top lm_head). */
    enum Naming { FIRST, LATER }

    static final Set<String> DROP = Set.of("_name_or_path", "_attn_implementation_autoset", "auto_map", "use_bfloat16",
            "use_flash_attn", "bias", "laux_allreduce", "moe_coeff_ratio", "moe_intermediate_size", "moe_output_scale",
            "noisy_gate_policy", "shared_expert_intermediate_size", "use_residual", "use_moe", "use_rts",
            "use_weighted_residual", "moe_config", "num_experts", "num_routed_experts", "num_shared_experts",
            "capacity_factor", "eval_capacity_factor", "drop_path_rate");

    /** The -hf chat template (the converter's later version, images as {@code <IMG_CONTEXT>}). */
    static final String CHAT_TEMPLATE = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'}}"
            + "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
            + "{% for content in message['content'] %}{% if content['type'] == 'image' %}{{ '<IMG_CONTEXT>\\n' }}"
            + "{% elif content['type'] == 'video' %}{{ '<video>\\n' }}{% elif content['type'] == 'text' %}{{ content['text'] }}"
            + "{% endif %}{% endfor %}{% endif %}{{'<|im_end|>\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{'<|im_start|>assistant\\n' }}{% endif %}";

    private HfLayoutConverter() {}

    static String[][] visionRules(Naming n) {
        return new String[][] {{"vision_model", n == Naming.LATER ? "model.vision_tower" : "vision_tower"}, {"layers", "layer"},
                {"class_embedding", "cls_token"}, {"position_embedding", "position_embeddings"},
                {"patch_embedding", "patch_embeddings.projection"}, {"ls(\\d+)", "lambda_$1"},
                {"attn.proj", "attention.projection_layer"}, {"attn.dropout", "attention.projection_dropout"},
                {"attn", "attention"}, {"norm1", "layernorm_before"}, {"norm2", "layernorm_after"}};
    }

    static String rename(String key, Naming n) {
        String[][] rules;
        if (key.startsWith("vision_model")) rules = visionRules(n);
        else if (key.startsWith("language_model"))
            rules = n == Naming.LATER ? new String[][] {{"language_model.model.", "model.language_model."}, {"language_model.lm_head", "lm_head"}}
                    : new String[0][];
        else {
            String p = n == Naming.LATER ? "model.multi_modal_projector." : "multi_modal_projector.";
            rules = new String[][] {{"mlp1.0", p + "layer_norm"}, {"mlp1.1", p + "linear_1"}, {"mlp1.3", p + "linear_2"}};
        }
        for (String[] r : rules) key = key.replaceAll(r[0], r[1]);
        return key;
    }

    /** Writes the converted checkpoint of {@code src} into {@code dst}; returns the tensor names written. */
    static List<String> convert(Path src, Path dst, Naming naming) throws IOException {
        Files.createDirectories(dst);
        JsonNode orig = Json.read(src.resolve("config.json"));
        JsonNode added = Json.read(src.resolve("added_tokens.json"));
        int dim = orig.get("vision_config").get("hidden_size").asInt();
        List<String> names = new ArrayList<>();
        try (SafeTensors st = SafeTensors.open(src)) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            for (String key : new java.util.TreeSet<>(st.names())) {
                TensorInfo t = st.get(key);
                String nk = rename(key, naming);
                if (key.contains("attn.qkv")) {
                    String[] parts = {"q_proj", "k_proj", "v_proj"};
                    long rowBytes = t.data().byteSize() / t.shape()[0];
                    for (int i = 0; i < 3; i++) {
                        long[] shape = t.shape().clone();
                        shape[0] = dim;
                        MemorySegment rows = t.data().asSlice(i * dim * rowBytes, dim * rowBytes);
                        String name = nk.replace("attention.qkv", "attention." + parts[i]);
                        w.add(new SafeTensorsWriter.Entry(name, t.dtype().safetensorsName, shape, rows));
                        names.add(name);
                    }
                } else {
                    w.add(new SafeTensorsWriter.Entry(nk, t.dtype().safetensorsName, t.shape(), t.data()));
                    names.add(nk);
                }
            }
            w.metadata("format", "pt");
            w.write(dst.resolve("model.safetensors"));
        }
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dst.resolve("config.json").toFile(), config(orig, added));
        writeProcessor(src, dst, orig, naming);
        return names;
    }

    static ObjectNode config(JsonNode orig, JsonNode added) {
        ObjectNode vision = strip(orig.get("vision_config"));
        vision.put("use_absolute_position_embeddings", true);
        vision.set("use_qk_norm", vision.remove("qk_normalization"));
        vision.set("attention_bias", vision.remove("qkv_bias"));
        vision.remove(List.of("architectures", "model_type", "torch_dtype"));
        vision.put("model_type", "internvl_vision");
        ObjectNode text = strip(orig.get("llm_config"));
        text.put("use_cache", true);
        text.put("eos_token_id", added.get("<|im_end|>").asInt());
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.putArray("architectures").add("InternVLForConditionalGeneration");
        c.put("model_type", "internvl");
        c.put("downsample_ratio", orig.get("downsample_ratio").asDouble());
        c.put("vision_feature_layer", orig.get("select_layer").asInt());
        c.put("vision_feature_select_strategy", "default");
        c.put("projector_hidden_act", "gelu");
        c.put("image_token_id", added.get("<IMG_CONTEXT>").asInt());
        c.put("tie_word_embeddings", orig.get("tie_word_embeddings").asBoolean());
        c.set("text_config", text);
        c.set("vision_config", vision);
        return c;
    }

    private static ObjectNode strip(JsonNode n) {
        ObjectNode o = n.deepCopy();
        o.remove(DROP);
        return o;
    }

    private static void writeProcessor(Path src, Path dst, JsonNode orig, Naming naming) throws IOException {
        int size = orig.get("force_image_size").asInt();
        ObjectNode pre = Json.MAPPER.createObjectNode();
        pre.put("image_processor_type", "GotOcr2ImageProcessorFast").put("do_resize", true).put("do_rescale", true)
                .put("rescale_factor", 1 / 255.0).put("do_normalize", true).put("do_convert_rgb", true)
                .put("crop_to_patches", false).put("min_patches", 1).put("max_patches", 12).put("resample", 3);
        pre.putObject("size").put("height", size).put("width", size);
        pre.putArray("image_mean").add(0.485).add(0.456).add(0.406);
        pre.putArray("image_std").add(0.229).add(0.224).add(0.225);
        Json.MAPPER.writeValue(dst.resolve("preprocessor_config.json").toFile(), pre);
        int k = (int) Math.round(1 / orig.get("downsample_ratio").asDouble());
        int grid = size / orig.get("vision_config").get("patch_size").asInt() / k;
        Json.MAPPER.writeValue(dst.resolve("processor_config.json").toFile(),
                Json.MAPPER.createObjectNode().put("image_seq_length", grid * grid).put("processor_class", "InternVLProcessor"));
        // the first saving shipped chat_template.json, later ones chat_template.jinja
        if (naming == Naming.FIRST)
            Json.MAPPER.writeValue(dst.resolve("chat_template.json").toFile(), Json.MAPPER.createObjectNode().put("chat_template", CHAT_TEMPLATE));
        else Files.writeString(dst.resolve("chat_template.jinja"), CHAT_TEMPLATE);
        for (String f : new String[] {"tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json", "special_tokens_map.json"})
            Files.copy(src.resolve(f), dst.resolve(f));
        ObjectNode tok = (ObjectNode) Json.read(src.resolve("tokenizer_config.json"));
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("start_image_token", "<img>");
        extra.put("end_image_token", "</img>");
        extra.put("context_image_token", "<IMG_CONTEXT>");
        extra.put("video_token", "<video>");
        ObjectNode e = tok.putObject("extra_special_tokens");
        extra.forEach(e::put);
        tok.put("chat_template", CHAT_TEMPLATE);
        Json.MAPPER.writeValue(dst.resolve("tokenizer_config.json").toFile(), tok);
    }
}
