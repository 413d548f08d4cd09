package dev.navil4j.models.navil;

import dev.navil4j.nn.Activations;
import dev.navil4j.nn.Attention;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.weights.SafeTensors;

import java.util.ArrayList;
import java.util.List;

/**
 * NaViL's any-resolution ViT ({@code NaViLVisionModelAnyRes}, hub prefix {@code vision_model.}): a Conv2d
 * patch embedding without position table, 2-D rotary attention, window attention in the layers not listed
 * in {@code fullatt_block_indexes}, layer scale. Several scales of several images run in one call, each
 * scale (and frame) attending only to itself.
 * <p>The output stays in <b>window order</b>: the reference permutes merge units into windows before layer 0
 * and never undoes it, so the features fill the {@code <IMG_CONTEXT>} rows in that order.
 */
public final class NaViLVisionModelAnyRes {
    /** One scale of one image: t frames of h×w patches (h, w multiples of the merge size). */
    public record Grid(int t, int h, int w) {
        public int tokens() { return t * h * w; }
    }

    private record Layer(Linear qkv, Linear proj, float[] qNorm, float[] kNorm, float[] norm1W, float[] norm1B,
                         float[] norm2W, float[] norm2B, float[] ls1, float[] ls2, Linear fc1, Linear fc2) {}

    final NaViLConfig.Vision cfg;
    private final Linear patchEmbedding;
    private final Layer[] layers;
    /** 2-D rotary inv_freq over head_dim/2 channels: d/4 values, shared by the row and the column half. */
    private final float[] invFreq;

    NaViLVisionModelAnyRes(SafeTensors st, String prefix, NaViLConfig.Vision cfg) {
        this.cfg = cfg;
        int c = cfg.hiddenSize(), p = cfg.patchSize();
        this.patchEmbedding = Linear.loadPatchConv(st, prefix + "embeddings.patch_embedding", 3, p, c);
        boolean ln = cfg.normType().equals("layer_norm");
        layers = new Layer[cfg.layers()];
        for (int l = 0; l < layers.length; l++) {
            String lp = prefix + "encoder.layers." + l + ".";
            layers[l] = new Layer(
                    Linear.load(st, lp + "attn.qkv", c, 3 * c, cfg.qkvBias()),
                    Linear.load(st, lp + "attn.proj", c, c, true),
                    cfg.qkNormalization() ? vec(st, lp + "attn.q_norm.weight", c) : null,
                    cfg.qkNormalization() ? vec(st, lp + "attn.k_norm.weight", c) : null,
                    vec(st, lp + "norm1.weight", c), ln ? vec(st, lp + "norm1.bias", c) : null,
                    vec(st, lp + "norm2.weight", c), ln ? vec(st, lp + "norm2.bias", c) : null,
                    vec(st, lp + "ls1", c), vec(st, lp + "ls2", c),
                    Linear.load(st, lp + "mlp.fc1", c, cfg.intermediateSize(), true),
                    Linear.load(st, lp + "mlp.fc2", cfg.intermediateSize(), c, true));
        }
        // InternVisionRotaryEmbedding(head_dim // 2): 1 / 10000^(arange(0, dim, 2) / dim), f32 as torch
        int dim = cfg.headDim() / 2;
        invFreq = new float[dim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            float expo = (float) (2 * i) / dim;
            invFreq[i] = (float) (1.0 / (float) Math.pow(10000.0f, expo));
        }
    }

    static float[] vec(SafeTensors st, String name, int n) { return st.get(name, n).toFloatArray(); }

    public int hiddenSize() { return cfg.hiddenSize(); }

