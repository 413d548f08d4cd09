package dev.navil4j.models.internvl;

import dev.navil4j.nn.Linear;
import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorInfo;
import dev.navil4j.weights.TensorPath;
import dev.navil4j.weights.WeightsException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Where an InternVL checkpoint keeps each tensor. The model classes ask this object for names (and for the ViT's fused
 * qkv projection) instead of spelling them, so one loader runs both layouts:
 * <ul>
 *   <li>{@link #original}: the remote-code {@code InternVLChatModel} names ({@code vision_model.*}, {@code mlp1.*},
 *       {@code language_model.model.*}, {@code language_model.lm_head.weight});</li>
 *   <li>{@link #transformers}: transformers' {@code InternVLForConditionalGeneration} names, i.e. the renames of
 *       {@code convert_internvl_weights_to_hf.py} ({@code vision_model → vision_tower}, {@code layers → layer},
 *       {@code class_embedding → cls_token}, {@code position_embedding → position_embeddings},
 *       {@code patch_embedding → patch_embeddings.projection}, {@code lsN → lambda_N},
 *       {@code attn.proj → attention.projection_layer}, {@code attn → attention}, {@code norm1/2 →
 *       layernorm_before/after}, {@code mlp1.0/1/3 → multi_modal_projector.layer_norm/linear_1/linear_2}) with
 *       {@code attn.qkv} split into {@code q_proj/k_proj/v_proj} rows [0, C), [C, 2C), [2C, 3C).</li>
 * </ul>
 * The -hf repos exist in two savings: the converter's first version (module tree of transformers 4.51:
 * {@code vision_tower.*}, {@code multi_modal_projector.*}, {@code language_model.model.*},
 * {@code language_model.lm_head.weight}) and the later one ({@code model.vision_tower.*},
 * {@code model.multi_modal_projector.*}, {@code model.language_model.*}, {@code lm_head.weight}); transformers loads
 * both (its "llava" checkpoint-conversion renames), and so does this class, by looking at which names the file has.
 */
public abstract sealed class InternVLTensorNames {
    final SafeTensors st;

    private InternVLTensorNames(SafeTensors st) { this.st = st; }

    /** The remote-code layout. */
    public static InternVLTensorNames original(SafeTensors st) { return new Original(st); }

    /** The transformers-native layout, in whichever of its savings the checkpoint uses. */
    public static InternVLTensorNames transformers(SafeTensors st) { return new Transformers(st); }

    // --- ViT (InternVisionModel / InternVLVisionModel)
    abstract String patchEmbedding();           // Conv2d prefix (".weight", ".bias")
    abstract String classEmbedding();           // [1, 1, C]
    abstract String positionEmbedding();        // [1, 1 + g², C]
    abstract TensorPath layer(int i);
    abstract String norm1();
    abstract String norm2();
    abstract String proj();
    abstract String qNorm();
    abstract String kNorm();
    abstract String ls1();
    abstract String ls2();
    abstract String fc1();
    abstract String fc2();

    /** The layer's q, k, v projections as one [3C, C] Linear (rows q | k | v, as InternViT's fused {@code attn.qkv}). */
    abstract Linear qkv(TensorPath layer, int hidden, boolean bias);

    // --- projector (mlp1 / multi_modal_projector)
    abstract String projectorNorm();
    abstract String projectorFc1();
    abstract String projectorFc2();

    // --- LLM
    /** The decoder's base-model path (below it: embed_tokens, layers.N, norm). */
    public abstract TensorPath llmModel();

    /** The module holding the head's {@code weight}. */
    public abstract TensorPath lmHead();

    private static final class Original extends InternVLTensorNames {
        Original(SafeTensors st) { super(st); }

        @Override String patchEmbedding() { return "vision_model.embeddings.patch_embedding"; }
        @Override String classEmbedding() { return "vision_model.embeddings.class_embedding"; }
        @Override String positionEmbedding() { return "vision_model.embeddings.position_embedding"; }
        @Override TensorPath layer(int i) { return TensorPath.of(st, "vision_model.encoder.layers").pp(i); }
        @Override String norm1() { return "norm1"; }
        @Override String norm2() { return "norm2"; }
        @Override String proj() { return "attn.proj"; }
        @Override String qNorm() { return "attn.q_norm"; }
        @Override String kNorm() { return "attn.k_norm"; }
        @Override String ls1() { return "ls1"; }
        @Override String ls2() { return "ls2"; }
        @Override String fc1() { return "mlp.fc1"; }
        @Override String fc2() { return "mlp.fc2"; }
        @Override Linear qkv(TensorPath layer, int hidden, boolean bias) { return Linear.load(st, layer.pp("attn.qkv").path(), hidden, 3 * hidden, bias); }
        @Override String projectorNorm() { return "mlp1.0"; }
        @Override String projectorFc1() { return "mlp1.1"; }
        @Override String projectorFc2() { return "mlp1.3"; }
        @Override public TensorPath llmModel() { return TensorPath.of(st, "language_model.model"); }
        @Override public TensorPath lmHead() { return TensorPath.of(st, "language_model.lm_head"); }
    }

