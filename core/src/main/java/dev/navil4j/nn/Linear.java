package dev.navil4j.nn;

import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorInfo;
import dev.navil4j.weights.WeightsException;

/** y = x·Wᵀ + b, W [out, in] as nn.Linear stores it. */
public record Linear(WeightTensor weight, float[] bias) implements Projection {

    @Override public int in() { return weight.cols; }
    @Override public int out() { return weight.rows; }

    /** Loads {@code prefix.weight} [out, in] and, if {@code withBias}, {@code prefix.bias} [out]. */
    public static Linear load(SafeTensors st, String prefix, int in, int out, boolean withBias) {
        WeightTensor w = st.get(prefix + ".weight", out, in).matrix();
        float[] b = withBias ? st.get(prefix + ".bias", out).toFloatArray() : null;
        return new Linear(w, b);
    }

    /** As {@link #load} but takes a bias when the checkpoint has one. */
    public static Linear loadOptionalBias(SafeTensors st, String prefix, int in, int out) {
        return load(st, prefix, in, out, st.contains(prefix + ".bias"));
    }

    /**
     * Loads a Conv2d with kernel = stride (a patch embedding) as a Linear over flattened (c, kh, kw) patches. The bias is
     * required: every family's patch embedding is an {@code nn.Conv2d} with the default bias=True (InternViT, NaViL's
     * anyres ViT, AIMv2), so a checkpoint without it is broken, not bias-free.
     */
    public static Linear loadPatchConv(SafeTensors st, String prefix, int inChannels, int patch, int out) {
        TensorInfo t = st.get(prefix + ".weight", out, inChannels, patch, patch);
        float[] b = st.get(prefix + ".bias", out).toFloatArray();
        return new Linear(t.matrix(), b);
    }

    /** out[n, out] = x[n, in]·Wᵀ + b. */
    @Override
    public void forward(float[] x, int n, float[] out) {
        weight.matmul(x, n, out, bias);
    }

    /** A fresh [n, out] result. */
    public float[] forward(float[] x, int n) {
        float[] y = new float[Math.multiplyExact(n, out())];
        forward(x, n, y);
        return y;
    }

    static void check(boolean ok, String msg) { if (!ok) throw new WeightsException(msg); }
}