    /**
     * last_hidden_state [L, C] in window order for pixel patches [L, 3·p·p] (rows in the processor's merge order)
     * of the given scales.
     */
    public float[] forward(float[] pixels, List<Grid> grids) {
        int c = cfg.hiddenSize(), p = cfg.patchSize(), m = cfg.mergeSize(), unit = m * m;
        int n = 0;
        for (Grid g : grids) {
            if (g.t() < 1 || g.h() < 1 || g.w() < 1 || g.h() % m != 0 || g.w() % m != 0)
                throw new IllegalArgumentException("vision grid " + g + ": h and w must be positive multiples of the merge size " + m);
            n = Math.addExact(n, g.tokens());
        }
        if (pixels.length != (long) n * 3 * p * p)
            throw new IllegalArgumentException("pixel_values hold " + pixels.length / (3 * p * p) + " patches of 3x" + p + "x" + p
                    + " but the grids " + grids + " need " + n);
        float[] embeds = patchEmbedding.forward(pixels, n);

        // (row, col) of every patch in the processor's merge order: unit (bh, bw), then (i, j) inside it
        int[] rows = new int[n], cols = new int[n];
        int o = 0;
        for (Grid g : grids)
            for (int t = 0; t < g.t(); t++)
                for (int bh = 0; bh < g.h() / m; bh++)
                    for (int bw = 0; bw < g.w() / m; bw++)
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < m; j++) { rows[o] = bh * m + i; cols[o] = bw * m + j; o++; }

        // the window permutation, applied once to the tokens and to their rotary positions, never undone
        List<Integer> windowSizes = new ArrayList<>();
        int[] windowIndex = windowIndex(grids, windowSizes);
        float[] x = new float[n * c];
        int[] pr = new int[n], pc = new int[n];
        for (int u = 0; u < windowIndex.length; u++) {
            int src = windowIndex[u];
            System.arraycopy(embeds, src * unit * c, x, u * unit * c, unit * c);
            System.arraycopy(rows, src * unit, pr, u * unit, unit);
            System.arraycopy(cols, src * unit, pc, u * unit, unit);
        }
        int[] cuWindows = new int[windowSizes.size() + 1];
        for (int w = 0; w < windowSizes.size(); w++) cuWindows[w + 1] = cuWindows[w] + windowSizes.get(w) * unit;
        // full attention: each frame of each scale separately (cu_seqlens = cumsum of h·w repeated t times)
        List<Integer> cu = new ArrayList<>(List.of(0));
        for (Grid g : grids) for (int t = 0; t < g.t(); t++) cu.add(cu.getLast() + g.h() * g.w());
        int[] cuFull = cu.stream().mapToInt(Integer::intValue).toArray();

