package dev.navil4j.models.navil;

import dev.navil4j.nn.Linear;

import java.util.function.BiFunction;

/**
 * Per-token modality routing for NaViL's visual experts: which rows of a [n, d] activation go to the text
 * weights and which to the {@code *_ve} weights (the reference's {@code h[mask] = ve(h[mask])}). A null or
 * all-false mask routes everything to the text expert without copying, so text-only prompts and decode steps
 * cost nothing extra.
 */
final class ExpertRouting {
    /** Row indices per expert; {@code visual} empty means no routing at all. */
    final int[] text, visual;
    final int n;

    private ExpertRouting(int n, int[] text, int[] visual) {
        this.n = n;
        this.text = text;
        this.visual = visual;
    }

    /** mask[t] true = visual expert; mask null = all text. */
    static ExpertRouting of(boolean[] mask, int n) {
        if (mask == null) return new ExpertRouting(n, null, new int[0]);
        if (mask.length != n) throw new IllegalArgumentException("visual mask of " + mask.length + " tokens for " + n + " tokens");
        int nv = 0;
        for (boolean b : mask) if (b) nv++;
        if (nv == 0) return new ExpertRouting(n, null, new int[0]);
        int[] v = new int[nv], t = new int[n - nv];
        int a = 0, b = 0;
        for (int i = 0; i < n; i++) if (mask[i]) v[a++] = i; else t[b++] = i;
        return new ExpertRouting(n, t, v);
    }

    boolean allText() { return visual.length == 0; }

    /**
     * out [n, outDim] = f_text(x rows of text tokens) and f_visual(x rows of visual tokens), each function taking
     * (packed rows [m, inDim], m) and returning [m, outDim].
     */
    float[] apply(float[] x, int inDim, int outDim, BiFunction<float[], Integer, float[]> fText,
                  BiFunction<float[], Integer, float[]> fVisual) {
        if (allText()) return fText.apply(x, n);
        float[] out = new float[n * outDim];
        if (text.length > 0) scatter(fText.apply(gather(x, inDim, text), text.length), outDim, text, out);
        scatter(fVisual.apply(gather(x, inDim, visual), visual.length), outDim, visual, out);
        return out;
    }

    /** A linear layer with its visual twin: out = text(x) or ve(x) per row. */
    float[] linear(Linear textW, Linear veW, float[] x) {
        return apply(x, textW.in(), textW.out(), textW::forward, veW::forward);
    }

    /** The visual rows replaced by f(those rows) in place; text rows untouched (wo_ve on top of wo). */
    void visualInPlace(float[] x, int dim, BiFunction<float[], Integer, float[]> f) {
        if (allText()) return;
        scatter(f.apply(gather(x, dim, visual), visual.length), dim, visual, x);
    }

    static float[] gather(float[] x, int dim, int[] rows) {
        float[] out = new float[rows.length * dim];
        for (int i = 0; i < rows.length; i++) System.arraycopy(x, rows[i] * dim, out, i * dim, dim);
        return out;
    }

    static void scatter(float[] packed, int dim, int[] rows, float[] out) {
        for (int i = 0; i < rows.length; i++) System.arraycopy(packed, i * dim, out, rows[i] * dim, dim);
    }
}
