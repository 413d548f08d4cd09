package dev.navil4j.models.qwen2;

import dev.navil4j.nn.Activations;
import dev.navil4j.models.BatchRows;
import dev.navil4j.nn.CacheRun;
import dev.navil4j.nn.KVCache;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.LoraLinear;
import dev.navil4j.nn.Norms;
import dev.navil4j.nn.Projection;
import dev.navil4j.nn.Rope;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.tensor.QuantPolicy;
import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorPath;

/**
 * The Qwen2 decoder (transformers Qwen2ForCausalLM): token embeddings, layers of
 * RMSNorm → GQA self-attention with q/k/v bias and RoPE → residual → RMSNorm → SiLU-gated MLP → residual,
 * a final RMSNorm and the lm_head (tied or not). Shared by InternVL3 (prefix "language_model.") and VoRA
 * ("llm."); tensor names below the prefix are the hub's ({@code model.layers.N.self_attn.q_proj.weight}).
 * Weights stay mapped in their stored dtype; activations are f32.
 */
public final class Qwen2Model {
    /** Builds each linear layer of a block; VoRA swaps in LoRA-merged or LoRA-on-the-fly layers. */
    @FunctionalInterface
    public interface ProjectionLoader {
        /** The layer {@code name} (full tensor-name prefix, e.g. "llm.model.layers.0.mlp.up_proj") of shape [out, in]. */
        Projection load(SafeTensors st, String name, int in, int out);
    }

    /** Plain nn.Linear, with a bias whenever the checkpoint stores one. */
    public static final ProjectionLoader PLAIN = Linear::loadOptionalBias;

    /** One decoder layer, fields named after Qwen2DecoderLayer's modules. */
    record Layer(float[] inputLayernorm, Projection qProj, Projection kProj, Projection vProj, Projection oProj,
                 float[] postAttentionLayernorm, Projection gateProj, Projection upProj, Projection downProj) {}

    public final Qwen2Config config;
    private final WeightTensor embedTokens; // [vocab, hidden]
    private final Layer[] layers;
    private final float[] norm;             // [hidden]
    private final WeightTensor lmHead;      // [vocab, hidden]
    private final Rope rope;
    private final boolean kvCacheBf16;

    private Qwen2Model(Qwen2Config config, WeightTensor embedTokens, Layer[] layers, float[] norm, WeightTensor lmHead,
                       boolean kvCacheBf16) {
        this.config = config;
        this.kvCacheBf16 = kvCacheBf16;
        this.embedTokens = embedTokens;
        this.layers = layers;
        this.norm = norm;
        this.lmHead = lmHead;
        this.rope = config.ropeScalingType() == null ? new Rope(config.headDim(), config.ropeTheta())
                : new Rope(config.headDim(), config.ropeTheta(), config.ropeScalingFactor(), config.maxPositionEmbeddings());
    }

    public static Qwen2Model load(SafeTensors st, String prefix, Qwen2Config c) { return load(st, prefix, c, PLAIN); }

    /** Loads {@code prefix + "model.*"} and {@code prefix + "lm_head.weight"} (absent when tied), stored precision. */
    public static Qwen2Model load(SafeTensors st, String prefix, Qwen2Config c, ProjectionLoader linear) {
        return load(st, prefix, c, linear, LoadOptions.defaults());
    }

    /**
     * As {@link #load(SafeTensors, String, Qwen2Config, ProjectionLoader)} with the {@code --weights} policy applied to
     * the decoder layers' seven linear weights (after {@code linear} built them, so merged LoRA weights are summed in
     * f32 first and quantized once; unmerged LoRA factors stay as stored) and, per {@link QuantPolicy#headWeights}, to the
     * lm_head. Embeddings and norms keep their stored precision. {@code options.kvCacheBf16} selects bf16 KV caches.
     */
    public static Qwen2Model load(SafeTensors st, String prefix, Qwen2Config c, ProjectionLoader linear, LoadOptions options) {
        TensorPath root = TensorPath.of(st, prefix);
        return load(st, root.pp("model"), root.pp("lm_head"), c, linear, options);
    }