    private static final class Transformers extends InternVLTensorNames {
        private final String vision, projector;
        private final TensorPath llm, head;

        Transformers(SafeTensors st) {
            super(st);
            vision = firstWith(st, "embeddings.cls_token", "model.vision_tower", "vision_tower");
            projector = firstWith(st, "layer_norm.weight", "model.multi_modal_projector", "multi_modal_projector");
            String base = firstWith(st, "embed_tokens.weight", "model.language_model", "language_model.model", "language_model");
            llm = TensorPath.of(st, base);
            // the head sits beside the base model: lm_head.weight, or language_model.lm_head.weight in the first saving
            head = TensorPath.of(st, base.equals("language_model.model") && st.contains("language_model.lm_head.weight")
                    ? "language_model.lm_head" : "lm_head");
        }

        /** The first prefix under which {@code leaf} exists; a one-line error listing the names tried otherwise. */
        private static String firstWith(SafeTensors st, String leaf, String... prefixes) {
            for (String p : prefixes) if (st.contains(p + "." + leaf)) return p;
            StringBuilder tried = new StringBuilder();
            for (String p : prefixes) tried.append(tried.isEmpty() ? "" : ", ").append(p).append('.').append(leaf);
            throw new WeightsException(st.location() + ": not an InternVLForConditionalGeneration checkpoint: none of " + tried + " is stored");
        }

        @Override String patchEmbedding() { return vision + ".embeddings.patch_embeddings.projection"; }
        @Override String classEmbedding() { return vision + ".embeddings.cls_token"; }
        @Override String positionEmbedding() { return vision + ".embeddings.position_embeddings"; }
        @Override TensorPath layer(int i) { return TensorPath.of(st, vision + ".encoder.layer").pp(i); }
        @Override String norm1() { return "layernorm_before"; }
        @Override String norm2() { return "layernorm_after"; }
        @Override String proj() { return "attention.projection_layer"; }
        @Override String qNorm() { return "attention.q_norm"; }
        @Override String kNorm() { return "attention.k_norm"; }
        @Override String ls1() { return "lambda_1"; }
        @Override String ls2() { return "lambda_2"; }
        @Override String fc1() { return "mlp.fc1"; }
        @Override String fc2() { return "mlp.fc2"; }
        @Override String projectorNorm() { return projector + ".layer_norm"; }
        @Override String projectorFc1() { return projector + ".linear_1"; }
        @Override String projectorFc2() { return projector + ".linear_2"; }
        @Override public TensorPath llmModel() { return llm; }
        @Override public TensorPath lmHead() { return head; }

        /**
         * The inverse of the converter's split: q_proj, k_proj, v_proj stacked back into [3C, C] (and their biases into
         * [3C]), byte for byte in the stored dtype, so the ViT runs the same fused matmul as on the original layout.
         */
        @Override
        Linear qkv(TensorPath layer, int hidden, boolean bias) {
            TensorPath a = layer.pp("attention");
            TensorInfo[] w = new TensorInfo[3], b = new TensorInfo[3];
            String[] parts = {"q_proj", "k_proj", "v_proj"};
            for (int i = 0; i < 3; i++) {
                w[i] = a.pp(parts[i]).get("weight", hidden, hidden);
                if (w[i].dtype() != w[0].dtype())
                    throw new WeightsException(st.location() + ": " + w[i].name() + " is " + w[i].dtype() + " but " + w[0].name() + " is " + w[0].dtype());
                if (bias) b[i] = a.pp(parts[i]).get("bias", hidden);
                else if (a.pp(parts[i]).contains("bias"))
                    throw new WeightsException(st.location() + ": " + a.pp(parts[i]).name("bias")
                            + " is stored but vision_config.attention_bias is false");
            }
            WeightTensor fused = WeightTensor.of(a.name("qkv.weight"), w[0].dtype(), concat(w), 3 * hidden, hidden);
            float[] fusedBias = null;
            if (bias) {
                fusedBias = new float[3 * hidden];
                for (int i = 0; i < 3; i++) System.arraycopy(b[i].toFloatArray(), 0, fusedBias, i * hidden, hidden);
            }
            return new Linear(fused, fusedBias);
        }

        private static MemorySegment concat(TensorInfo[] parts) {
            long bytes = 0;
            for (TensorInfo t : parts) bytes += t.data().byteSize();
            MemorySegment out = Arena.ofAuto().allocate(bytes, 64);
            long off = 0;
            for (TensorInfo t : parts) {
                MemorySegment.copy(t.data(), 0, out, off, t.data().byteSize());
                off += t.data().byteSize();
            }
            return out;
        }
    }
}
