package dev.navil4j.bench;

import dev.navil4j.nn.Activations;
import dev.navil4j.nn.Attention;
import dev.navil4j.nn.KVCache;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.nn.Rope;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.WeightTensor;

/**
 * A Qwen2-shaped decoder (RMSNorm → q/k/v (+bias) → rotary → causal GQA attention over the KV cache →
 * o_proj → residual → RMSNorm → SwiGLU MLP → residual; final norm; lm_head on the last position) built
 * from the engine's nn/ primitives and WeightTensor, on synthesized weights. It does the same work per token
 * as the family implementations, so its tokens/s are the engine's; it is not a model (weights are random).
 * Not thread-safe: activation buffers are reused across calls.
 */
public final class BenchDecoder {
    final BenchShape shape;
    final Layer[] layers;
    final WeightTensor embedding, lmHead;
    final float[] finalNorm;
    final Rope rope;

    record Layer(float[] inputNorm, Linear q, Linear k, Linear v, Linear o, float[] postNorm, Linear gate, Linear up, Linear down) {}

    /**
     * @param format   format of every linear layer
     * @param headFormat format of the embedding / lm_head (llama.cpp keeps the output matrix above 4 bits)
     */
    public BenchDecoder(BenchShape s, DType format, DType headFormat, SyntheticWeights w) {
        this.shape = s;
        int h = s.llmHidden();
        layers = new Layer[s.layers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l;
            layers[l] = new Layer(w.vector(h, 1f, 0.01f),
                    new Linear(w.matrix(p + ".self_attn.q_proj.weight", format, s.qDim(), h), s.qkvBias() ? w.vector(s.qDim(), 0, 0.01f) : null),
                    new Linear(w.matrix(p + ".self_attn.k_proj.weight", format, s.kvDim(), h), s.qkvBias() ? w.vector(s.kvDim(), 0, 0.01f) : null),
                    new Linear(w.matrix(p + ".self_attn.v_proj.weight", format, s.kvDim(), h), s.qkvBias() ? w.vector(s.kvDim(), 0, 0.01f) : null),
                    new Linear(w.matrix(p + ".self_attn.o_proj.weight", format, h, s.qDim()), null),
                    w.vector(h, 1f, 0.01f),
                    new Linear(w.matrix(p + ".mlp.gate_proj.weight", format, s.intermediate(), h), null),
                    new Linear(w.matrix(p + ".mlp.up_proj.weight", format, s.intermediate(), h), null),
                    new Linear(w.matrix(p + ".mlp.down_proj.weight", format, h, s.intermediate()), null));
        }
        embedding = w.matrix("model.embed_tokens.weight", headFormat, s.vocab(), h);
        lmHead = s.tied() ? embedding : w.matrix("lm_head.weight", headFormat, s.vocab(), h);
        finalNorm = w.vector(h, 1f, 0.01f);
        rope = new Rope(s.headDim(), s.ropeTheta());
    }

    /** Bytes of weights read to decode one token: every linear layer and the lm_head (one embedding row is noise). */
    public long bytesPerToken() {
        long b = lmHead.byteSize();
        for (Layer l : layers)
            for (Linear lin : new Linear[]{l.q, l.k, l.v, l.o, l.gate, l.up, l.down}) b += lin.weight().byteSize();
        return b;
    }

    /** Bytes of all weights held (tied embedding counted once). */
    public long weightBytes() { return bytesPerToken() + (shape.tied() ? 0 : embedding.byteSize()); }

    public KVCache newCache(int maxLength) {
        return new KVCache(shape.layers(), shape.kvDim(), maxLength, maxLength);
    }

    // activation buffers for the current token count, reused across calls so that the heap (and RSS) stays
    // at weights + KV cache + a few MB instead of growing with the allocation rate
    private int bufferTokens = -1;
    private float[] xn, q, k, v, att, o, g, u;

    private void allocate(int n) {
        int h = shape.llmHidden();
        xn = new float[n * h];
        q = new float[n * shape.qDim()];
        k = new float[n * shape.kvDim()];
        v = new float[n * shape.kvDim()];
        att = new float[n * shape.qDim()];
        o = new float[n * h];
        g = new float[n * shape.intermediate()];
        u = new float[n * shape.intermediate()];
        bufferTokens = n;
    }

    /** Runs n new tokens through the model (appending to the cache); returns the logits of the last one. */
    public float[] forward(int[] tokens, KVCache cache) {
        int n = tokens.length, h = shape.llmHidden();
        float[] x = new float[n * h];
        for (int t = 0; t < n; t++) embedding.rowToFloat(Math.floorMod(tokens[t], shape.vocab()), x, t * h);
        int past = cache.length();
        cache.reserve(n);
        int[] pos = new int[n];
        for (int t = 0; t < n; t++) pos[t] = past + t;
        if (bufferTokens != n) allocate(n);
        float[] xn = this.xn, q = this.q, k = this.k, v = this.v, att = this.att, o = this.o, g = this.g, u = this.u;
        float scale = (float) (1.0 / Math.sqrt(shape.headDim()));
        for (int l = 0; l < layers.length; l++) {
            Layer ly = layers[l];
            Norms.rmsNorm(x, xn, n, h, ly.inputNorm, 1e-6f);
            ly.q.forward(xn, n, q);
            ly.k.forward(xn, n, k);
            ly.v.forward(xn, n, v);
            rope.apply(q, n, shape.heads(), shape.headDim(), pos, past + n);
            rope.apply(k, n, shape.kvHeads(), shape.headDim(), pos, past + n);
            cache.put(l, k, v, n);
            Attention.causal(q, n, past, cache.keys(l), cache.values(l), shape.heads(), shape.kvHeads(), shape.headDim(), scale, null, att);
            ly.o.forward(att, n, o);
            for (int i = 0; i < n * h; i++) x[i] += o[i];
            Norms.rmsNorm(x, xn, n, h, ly.postNorm, 1e-6f);
            ly.gate.forward(xn, n, g);
            ly.up.forward(xn, n, u);
            Activations.siluMul(g, u, n * shape.intermediate());
            ly.down.forward(g, n, o);
            for (int i = 0; i < n * h; i++) x[i] += o[i];
        }
        cache.commit(n);
        float[] last = new float[h];
        Norms.rmsNorm(x, (n - 1) * h, last, 0, 1, h, finalNorm, 1e-6f);
        float[] logits = new float[shape.vocab()];
        lmHead.matmul(last, 1, logits, null);
        return logits;
    }
}
