package dev.navil4j.train;

import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.Kernels;

/**
 * Forward and backward kernels of the VoRA training graph, llm.c style: every op is a pair of flat
 * functions over row-major float32 buffers; a backward reads the forward's saved inputs and ACCUMULATES
 * into the gradient buffers it is given (null = not needed: a frozen weight, or an input that needs no
 * gradient). Shapes are in the parameter names: {@code x[n, in]} is n rows of in floats.
 */
public final class TrainOps {
    private TrainOps() {}

    private static final int GRAIN = 4;

    /**
     * Σ a[ao+i]·b[bo+i] summed in a FIXED order: vector FMAs into 4 accumulators, then the lanes added one by
     * one. reduceLanes(ADD) may add lanes in another order once C2 intrinsifies it, so a JIT-warm and a cold
     * JVM would round differently — and a resumed run must repeat an uninterrupted one bit for bit.
     */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return Kernels.dotFixedOrder(a, ao, b, bo, n);
    }

    /** A plain scalar reference of {@link #dot} (tests). */
    static float dotReference(float[] a, int ao, float[] b, int bo, int n) {
        float r = 0;
        for (int i = 0; i < n; i++) r += a[ao + i] * b[bo + i];
        return r;
    }

    // ---------------------------------------------------------------- linear: y = x W^T (+ b)

    /** y[n, out] = x[n, in] · W[out, in]^T + b[out] (b may be null); nn.Linear. */
    public static void linear(float[] y, float[] x, float[] w, float[] b, int n, int in, int out) {
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int xo = i * in, yo = i * out;
                for (int o = 0; o < out; o++) {
                    float s = dot(x, xo, w, o * in, in);
                    y[yo + o] = b == null ? s : s + b[o];
                }
            }
        });
    }

    /**
     * Backward of {@link #linear}: dx[n, in] += dy · W, dW[out, in] += dy^T · x, db[out] += Σ_rows dy.
     * Any of dx, dw, db may be null.
     */
    public static void linearBackward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w, int n, int in, int out) {
        if (dx != null)
            Parallel.forRange(n, GRAIN, (lo, hi) -> {
                for (int i = lo; i < hi; i++)
                    for (int o = 0; o < out; o++) {
                        float d = dy[i * out + o];
                        if (d != 0f) Kernels.axpy(d, w, o * in, dx, i * in, in);
                    }
            });
        if (dw != null)
            Parallel.forRange(out, GRAIN, (lo, hi) -> {
                for (int o = lo; o < hi; o++)
                    for (int i = 0; i < n; i++) {
                        float d = dy[i * out + o];
                        if (d != 0f) Kernels.axpy(d, x, i * in, dw, o * in, in);
                    }
            });
        if (db != null)
            for (int i = 0; i < n; i++)
                for (int o = 0; o < out; o++) db[o] += dy[i * out + o];
    }

    // ---------------------------------------------------------------- RMSNorm: y = x · rsqrt(mean(x²) + eps) · w

    /** y[n, d] = x · r · w with r = 1/sqrt(mean(x²) + eps) saved in rstd[n] (Qwen2RMSNorm / AIMv2 RMSNorm, f32). */
    public static void rmsNorm(float[] y, float[] rstd, float[] x, float[] w, int n, int d, float eps) {
        for (int i = 0; i < n; i++) {
            int o = i * d;
            float ss = dot(x, o, x, o, d);
            float r = (float) (1.0 / Math.sqrt(ss / d + eps));
            rstd[i] = r;
            for (int j = 0; j < d; j++) y[o + j] = (x[o + j] * r) * w[j];
        }
    }

    /**
     * Backward of {@link #rmsNorm}: with u = x·r, dy·w = g: dx = r·g − r³/d · x · Σ(g·x); dw += Σ_rows dy·u.
     * dx accumulates; dw may be null (a frozen norm).
     */
    public static void rmsNormBackward(float[] dx, float[] dw, float[] dy, float[] x, float[] w, float[] rstd, int n, int d) {
        for (int i = 0; i < n; i++) {
            int o = i * d;
            float r = rstd[i];
            double gx = 0;
            for (int j = 0; j < d; j++) gx += (double) dy[o + j] * w[j] * x[o + j];
            float c = (float) (gx * r * r * r / d);
            for (int j = 0; j < d; j++) {
                dx[o + j] += r * dy[o + j] * w[j] - c * x[o + j];
                if (dw != null) dw[j] += dy[o + j] * x[o + j] * r;
            }
        }
    }

    // ---------------------------------------------------------------- SwiGLU: h = silu(g) · u

    public static float silu(float v) { return v / (1f + (float) Math.exp(-v)); }

    /** h[n] = silu(gate) · up (Qwen2MLP act_fn(gate_proj(x)) * up_proj(x); AIMv2 silu(fc1) * fc3). */
    public static void swiglu(float[] h, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) h[i] = silu(gate[i]) * up[i];
    }

    /** dgate += dh · u · silu'(g), dup += dh · silu(g); silu'(g) = s(1 + g(1 − s)), s = sigmoid(g). */
    public static void swigluBackward(float[] dgate, float[] dup, float[] dh, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            float s = 1f / (1f + (float) Math.exp(-g));
            dgate[i] += dh[i] * up[i] * (s * (1f + g * (1f - s)));
            dup[i] += dh[i] * g * s;
        }
    }

    // ---------------------------------------------------------------- rotary embedding (rotate_half)

    /**
     * In place on x[rows, heads·hd]: pairs (k, k + hd/2) of every head rotated by the angle of row's
     * position; cos/sin[pos, hd/2] are the f32 tables ({@code forward}) or the inverse rotation ({@code !forward}),
     * which is the backward: the rotation is orthogonal, so dx = R^T dy.
     */
    public static void rope(float[] x, int rows, int heads, int hd, int[] pos, float[] cos, float[] sin, boolean forward) {
        int half = hd / 2;
        for (int t = 0; t < rows; t++) {
            int p = pos[t] * half;
            for (int h = 0; h < heads; h++) {
                int o = t * heads * hd + h * hd;
                for (int i = 0; i < half; i++) {
                    float c = cos[p + i], s = forward ? sin[p + i] : -sin[p + i];
                    float a = x[o + i], b = x[o + i + half];
                    x[o + i] = a * c - b * s;
                    x[o + i + half] = b * c + a * s;
                }
            }
        }
    }

    // ---------------------------------------------------------------- embedding lookup

    /** out[n, d] = table[ids[i]] (nn.Embedding; the VoRA text path embeds ids.relu()). */
    public static void embedding(float[] out, float[] table, int[] ids, int d) {
        for (int i = 0; i < ids.length; i++) System.arraycopy(table, Math.max(ids[i], 0) * d, out, i * d, d);
    }

    /** dtable[ids[i]] += dout[i] (scatter-add; used only where an embedding table trains). */
    public static void embeddingBackward(float[] dtable, float[] dout, int[] ids, int d) {
        for (int i = 0; i < ids.length; i++) {
            int o = Math.max(ids[i], 0) * d;
            for (int j = 0; j < d; j++) dtable[o + j] += dout[i * d + j];
        }
    }

    // ---------------------------------------------------------------- patch embedding (Conv2d stride = kernel)

    /**
     * im2col for a Conv2d with kernel = stride = p: pixels [3, H, W] → patches [(H/p)(W/p), 3·p·p], rows in
     * {@code flatten(2).transpose(1, 2)} order, columns (c, ky, kx) as Conv2d weights flatten, so the conv is
     * {@link #linear} with the weight viewed as [C, 3·p·p].
     */
    public static float[] patches(float[] pixels, int po, int h, int w, int p) {
        int hT = h / p, wT = w / p, k = 3 * p * p;
        float[] out = new float[hT * wT * k];
        for (int ty = 0; ty < hT; ty++)
            for (int tx = 0; tx < wT; tx++) {
                int o = (ty * wT + tx) * k;
                for (int c = 0; c < 3; c++)
                    for (int ky = 0; ky < p; ky++)
                        System.arraycopy(pixels, po + (c * h + ty * p + ky) * w + tx * p, out, o + (c * p + ky) * p, p);
            }
        return out;
    }

    // ---------------------------------------------------------------- losses

    /**
     * transformers ForCausalLMLoss over logits[b·L + t, vocab]: label of row t is labels[t + 1] (shift), rows
     * with label -100 ignored, cross-entropy averaged over every labelled token of the batch. Writes
     * d loss / d logits into dlogits (overwritten; null = loss only) and returns {loss, count}.
     */
    public static double[] causalLmLoss(float[] dlogits, float[] logits, int[] labels, int batch, int len, int vocab) {
        int count = 0;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t + 1 < len; t++) if (labels[b * len + t + 1] != -100) count++;
        if (dlogits != null) java.util.Arrays.fill(dlogits, 0f);
        double sum = 0;
        if (count == 0) return new double[]{Double.NaN, 0}; // torch: mean over nothing = nan
        for (int b = 0; b < batch; b++)
            for (int t = 0; t + 1 < len; t++) {
                int label = labels[b * len + t + 1];
                if (label == -100) continue;
                if (label < 0 || label >= vocab) throw new IllegalArgumentException("label " + label + " outside the vocabulary [0, " + vocab + ")");
                int o = (b * len + t) * vocab;
                float max = Float.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[o + v]);
                double z = 0;
                for (int v = 0; v < vocab; v++) z += Math.exp(logits[o + v] - max);
                double logz = Math.log(z) + max;
                sum += logz - logits[o + label];
                if (dlogits != null) {
                    for (int v = 0; v < vocab; v++) dlogits[o + v] = (float) (Math.exp(logits[o + v] - logz) / count);
                    dlogits[o + label] -= 1f / count;
                }
            }
        return new double[]{sum / count, count};
    }

    /**
     * CosineLoss (aux_vision.py): mean over rows of 1 − cosine_similarity(t, s, dim=1) with torch's eps 1e-8
     * on the norm product; ds[rows, d] = scale · d loss / d s (overwritten; null = loss only).
     */
    public static double cosineLoss(float[] ds, float[] s, float[] t, int rows, int d, double scale) {
        double loss = 0;
        for (int i = 0; i < rows; i++) {
            int o = i * d;
            double st = 0, ss = 0, tt = 0;
            for (int j = 0; j < d; j++) { st += (double) s[o + j] * t[o + j]; ss += (double) s[o + j] * s[o + j]; tt += (double) t[o + j] * t[o + j]; }
            double den = Math.sqrt(Math.max(ss * tt, 1e-16));
            double cos = st / den;
            loss += 1 - cos;
            if (ds != null) {
                // d(1 - cos)/ds = -(t/den - cos · s/|s|²) per row, then the mean's 1/rows
                double k = -scale / rows;
                for (int j = 0; j < d; j++) ds[o + j] = (float) (k * (t[o + j] / den - cos * s[o + j] / ss));
            }
        }
        return loss / rows;
    }
}
