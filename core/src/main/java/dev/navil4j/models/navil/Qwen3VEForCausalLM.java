package dev.navil4j.models.navil;

import dev.navil4j.models.LoadOptions;
import dev.navil4j.nn.CacheRun;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorPath;

/**
 * Qwen3 with visual experts ({@code Qwen3VEForCausalLM}, NaViL-9B; hub prefix {@code language_model.}): per
 * layer separate q/k/v/o projections with {@code *_ve} twins, per-head QK RMSNorm with separate expert norms
 * (before the rotary), GQA, {@code mlp} / {@code mlp_ve}. No biases (attention_bias false).
 */
final class Qwen3VEForCausalLM extends VisualExpertLM {
    private record Layer(float[] inputNorm, Linear q, Linear k, Linear v, Linear o, float[] qNorm, float[] kNorm,
                         Linear qVe, Linear kVe, Linear vVe, Linear oVe, float[] qNormVe, float[] kNormVe,
                         float[] postNorm, Linear gate, Linear up, Linear down, Linear gateVe, Linear upVe, Linear downVe) {}

    private final Layer[] layers;

    Qwen3VEForCausalLM(SafeTensors st, String prefix, NaViLConfig.Llm cfg, LoadOptions options) {
        super(st, cfg, prefix + "model.embed_tokens.weight", prefix + "model.norm.weight", prefix + "lm_head.weight", options);
        int h = cfg.hiddenSize(), hd = cfg.headDim(), qd = cfg.heads() * hd, kd = cfg.kvHeads() * hd, inter = cfg.intermediateSize();
        layers = new Layer[cfg.layers()];
        TensorPath model = TensorPath.of(st, prefix).pp("model");
        for (int l = 0; l < layers.length; l++) {
            TensorPath p = model.pp("layers").pp(l), a = p.pp("self_attn"), mlp = p.pp("mlp"), mlpVe = p.pp("mlp_ve");
            layers[l] = new Layer(
                    p.pp("input_layernorm").floats("weight", h),
                    linear(a.pp("q_proj"), h, qd), linear(a.pp("k_proj"), h, kd),
                    linear(a.pp("v_proj"), h, kd), linear(a.pp("o_proj"), qd, h),
                    a.pp("q_norm").floats("weight", hd), a.pp("k_norm").floats("weight", hd),
                    linear(a.pp("q_proj_ve"), h, qd), linear(a.pp("k_proj_ve"), h, kd),
                    linear(a.pp("v_proj_ve"), h, kd), linear(a.pp("o_proj_ve"), qd, h),
                    a.pp("q_norm_ve").floats("weight", hd), a.pp("k_norm_ve").floats("weight", hd),
                    p.pp("post_attention_layernorm").floats("weight", h),
                    linear(mlp.pp("gate_proj"), h, inter), linear(mlp.pp("up_proj"), h, inter),
                    linear(mlp.pp("down_proj"), inter, h),
                    linear(mlpVe.pp("gate_proj"), h, inter), linear(mlpVe.pp("up_proj"), h, inter),
                    linear(mlpVe.pp("down_proj"), inter, h));
        }
    }

    @Override
    void layer(int l, float[] x, int n, ExpertRouting route, CacheRun[] runs, int[] pos) {
        Layer ly = layers[l];
        int h = hidden(), hd = cfg.headDim(), heads = cfg.heads(), kvh = cfg.kvHeads();
        float eps = (float) cfg.rmsNormEps();
        float[] hs = new float[n * h];
        Norms.rmsNorm(x, hs, n, h, ly.inputNorm(), eps);
        // q = q_norm(q_proj(h)) per head over head_dim; visual rows use the _ve projections and norms
        float[] q = route.apply(hs, h, heads * hd,
                (a, m) -> headNorm(ly.q().forward(a, m), m * heads, hd, ly.qNorm(), eps),
                (a, m) -> headNorm(ly.qVe().forward(a, m), m * heads, hd, ly.qNormVe(), eps));
        float[] k = route.apply(hs, h, kvh * hd,
                (a, m) -> headNorm(ly.k().forward(a, m), m * kvh, hd, ly.kNorm(), eps),
                (a, m) -> headNorm(ly.kVe().forward(a, m), m * kvh, hd, ly.kNormVe(), eps));
        float[] v = route.linear(ly.v(), ly.vVe(), hs);
        float[] attn = attention(l, q, k, v, n, runs, pos);
        add(x, route.linear(ly.o(), ly.oVe(), attn));
        Norms.rmsNorm(x, hs, n, h, ly.postNorm(), eps);
        add(x, route.apply(hs, h, h,
                (a, m) -> swiglu(ly.gate(), ly.up(), ly.down(), a, m),
                (a, m) -> swiglu(ly.gateVe(), ly.upVe(), ly.downVe(), a, m)));
    }

    private static float[] headNorm(float[] x, int rows, int hd, float[] w, float eps) {
        Norms.rmsNorm(x, x, rows, hd, w, eps);
        return x;
    }
}