    /**
     * As {@link #load(SafeTensors, String, Qwen2Config, ProjectionLoader, LoadOptions)} with the decoder ({@code model})
     * and the head ({@code lmHead}) at paths of their own, for checkpoints that do not keep them under one prefix
     * (transformers' InternVLForConditionalGeneration: {@code model.language_model.*} and {@code lm_head.weight}).
     */
    public static Qwen2Model load(SafeTensors st, TensorPath model, TensorPath lmHead, Qwen2Config c, ProjectionLoader linear,
                                  LoadOptions options) {
        ProjectionLoader raw = linear;
        linear = (s, name, in, out) -> quantize(raw.load(s, name, in, out), options);
        int h = c.hiddenSize(), inter = c.intermediateSize();
        WeightTensor embed = model.pp("embed_tokens").get("weight", c.vocabSize(), h).matrix();
        Layer[] layers = new Layer[c.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            TensorPath layer = model.pp("layers").pp(i), attn = layer.pp("self_attn"), mlp = layer.pp("mlp");
            // Qwen2Attention builds q/k/v_proj with bias=True (o_proj and the MLP without): PLAIN takes a bias when
            // stored, so a missing one must be refused here rather than run as a bias-free projection
            for (String proj : new String[]{"q_proj", "k_proj", "v_proj"})
                if (!attn.pp(proj).contains("bias"))
                    throw new dev.navil4j.weights.WeightsException(st.location() + ": missing tensor \"" + attn.pp(proj).name("bias")
                            + "\" (Qwen2's q/k/v projections have a bias)");
            layers[i] = new Layer(
                    layer.pp("input_layernorm").floats("weight", h),
                    linear.load(st, attn.pp("q_proj").path(), h, c.qDim()),
                    linear.load(st, attn.pp("k_proj").path(), h, c.kvDim()),
                    linear.load(st, attn.pp("v_proj").path(), h, c.kvDim()),
                    linear.load(st, attn.pp("o_proj").path(), c.qDim(), h),
                    layer.pp("post_attention_layernorm").floats("weight", h),
                    linear.load(st, mlp.pp("gate_proj").path(), h, inter),
                    linear.load(st, mlp.pp("up_proj").path(), h, inter),
                    linear.load(st, mlp.pp("down_proj").path(), inter, h));
        }
        float[] norm = model.pp("norm").floats("weight", h);
        WeightTensor head = c.tieWordEmbeddings() ? embed : lmHead.get("weight", c.vocabSize(), h).matrix();
        head = QuantPolicy.apply(head, QuantPolicy.headWeights(options.weights()));
        return new Qwen2Model(c, embed, layers, norm, head, options.kvCacheBf16());
    }

    /** A built layer with its base weight under the policy (LoRA factors are rank-r and stay as stored). */
    static Projection quantize(Projection p, LoadOptions options) {
        return switch (p) {
            case Linear l -> new Linear(QuantPolicy.apply(l.weight(), options.weights()), l.bias());
            case LoraLinear lo -> new LoraLinear((Linear) quantize(lo.base(), options), lo.loraA(), lo.loraB(), lo.scale());
            default -> p;
        };
    }

    /** Bytes of the decoder layers' linear weights in their loaded formats (LoRA factors included), without the lm_head. */
    public long linearWeightBytes() {
        long b = 0;
        for (Layer L : layers)
            for (Projection p : new Projection[] {L.qProj(), L.kProj(), L.vProj(), L.oProj(), L.gateProj(), L.upProj(), L.downProj()})
                b += switch (p) {
                    case Linear l -> l.weight().byteSize();
                    case LoraLinear lo -> lo.base().weight().byteSize() + lo.loraA().byteSize() + lo.loraB().byteSize();
                    default -> 0;
                };
        return b;
    }

    /** The lm_head as loaded (its format follows {@link QuantPolicy#headWeights}). */
    public WeightTensor lmHead() { return lmHead; }

    public int hiddenSize() { return config.hiddenSize(); }

    public int vocabSize() { return config.vocabSize(); }

