package dev.navil4j.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.SafeTensorsWriter;
import dev.navil4j.weights.TensorInfo;
import dev.navil4j.weights.WeightsException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Builds the step-0 pre-training checkpoint of the recipe from a base Qwen2 LLM and an AIMv2 teacher, as
 * VoRAForCausalLM.__init__ does (modeling_vora.py:40-66, lora.py:19-99, aux_vision.py:58-90):
 * <ul>
 *   <li>the LLM's tensors under {@code llm.} (frozen later);</li>
 *   <li>every target of the LoRA layers: lora_A kaiming-uniform(a = √5) = U(±1/√in), lora_B zeros, and a fresh
 *   nn.Linear bias U(±1/√in) where Qwen2 had none (o_proj, MLP) — LoRALayer always has one;</li>
 *   <li>{@code vision_embedding}: patchifier.{proj, norm} and pos_embed copied from the teacher's preprocessor
 *   ({@code reuse_aux_vision_embedding_layers: "preprocessor"}), out_proj nn.Linear default U(±1/√in);</li>
 *   <li>one head per teacher block: RMSNorm weight ones, Linear U(±1/√in).</li>
 * </ul>
 * Random draws come from one SplittableRandom(seed) in tensor order, so a seed gives the same checkpoint.
 */
public final class VoRAInit {
    private VoRAInit() {}

    static final List<String> TARGETS = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.up_proj", "mlp.gate_proj", "mlp.down_proj");

    /**
     * @param loraLayers "all" or the number of leading decoder layers that get LoRA (config lora.layers)
     * @return {@code out}, a checkpoint directory {@link VoRATrainModel#load} reads
     */
    public static Path create(Path baseLlm, Path teacherDir, String loraLayers, int rank, int imageSize, long seed, Path out) {
        if (rank <= 0) throw new IllegalArgumentException("LoRA rank must be positive, got " + rank);
        Json.Obj base = Json.Obj.of(baseLlm.resolve("config.json"));
        String mt = base.string("model_type", "");
        if (!mt.equals("qwen2")) throw new WeightsException(baseLlm + ": base LLM model_type \"" + mt + "\"; the VoRA trainer takes a Qwen2 LLM");
        Json.Obj tcfg = Json.Obj.of(teacherDir.resolve("config.json"));
        int layers = base.integer("num_hidden_layers"), hidden = base.integer("hidden_size");
        int nLora = loraLayers.equalsIgnoreCase("all") ? layers : Integer.parseInt(loraLayers);
        if (nLora < 0 || nLora > layers) throw new IllegalArgumentException("--lora-layers " + loraLayers + " outside [0, " + layers + "]");
        int tHidden = tcfg.integer("hidden_size"), patch = tcfg.integer("patch_size", 14), tBlocks = tcfg.integer("num_hidden_layers");
        if (imageSize % patch != 0) throw new IllegalArgumentException("image size " + imageSize + " is not a multiple of the patch size " + patch);
        int side = imageSize / patch;
        SplittableRandom rnd = new SplittableRandom(seed);
        SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
        try (SafeTensors llm = SafeTensors.open(baseLlm); SafeTensors teacher = SafeTensors.open(teacherDir)) {
            for (String name : llm.names().stream().sorted().toList()) {
                TensorInfo t = llm.get(name);
                w.add(VoRACheckpoints.f32("llm." + name, t.shape(), t.toFloatArray()));
            }
            if (base.bool("tie_word_embeddings", false) && !llm.contains("lm_head.weight")) {
                TensorInfo e = llm.get("model.embed_tokens.weight");
                w.add(VoRACheckpoints.f32("llm.lm_head.weight", e.shape(), e.toFloatArray()));
            }
            for (int l = 0; l < nLora; l++)
                for (String t : TARGETS) {
                    String n = "model.layers." + l + "." + t;
                    TensorInfo wt = llm.get(n + ".weight");
                    int outDim = wt.dim(0), in = wt.dim(1);
                    if (!llm.contains(n + ".bias")) w.add(VoRACheckpoints.f32("llm." + n + ".bias", new long[]{outDim}, uniform(rnd, outDim, in)));
                    w.add(VoRACheckpoints.f32("llm." + n + ".lora_A.weight", new long[]{rank, in}, uniform(rnd, rank * in, in)));
                    w.add(VoRACheckpoints.f32("llm." + n + ".lora_B.weight", new long[]{outDim, rank}, new float[outDim * rank]));
                }
            String p = "preprocessor.";
            for (String n : List.of("patchifier.proj.weight", "patchifier.proj.bias", "patchifier.norm.weight")) {
                TensorInfo t = teacher.get(p + n);
                w.add(VoRACheckpoints.f32("vision_embedding." + n, t.shape(), t.toFloatArray()));
            }
            TensorInfo pos = teacher.get(p + "pos_embed");
            if (pos.dim(1) < side * side) throw new IllegalArgumentException("teacher pos_embed has " + pos.dim(1) + " positions, " + imageSize + " px needs " + side * side);
            float[] pe = java.util.Arrays.copyOf(pos.toFloatArray(), side * side * tHidden);
            w.add(VoRACheckpoints.f32("vision_embedding.pos_embed", new long[]{1, (long) side * side, tHidden}, pe));
            w.add(VoRACheckpoints.f32("vision_embedding.out_proj.weight", new long[]{hidden, tHidden}, uniform(rnd, hidden * tHidden, tHidden)));
            for (int j = 0; j < tBlocks; j++) {
                float[] ones = new float[hidden];
                java.util.Arrays.fill(ones, 1f);
                w.add(VoRACheckpoints.f32("aux_vision.aux_layer_" + j + ".0.weight", new long[]{hidden}, ones));
                w.add(VoRACheckpoints.f32("aux_vision.aux_layer_" + j + ".1.weight", new long[]{tHidden, hidden}, uniform(rnd, tHidden * hidden, hidden)));
            }
            Files.createDirectories(out);
            w.write(out.resolve("model.safetensors"));
            ObjectNode cfg = ((ObjectNode) base.node().deepCopy());
            cfg.putArray("architectures").add("VoRAForCausalLM");
            cfg.put("model_type", "vora");
            cfg.put("llm", baseLlm.toAbsolutePath().normalize().toString());
            cfg.put("aux_vision", teacherDir.toAbsolutePath().normalize().toString());
            cfg.put("vision_embedding", "AIMv2Embedding");
            cfg.put("vision_embedding_intermediate_size", tHidden);
            cfg.put("patch_size", patch);
            cfg.put("image_size", imageSize);
            cfg.put("vision_attention_mask", "bidirectional");
            cfg.put("reuse_aux_vision_embedding_layers", "preprocessor");
            cfg.put("skip_aux_cls", false);
            cfg.put("torch_dtype", "float32");
            ObjectNode lora = cfg.putObject("lora");
            if (loraLayers.equalsIgnoreCase("all")) lora.put("layers", "all"); else lora.put("layers", nLora);
            lora.put("r", rank);
            var tm = lora.putArray("target_modules");
            TARGETS.forEach(tm::add);
            VoRACheckpoints.writeJson(out.resolve("config.json"), cfg);
            for (String f : VoRACheckpoints.SIDE_FILES) {
                Path s = baseLlm.resolve(f);
                if (Files.isRegularFile(s)) Files.copy(s, out.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /** n draws of U(−1/√fanIn, 1/√fanIn) (nn.Linear's kaiming_uniform(a = √5) bound and its bias bound). */
    static float[] uniform(SplittableRandom r, int n, int fanIn) {
        double bound = 1 / Math.sqrt(fanIn);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        return a;
    }
}
