package dev.navil4j.models.navil;

import dev.navil4j.nn.CacheRun;
import dev.navil4j.nn.KVCache;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.nn.Rope;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.tensor.QuantPolicy;
import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorPath;
import dev.navil4j.weights.WeightsException;

/**
 * What NaViL's two LLMs share: token embeddings, a decoder stack whose layers route every token to the text
 * or the visual expert by a modality mask, a final RMSNorm and an untied LM head. The layers themselves are
 * per architecture ({@link InternLM2VEForCausalLM}, {@link Qwen3VEForCausalLM}).
 * <p>{@code --weights} ({@link LoadOptions#weights()}) applies to every linear layer the subclasses create through
 * {@link #linear} (text and visual experts alike) and, never below q8, to the LM head; embeddings, norms and
 * everything outside the LLM keep their stored precision. {@code --kv-cache bf16} selects bf16 KV caches.
 */
abstract class VisualExpertLM {
    final NaViLConfig.Llm cfg;
    /** [vocab, hidden] in the stored dtype. */
    final WeightTensor embedTokens;
    final float[] finalNorm;
    /** [vocab, hidden], never tied to the embeddings (llm_config.tie_word_embeddings is false). */
    final WeightTensor lmHead;
    final Rope rope;
    private final LoadOptions options;
    /** Every linear layer made by {@link #linear}, in load order (for {@link #linearWeightBytes}). */
    private final java.util.List<Linear> linears = new java.util.ArrayList<>();

    VisualExpertLM(SafeTensors st, NaViLConfig.Llm cfg, String embedName, String normName, String headName, LoadOptions options) {
        this.cfg = cfg;
        this.options = options == null ? LoadOptions.defaults() : options;
        int h = cfg.hiddenSize(), v = cfg.vocabSize();
        this.embedTokens = st.get(embedName, v, h).matrix();
        this.finalNorm = st.get(normName, h).toFloatArray();
        WeightTensor head = cfg.tieWordEmbeddings() && !st.contains(headName) ? embedTokens : st.get(headName, v, h).matrix();
        // q4 layers keep a q8 head (Qwen2Model's rule, after llama.cpp); a tied head becomes its own copy
        this.lmHead = QuantPolicy.apply(head, QuantPolicy.headWeights(this.options.weights()));
        this.rope = new Rope(cfg.headDim(), cfg.ropeTheta(), cfg.ropeDynamicFactor(), cfg.maxPositionEmbeddings());
    }

    /** The bias-free linear layer {@code prefix} [out, in] of the LLM, its weight under the {@code --weights} policy. */
    Linear linear(SafeTensors st, String prefix, int in, int out) {
        Linear l = Linear.load(st, prefix, in, out, false);
        l = new Linear(QuantPolicy.apply(l.weight(), options.weights()), l.bias());
        linears.add(l);
        return l;
    }

    /** {@link #linear(SafeTensors, String, int, int)} at a tensor path. */
    Linear linear(TensorPath module, int in, int out) { return linear(module.st(), module.path(), in, out); }

    /** Bytes of the decoder layers' linear weights (both experts) in their loaded formats, without the LM head. */
    long linearWeightBytes() {
        long b = 0;
        for (Linear l : linears) b += l.weight().byteSize();
        return b;
    }

    int hidden() { return cfg.hiddenSize(); }

    int vocab() { return cfg.vocabSize(); }

    /** dst[off..off+hidden) = the raw embedding row of id. */
    void embed(int id, float[] dst, int off) {
        if (id < 0 || id >= cfg.vocabSize())
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + cfg.vocabSize());
        embedTokens.rowToFloat(id, dst, off);
    }

    KVCache newCache(int maxLength) {
        return new KVCache(cfg.layers(), cfg.kvHeads() * cfg.headDim(), maxLength, 256, options.kvCacheBf16());
    }

    /**
     * Runs n tokens x [n, hidden] at cache positions [cache.length(), +n); visual[t] routes token t to the
     * visual experts (null: all text). Returns the final-normed hidden states [n, hidden] (x is overwritten).
     */
    float[] forward(float[] x, int n, boolean[] visual, KVCache cache) {
        return forward(x, n, visual, CacheRun.single(cache, n, null, cache.length() + n), null);
    }

    /**
     * The decoder over n rows split into cache runs (several sequences in one step); {@code positions} null = each
     * run's rows at past, past + 1, …. Returns the final-normed hidden states [n, hidden] (x is overwritten).
     */
    float[] forward(float[] x, int n, boolean[] visual, CacheRun[] runs, int[] positions) {
        if (x.length != n * hidden()) throw new IllegalArgumentException("embeddings of " + x.length + " values for " + n + " tokens");
        ExpertRouting route = ExpertRouting.of(visual, n);
        CacheRun.reserve(runs);
        if (positions == null) {
            positions = new int[n];
            for (CacheRun r : runs) for (int t = 0; t < r.rows(); t++) positions[r.row0() + t] = r.past() + t;
        }
        for (int l = 0; l < cfg.layers(); l++) layer(l, x, n, route, runs, positions);
        CacheRun.commit(runs);
        Norms.rmsNorm(x, x, n, hidden(), finalNorm, (float) cfg.rmsNormEps());
        return x;
    }

    /** logits [rows, vocab] of the given rows of normed hidden states, in one product. */
    float[] logits(float[] hidden, int[] rows) {
        int h = hidden();
        float[] x = new float[rows.length * h];
        for (int i = 0; i < rows.length; i++) System.arraycopy(hidden, rows[i] * h, x, i * h, h);
        float[] out = new float[rows.length * vocab()];
        lmHead.matmul(x, rows.length, out, null);
        return out;
    }

    /** logits [vocab] of row t of normed hidden states. */
    float[] logits(float[] hidden, int t) {
        int h = hidden();
        float[] row = new float[h];
        System.arraycopy(hidden, t * h, row, 0, h);
        float[] out = new float[vocab()];
        lmHead.matmul(row, 1, out, null);
        return out;
    }

    /** One decoder layer over x [n, hidden] in place; rows at rotary positions pos, split into cache runs. */
    abstract void layer(int l, float[] x, int n, ExpertRouting route, CacheRun[] runs, int[] pos);

    /** Rotary on q and k, then causal GQA attention over each run's cache (which receives k, v first). */
    float[] attention(int l, float[] q, float[] k, float[] v, int n, CacheRun[] runs, int[] pos) {
        int heads = cfg.heads(), kvh = cfg.kvHeads(), hd = cfg.headDim();
        float[] out = new float[n * heads * hd];
        CacheRun.attend(runs, l, q, k, v, rope, pos, heads, kvh, hd, (float) (1.0 / Math.sqrt(hd)), out);
        return out;
    }

    /** SwiGLU MLP: down(silu(gate x) · up x). */
    static float[] swiglu(Linear gate, Linear up, Linear down, float[] x, int n) {
        float[] g = gate.forward(x, n), u = up.forward(x, n);
        for (int i = 0; i < g.length; i++) g[i] = dev.navil4j.nn.Activations.silu(g[i]) * u[i];
        return down.forward(g, n);
    }

    static void add(float[] x, float[] y) { for (int i = 0; i < x.length; i++) x[i] += y[i]; }

    static void check(boolean ok, String msg) { if (!ok) throw new WeightsException(msg); }
}