    /** Rows of embed_tokens for ids: [n, hidden]. */
    public float[] embed(int[] ids) {
        int h = config.hiddenSize();
        float[] out = new float[Math.multiplyExact(ids.length, h)];
        for (int t = 0; t < ids.length; t++) {
            int id = ids[t];
            if (id < 0 || id >= config.vocabSize())
                throw new IllegalArgumentException("token id " + id + " at index " + t + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            embedTokens.rowToFloat(id, out, t * h);
        }
        return out;
    }

    /** An empty KV cache for up to maxTokens positions. */
    public KVCache newCache(int maxTokens) {
        return new KVCache(config.numHiddenLayers(), config.kvDim(), maxTokens, Math.min(maxTokens, 256), kvCacheBf16);
    }

    /**
     * Runs n new tokens given as embeddings [n, hidden] at rotary positions {@code positions[n]}, appending their
     * keys/values to {@code cache}. Attention is causal; with {@code imageBlockIds[n]} (null = pure causal) tokens
     * sharing an id ≥ 0 also see each other bidirectionally (VoRA's image blocks). A block must lie within one call.
     * Returns the logits of the last token [vocab], or of every token [n, vocab] when {@code allLogits}.
     */
    public float[] forward(float[] embeds, int n, int[] positions, KVCache cache, int[] imageBlockIds, boolean allLogits) {
        float[] x = hidden(embeds, n, positions, cache, imageBlockIds);
        int h = config.hiddenSize(), vocab = config.vocabSize();
        if (allLogits) {
            float[] logits = new float[Math.multiplyExact(n, vocab)];
            lmHead.matmul(x, n, logits, null);
            return logits;
        }
        float[] last = java.util.Arrays.copyOfRange(x, (n - 1) * h, n * h);
        float[] logits = new float[vocab];
        lmHead.matmul(last, 1, logits, null);
        return logits;
    }

    /**
     * A batched step ({@link BatchRows}: rows of several sequences, each extending its own cache): the decoder over
     * all rows, then the lm_head over each segment's last row in one product. {@code bidirectional}: image blocks
     * attend to themselves in both directions (VoRA). Returns [segments][vocab].
     */
    public float[][] forward(BatchRows b, boolean bidirectional) {
        float[] x = layers(b.embeds, b.n, b.positions, b.runs(bidirectional));
        float[] last = b.lastRows(x);
        float[] logits = new float[Math.multiplyExact(b.segments.length, config.vocabSize())];
        lmHead.matmul(last, b.segments.length, logits, null);
        return b.split(logits, config.vocabSize());
    }

    /** The final-normed hidden states [n, hidden] (forward without the lm_head). */
    public float[] hidden(float[] embeds, int n, int[] positions, KVCache cache, int[] imageBlockIds) {
        if (n <= 0) throw new IllegalArgumentException("forward needs at least one token");
        if (positions.length != n) throw new IllegalArgumentException(positions.length + " positions for " + n + " tokens");
        if (imageBlockIds != null && imageBlockIds.length != n)
            throw new IllegalArgumentException(imageBlockIds.length + " image block ids for " + n + " tokens");
        int past = cache.length();
        // Attention indexes blocks by absolute position; cached tokens are never recomputed, so they are -1.
        int[] block = null;
        if (imageBlockIds != null) {
            block = new int[past + n];
            java.util.Arrays.fill(block, 0, past, -1);
            System.arraycopy(imageBlockIds, 0, block, past, n);
        }
        int maxPos = 0;
        for (int p : positions) maxPos = Math.max(maxPos, p);
        // transformers' dynamic rope: seq_len = max(position_ids) + 1
        return layers(embeds, n, positions, CacheRun.single(cache, n, block, maxPos + 1));
    }

    /** The decoder layers and final norm over n rows [n, hidden] split into cache runs. */
    private float[] layers(float[] embeds, int n, int[] positions, CacheRun[] runs) {
        Qwen2Config c = config;
        int h = c.hiddenSize(), heads = c.numAttentionHeads(), kvHeads = c.numKeyValueHeads(), hd = c.headDim();
        if (n <= 0) throw new IllegalArgumentException("forward needs at least one token");
        if (embeds.length != (long) n * h) throw new IllegalArgumentException("embeddings hold " + embeds.length + " values, expected " + n + "x" + h);
        for (CacheRun r : runs)
            if (r.cache().layers != c.numHiddenLayers() || r.cache().kvDim != c.kvDim()) throw new IllegalArgumentException("KV cache belongs to another model");
        CacheRun.reserve(runs);
        float scale = (float) (1.0 / Math.sqrt(hd));

        float[] x = embeds.clone();           // residual stream [n, h]
        float[] hs = new float[n * h];         // normed input
        float[] q = new float[n * c.qDim()], k = new float[n * c.kvDim()], v = new float[n * c.kvDim()];
        float[] attn = new float[n * c.qDim()], o = new float[n * h];
        float[] gate = new float[n * c.intermediateSize()], up = new float[n * c.intermediateSize()];
        for (int l = 0; l < layers.length; l++) {
            Layer L = layers[l];
            Norms.rmsNorm(x, hs, n, h, L.inputLayernorm(), c.rmsNormEps());
            Projection.forwardTogether(hs, n, new Projection[]{L.qProj(), L.kProj(), L.vProj()}, new float[][]{q, k, v});
            CacheRun.attend(runs, l, q, k, v, rope, positions, heads, kvHeads, hd, scale, attn);
            L.oProj().forward(attn, n, o);
            for (int i = 0; i < o.length; i++) x[i] += o[i];

            Norms.rmsNorm(x, hs, n, h, L.postAttentionLayernorm(), c.rmsNormEps());
            Projection.forwardTogether(hs, n, new Projection[]{L.gateProj(), L.upProj()}, new float[][]{gate, up});
            Activations.siluMul(gate, up, gate.length);
            L.downProj().forward(gate, n, o);
            for (int i = 0; i < o.length; i++) x[i] += o[i];
        }
        CacheRun.commit(runs);
        Norms.rmsNorm(x, x, n, h, norm, c.rmsNormEps());
        return x;
    }

    /** dst[off..off+hidden) = embed_tokens row of id. */
    public void embed(int id, float[] dst, int off) {
        if (id < 0 || id >= config.vocabSize())
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
        embedTokens.rowToFloat(id, dst, off);
    }
}
