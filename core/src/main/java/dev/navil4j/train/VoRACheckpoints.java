package dev.navil4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensorsWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Writes the two checkpoint layouts of the VoRA recipe:
 * <ul>
 *   <li>{@link #saveUnmerged}: the pre-training layout (VoRAForCausalLM.state_dict names: {@code llm.*} with
 *   LoRA {@code lora_A/lora_B} and biases, {@code vision_embedding.*}, {@code aux_vision.aux_layer_j.*}),
 *   config.json with lora r &gt; 0 and aux_vision pointing at the teacher — what {@link VoRATrainModel#load} reads;</li>
 *   <li>{@link #saveMerged}: tools/merge_lora.py:26-67 — every LoRA target's weight W + B @ A, its bias kept, the
 *   LoRA and aux_vision tensors dropped, config lora.r = -1 and aux_vision "" (the finetuning config has no
 *   aux_vision) — an inference checkpoint that {@code VoRAForCausalLM.load} (chat, serve) runs.</li>
 * </ul>
 * Both copy the tokenizer / generation / processor files of the source checkpoint; a preprocessor_config.json
 * for the CLIP-style AIMv2 processor at the config's image size is written when the source has none.
 */
public final class VoRACheckpoints {
    private VoRACheckpoints() {}

    static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
            "added_tokens.json", "special_tokens_map.json", "generation_config.json", "chat_template.json", "preprocessor_config.json");

    /** float32 tensor → a safetensors entry (little-endian bytes). */
    static SafeTensorsWriter.Entry f32(String name, long[] shape, float[] data) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return new SafeTensorsWriter.Entry(name, "F32", shape, MemorySegment.ofArray(b.array()));
    }

    /** The pre-training (unmerged) checkpoint of the model's current weights; teacherDir goes into aux_vision. */
    public static void saveUnmerged(VoRATrainModel model, Path sourceDir, Path teacherDir, Path out) {
        try {
            Files.createDirectories(out);
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            for (Param p : model.params().values()) w.add(f32(p.name, p.shape, p.w));
            w.write(out.resolve("model.safetensors"));
            ObjectNode cfg = (ObjectNode) Json.read(sourceDir.resolve("config.json")).deepCopy();
            cfg.put("aux_vision", teacherDir.toAbsolutePath().normalize().toString());
            cfg.put("torch_dtype", "float32");
            writeJson(out.resolve("config.json"), cfg);
            copySideFiles(sourceDir, out, model);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + out + ": " + e.getMessage(), e);
        }
    }

    /** The merged inference checkpoint (merge_lora.py). */
    public static void saveMerged(VoRATrainModel model, Path sourceDir, Path out) {
        try {
            Files.createDirectories(out);
            Map<String, float[]> merged = model.mergedWeights();
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            for (Param p : model.params().values()) {
                if (p.name.startsWith("aux_vision.") || p.name.contains(".lora_A.") || p.name.contains(".lora_B.")) continue;
                w.add(f32(p.name, p.shape, merged.getOrDefault(p.name, p.w)));
            }
            w.write(out.resolve("model.safetensors"));
            ObjectNode cfg = (ObjectNode) Json.read(sourceDir.resolve("config.json")).deepCopy();
            cfg.put("aux_vision", "");
            JsonNode lora = cfg.get("lora");
            if (lora instanceof ObjectNode l) l.put("r", -1); // merge_lora.py loads into a lora.r = -1 model
            cfg.put("torch_dtype", "float32");
            writeJson(out.resolve("config.json"), cfg);
            copySideFiles(sourceDir, out, model);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write merged checkpoint " + out + ": " + e.getMessage(), e);
        }
    }

    static void writeJson(Path file, JsonNode node) throws IOException {
        Files.writeString(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
    }

    private static void copySideFiles(Path src, Path out, VoRATrainModel model) throws IOException {
        if (src.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) return;
        for (String f : SIDE_FILES) {
            Path s = src.resolve(f);
            if (Files.isRegularFile(s)) Files.copy(s, out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.exists(out.resolve("preprocessor_config.json"))) {
            // the AIMv2 processor VoRA trains with: CLIP resize / center crop / 1/255 / CLIP mean-std, bicubic
            int size = model.config.imageSize();
            ObjectNode p = Json.MAPPER.createObjectNode();
            p.put("crop_size", size).put("do_center_crop", true).put("do_normalize", true).put("do_resize", true)
                    .put("feature_extractor_type", "CLIPFeatureExtractor").put("resample", 3).put("size", size);
            p.putArray("image_mean").add(0.48145466).add(0.4578275).add(0.40821073);
            p.putArray("image_std").add(0.26862954).add(0.26130258).add(0.27577711);
            writeJson(out.resolve("preprocessor_config.json"), p);
        }
    }
}
