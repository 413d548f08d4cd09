package dev.navil4j.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.internvl.InternVLChatModel;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.QuantPolicy;
import dev.navil4j.tokenizer.IncrementalDecoder;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorInfo;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The shipped {@link InternVLChatModel} (InternViT + mlp1 + Qwen2Model) on weights of a {@link BenchShape} synthesized in
 * memory: {@link SafeTensors#synthetic} hands the model exactly the tensors it asks for, so `bench` measures the code that
 * serves requests, not a second implementation. LLM linear layers are synthesized in the benchmark format and pass the
 * family's {@code --weights} policy untouched; embeddings and the lm_head follow {@link QuantPolicy#headWeights}; the
 * ViT's linear layers keep q8 for q4 runs (4-bit ruins InternViT); norms and biases are f32. A shape without a vision
 * tower gets a tiny one (the LLM figures are unaffected).
 */
public final class SyntheticInternVL implements AutoCloseable {
    /** Ids of the special tokens the model needs (the top of the vocabulary, as added tokens sit). */
    public final int imgContextId, stopId;
    public final InternVLChatModel model;
    /** The synthesized tensors, under their checkpoint names (SyntheticCheckpoint writes them to disk). */
    public final SafeTensors tensors;
    private final SyntheticWeights weights;

    public SyntheticInternVL(BenchShape s, DType format, long seed) {
        this.weights = new SyntheticWeights(seed);
        DType head = DType.valueOf(QuantPolicy.headWeights(format.name()).toUpperCase(Locale.ROOT));
        DType vitFormat = format == DType.Q4 ? DType.Q8 : format;
        DType vitPatch = vitFormat == DType.Q8 ? DType.BF16 : vitFormat;
        SafeTensors st = SafeTensors.synthetic("bench-" + s.name(), (name, shape) -> {
            if (shape.length == 1) {
                long n = shape[0];
                float center = name.endsWith(".bias") ? 0f : name.matches(".*\\.ls[12]$") ? 0.1f : 1f;
                float[] v = weights.vector(Math.toIntExact(n), center, 0.01f);
                return new TensorInfo(name, DType.F32, shape, MemorySegment.ofArray(v), null);
            }
            int rows = Math.toIntExact(shape[0]);
            long cols = 1;
            for (int i = 1; i < shape.length; i++) cols *= shape[i];
            boolean llm = name.startsWith("language_model.");
            boolean embedOrHead = name.endsWith("embed_tokens.weight") || name.endsWith("lm_head.weight");
            DType f;
            if (name.contains("position_embedding") || name.contains("class_embedding")) f = DType.F32;
            else if (llm) f = embedOrHead ? head : format;
            else f = name.contains("patch_embedding") ? vitPatch : vitFormat;
            if ((f == DType.Q8 || f == DType.Q4) && cols % 32 != 0) f = DType.BF16;
            weights.matrix(name, f, rows, Math.toIntExact(cols));
            return new TensorInfo(name, f, shape, weights.segments().getLast(), null);
        });
        tensors = st;
        imgContextId = s.vocab() - 2;
        stopId = s.vocab() - 1;
        try {
            model = InternVLChatModel.of(st, config(s), new IdTokenizer(s.vocab()),
                    new LoadOptions(format.name().toLowerCase(Locale.ROOT), 16384, false, true, null), imgContextId, stopId);
        } catch (RuntimeException | Error e) {
            weights.close();
            throw e;
        }
    }

    /** config.json of an InternVL3 checkpoint of this shape (InternViT-300M and a Qwen2.5 LLM). */
    static Json.Obj config(BenchShape s) {
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.putArray("architectures").add("InternVLChatModel");
        c.put("model_type", "internvl_chat").put("downsample_ratio", 0.5).put("dynamic_image_size", true).put("use_thumbnail", true)
                .put("ps_version", "v2").put("select_layer", -1).put("template", "internvl2_5").put("min_dynamic_patch", 1)
                .put("max_dynamic_patch", 12);
        BenchShape.Vision v = s.vision();
        int width = v == null ? 64 : v.width(), layers = v == null ? 1 : v.layers(), heads = v == null ? 4 : v.heads();
        int mlp = v == null ? 128 : v.mlp();
        int patch = v == null ? 14 : (int) Math.round(Math.sqrt(v.patchInputs() / 3.0));
        int image = v == null ? 56 : patch * (int) Math.round(Math.sqrt(v.tokens() - 1)); // tokens = patches + CLS
        c.put("force_image_size", image);
        ObjectNode vc = c.putObject("vision_config");
        vc.putArray("architectures").add("InternVisionModel");
        vc.put("hidden_size", width).put("num_hidden_layers", layers).put("num_attention_heads", heads).put("intermediate_size", mlp)
                .put("image_size", image).put("patch_size", patch).put("qkv_bias", true).put("qk_normalization", false)
                .put("norm_type", "layer_norm").put("layer_norm_eps", 1e-6).put("hidden_act", "gelu").put("use_flash_attn", false);
        ObjectNode lc = c.putObject("llm_config");
        lc.putArray("architectures").add("Qwen2ForCausalLM");
        lc.put("model_type", "qwen2").put("hidden_size", s.llmHidden()).put("num_hidden_layers", s.layers())
                .put("num_attention_heads", s.heads()).put("num_key_value_heads", s.kvHeads()).put("head_dim", s.headDim())
                .put("intermediate_size", s.intermediate())
                .put("vocab_size", s.vocab()).put("rope_theta", s.ropeTheta()).put("rms_norm_eps", 1e-6).put("hidden_act", "silu")
                .put("max_position_embeddings", 32768).put("tie_word_embeddings", false);
        return new Json.Obj(c, "synthetic " + s.name() + " config.json");
    }

    /** The synthesized tensors' memory (for the bandwidth probe). */
    public java.util.List<MemorySegment> segments() { return weights.segments(); }

    /** Bytes of weights one decoded token reads: the decoder's linear layers and the lm_head. */
    public long bytesPerToken() { return model.languageModel.linearWeightBytes() + model.languageModel.lmHead().byteSize(); }

    /** One 448² tile (or the tiny tower's) of fixed pseudo-random pixels, [1, 3, s, s]. */
    public float[] tile() {
        int s = model.vision.tileSize();
        float[] px = new float[3 * s * s];
        for (int i = 0; i < px.length; i++) px[i] = (i % 255) / 255f - 0.5f;
        return px;
    }

    @Override
    public void close() {
        model.close();
        weights.close();
    }

    /** Ids as their decimal text: generation on synthetic weights only needs the tokenizer to count and stream. */
    static final class IdTokenizer implements Tokenizer {
        private final int size;

        IdTokenizer(int size) { this.size = size; }

        @Override public int[] encode(String text, boolean addSpecialTokens) {
            throw new UnsupportedOperationException("synthetic benchmark models take prompts as ids");
        }

        @Override public String decode(int[] ids, boolean skipSpecialTokens) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) b.append(id).append(' ');
            return b.toString();
        }

        @Override public int tokenId(String token) { return -1; }

        @Override public String token(int id) { return Integer.toString(id); }

        @Override public int size() { return size; }

        @Override public boolean isSpecial(int id) { return false; }

        @Override public IncrementalDecoder incrementalDecoder(boolean skipSpecialTokens) {
            return new IncrementalDecoder() {
                @Override public String push(int id) { return id + " "; }

                @Override public String finish() { return ""; }
            };
        }
    }
}
