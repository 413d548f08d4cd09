package dev.navil4j.models.navil;

import dev.navil4j.models.LoadOptions;
import dev.navil4j.nn.CacheRun;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorPath;

/**
 * InternLM2 with visual experts ({@code InternLM2VEForCausalLM}, NaViL-2B; hub prefix {@code language_model.}).
 * Per layer: fused {@code wqkv} / {@code wqkv_ve} with the grouped head layout, {@code wo} for every token and
 * then {@code wo_ve} on top of it for visual tokens, {@code feed_forward} / {@code feed_forward_ve}.
 */
final class InternLM2VEForCausalLM extends VisualExpertLM {
    private record Layer(float[] attentionNorm, Linear wqkv, Linear wqkvVe, Linear wo, Linear woVe, float[] ffnNorm,
                         Linear w1, Linear w2, Linear w3, Linear w1Ve, Linear w2Ve, Linear w3Ve) {}

    private final Layer[] layers;

    InternLM2VEForCausalLM(SafeTensors st, String prefix, NaViLConfig.Llm cfg, LoadOptions options) {
        super(st, cfg, prefix + "model.tok_embeddings.weight", prefix + "model.norm.weight", prefix + "output.weight", options);
        int h = cfg.hiddenSize(), hd = cfg.headDim(), heads = cfg.heads(), kvh = cfg.kvHeads(), inter = cfg.intermediateSize();
        int qkvOut = (heads + 2 * kvh) * hd;
        layers = new Layer[cfg.layers()];
        TensorPath model = TensorPath.of(st, prefix).pp("model");
        for (int l = 0; l < layers.length; l++) {
            TensorPath p = model.pp("layers").pp(l), att = p.pp("attention"), ff = p.pp("feed_forward"), ffVe = p.pp("feed_forward_ve");
            layers[l] = new Layer(
                    p.pp("attention_norm").floats("weight", h),
                    linear(att.pp("wqkv"), h, qkvOut),
                    linear(att.pp("wqkv_ve"), h, qkvOut),
                    linear(att.pp("wo"), heads * hd, h),
                    linear(att.pp("wo_ve"), heads * hd, h),
                    p.pp("ffn_norm").floats("weight", h),
                    linear(ff.pp("w1"), h, inter),
                    linear(ff.pp("w2"), inter, h),
                    linear(ff.pp("w3"), h, inter),
                    linear(ffVe.pp("w1"), h, inter),
                    linear(ffVe.pp("w2"), inter, h),
                    linear(ffVe.pp("w3"), h, inter));
        }
    }

    @Override
    void layer(int l, float[] x, int n, ExpertRouting route, CacheRun[] runs, int[] pos) {
        Layer ly = layers[l];
        int h = hidden(), hd = cfg.headDim(), heads = cfg.heads(), kvh = cfg.kvHeads(), g = heads / kvh;
        float eps = (float) cfg.rmsNormEps();
        float[] hs = new float[n * h];
        Norms.rmsNorm(x, hs, n, h, ly.attentionNorm(), eps);
        float[] qkv = route.linear(ly.wqkv(), ly.wqkvVe(), hs);
        // fused layout 'b q (h gs d)': per kv head, g query heads, then its key, then its value
        int row = (heads + 2 * kvh) * hd;
        float[] q = new float[n * heads * hd], k = new float[n * kvh * hd], v = new float[n * kvh * hd];
        for (int t = 0; t < n; t++)
            for (int kv = 0; kv < kvh; kv++) {
                int src = t * row + kv * (g + 2) * hd;
                System.arraycopy(qkv, src, q, (t * heads + kv * g) * hd, g * hd);
                System.arraycopy(qkv, src + g * hd, k, (t * kvh + kv) * hd, hd);
                System.arraycopy(qkv, src + (g + 1) * hd, v, (t * kvh + kv) * hd, hd);
            }
        float[] attn = attention(l, q, k, v, n, runs, pos);
        float[] o = ly.wo().forward(attn, n);
        // the reference applies wo_ve to wo's output for visual tokens (attn_output[mask] = wo_ve(attn_output[mask]))
        route.visualInPlace(o, h, ly.woVe()::forward);
        add(x, o);
        Norms.rmsNorm(x, hs, n, h, ly.ffnNorm(), eps);
        float[] f = route.apply(hs, h, h,
                (a, m) -> swiglu(ly.w1(), ly.w3(), ly.w2(), a, m),
                (a, m) -> swiglu(ly.w1Ve(), ly.w3Ve(), ly.w2Ve(), a, m));
        add(x, f);
    }
}