        float[][] cosSin = rotary(pr, pc);
        for (int l = 0; l < layers.length; l++)
            layer(layers[l], x, n, cosSin[0], cosSin[1], cfg.fullAttention(l) ? cuFull : cuWindows);
        return x;
    }

    /**
     * get_window_index: merge units of each (scale, frame) laid out (h/m, w/m), padded at the bottom/right by
     * vws − n % vws (a whole empty window when n is already divisible, as the reference does), windows
     * enumerated row-major, units row-major inside a window, padding dropped. Fills the non-empty window sizes
     * (in units) and returns, for each new unit slot, the old unit index.
     */
    int[] windowIndex(List<Grid> grids, List<Integer> windowSizes) {
        int m = cfg.mergeSize();
        int vws = cfg.windowSize() / m;
        int total = 0;
        for (Grid g : grids) total += g.tokens() / (m * m);
        int[] index = new int[total];
        int k = 0, base = 0;
        for (Grid g : grids) {
            int lh = g.h() / m, lw = g.w() / m;
            int nwh = (lh + vws - lh % vws) / vws, nww = (lw + vws - lw % vws) / vws;
            for (int t = 0; t < g.t(); t++)
                for (int wh = 0; wh < nwh; wh++)
                    for (int ww = 0; ww < nww; ww++) {
                        int size = 0;
                        for (int r = 0; r < vws; r++)
                            for (int cc = 0; cc < vws; cc++) {
                                int row = wh * vws + r, col = ww * vws + cc;
                                if (row >= lh || col >= lw) continue;
                                index[k++] = base + t * lh * lw + row * lw + col;
                                size++;
                            }
                        if (size > 0) windowSizes.add(size);
                    }
            base += g.t() * lh * lw;
        }
        return index;
    }

    /** cos/sin [n, d/2] per token: angles [row·inv_freq, col·inv_freq] (f32 products), applied as [a, a] over d. */
    private float[][] rotary(int[] rows, int[] cols) {
        int n = rows.length, q = invFreq.length, half = 2 * q;
        float[] cos = new float[n * half], sin = new float[n * half];
        for (int t = 0; t < n; t++)
            for (int i = 0; i < q; i++) {
                float a = rows[t] * invFreq[i], b = cols[t] * invFreq[i];
                cos[t * half + i] = (float) Math.cos(a);
                sin[t * half + i] = (float) Math.sin(a);
                cos[t * half + q + i] = (float) Math.cos(b);
                sin[t * half + q + i] = (float) Math.sin(b);
            }
        return new float[][] {cos, sin};
    }

    /** One NaViLVisionEncoderLayerAnyRes: x += ls1 ⊙ attn(norm1 x); x += ls2 ⊙ mlp(norm2 x). */
    private void layer(Layer ly, float[] x, int n, float[] cos, float[] sin, int[] cuSeqlens) {
        int c = cfg.hiddenSize(), heads = cfg.heads(), hd = cfg.headDim();
        float[] h = new float[n * c];
        norm(x, h, n, ly.norm1W(), ly.norm1B());
        float[] qkv = ly.qkv().forward(h, n);
        float[] q = new float[n * c], k = new float[n * c], v = new float[n * c];
        for (int t = 0; t < n; t++) {
            System.arraycopy(qkv, t * 3 * c, q, t * c, c);
            System.arraycopy(qkv, t * 3 * c + c, k, t * c, c);
            System.arraycopy(qkv, t * 3 * c + 2 * c, v, t * c, c);
        }
        if (ly.qNorm() != null) {
            // qk_normalization (one head only, see NaViLConfig): InternRMSNorm over the hidden size, before the rotary
            float eps = (float) cfg.layerNormEps();
            Norms.rmsNorm(q, q, n, c, ly.qNorm(), eps);
            Norms.rmsNorm(k, k, n, c, ly.kNorm(), eps);
        }
        int half = hd / 2;
        for (int t = 0; t < n; t++)
            for (int hh = 0; hh < heads; hh++) {
                rotate(q, t * c + hh * hd, cos, sin, t * half, half);
                rotate(k, t * c + hh * hd, cos, sin, t * half, half);
            }
        float[] attn = new float[n * c];
        Attention.segments(q, k, v, n, heads, hd, (float) (1.0 / Math.sqrt(hd)), cuSeqlens, attn);
        float[] o = ly.proj().forward(attn, n);
        addScaled(x, o, ly.ls1(), n, c);
        norm(x, h, n, ly.norm2W(), ly.norm2B());
        float[] f = ly.fc1().forward(h, n);
        Activations.gelu(f, f.length);
        float[] g = ly.fc2().forward(f, n);
        addScaled(x, g, ly.ls2(), n, c);
    }

    private void norm(float[] x, float[] out, int n, float[] w, float[] b) {
        float eps = (float) cfg.layerNormEps();
        if (b != null) Norms.layerNorm(x, out, n, cfg.hiddenSize(), w, b, eps);
        else Norms.rmsNorm(x, out, n, cfg.hiddenSize(), w, eps);
    }

    /** rotate_half rotary: (x1, x2) ← (x1·cos − x2·sin, x2·cos + x1·sin) with pairs (k, k + d/2). */
    private static void rotate(float[] x, int o, float[] cos, float[] sin, int co, int half) {
        for (int i = 0; i < half; i++) {
            float a = x[o + i], b = x[o + i + half], cs = cos[co + i], sn = sin[co + i];
            x[o + i] = a * cs - b * sn;
            x[o + i + half] = b * cs + a * sn;
        }
    }

    private static void addScaled(float[] x, float[] y, float[] scale, int n, int c) {
        for (int t = 0; t < n; t++) for (int j = 0; j < c; j++) x[t * c + j] += y[t * c + j] * scale[j];
    }
}
