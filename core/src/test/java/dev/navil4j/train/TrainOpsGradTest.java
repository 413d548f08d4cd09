package dev.navil4j.train;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every backward kernel against central finite differences of an independent float64 forward written
 * here (plain loops, the textbook formula), on small random shapes: for a random upstream gradient dy,
 * d(Σ dy·f(x))/dx computed numerically in double must match the kernel's float32 analytic gradient.
 * The float64 forwards are also compared with the float32 kernels' outputs.
 */
class TrainOpsGradTest {
    static final Random R = new Random(1234);

    static float[] rand(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (R.nextGaussian() * scale);
        return a;
    }

    static double[] d(float[] a) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) o[i] = a[i];
        return o;
    }

    /** Numerical gradient of the scalar x → Σ dy·f(x) at x (float64, central differences). */
    static double[] numGrad(Function<double[], double[]> f, double[] x, float[] dy) {
        double[] g = new double[x.length];
        double h = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double[] p = f.apply(x);
            x[i] = keep - h;
            double[] m = f.apply(x);
            x[i] = keep;
            double s = 0;
            for (int j = 0; j < dy.length; j++) s += dy[j] * (p[j] - m[j]);
            g[i] = s / (2 * h);
        }
        return g;
    }

    static void assertClose(float[] got, double[] want, double rel) {
        double scale = 0, err = 0;
        for (int i = 0; i < want.length; i++) { scale = Math.max(scale, Math.abs(want[i])); err = Math.max(err, Math.abs(got[i] - want[i])); }
        assertThat(scale).as("a gradient that is all zero tests nothing").isGreaterThan(1e-6);
        assertThat(err).as("max abs error vs max |grad| " + scale).isLessThanOrEqualTo(rel * scale);
    }

    // ---------------------------------------------------------------- float64 reference forwards

    static double[] linear64(double[] x, double[] w, double[] b, int n, int in, int out) {
        double[] y = new double[n * out];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int k = 0; k < in; k++) s += x[i * in + k] * w[o * in + k];
                y[i * out + o] = s;
            }
        return y;
    }

    static double[] rms64(double[] x, double[] w, int n, int dd, double eps) {
        double[] y = new double[x.length];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int j = 0; j < dd; j++) ss += x[i * dd + j] * x[i * dd + j];
            double r = 1 / Math.sqrt(ss / dd + eps);
            for (int j = 0; j < dd; j++) y[i * dd + j] = x[i * dd + j] * r * w[j];
        }
        return y;
    }

    // ---------------------------------------------------------------- tests

    @Test
    void loraLinearGradientsOfXAB_andTheFreshBias() {
        int n = 5, in = 7, out = 6, r = 3;
        float[] x = rand(n * in, 1), w = rand(out * in, 0.5), b = rand(out, 0.5), a = rand(r * in, 0.5), bb = rand(out * r, 0.5), dy = rand(n * out, 1);
        TrainLinear lin = new TrainLinear(new Param("w", new long[]{out, in}, w, false), new Param("b", new long[]{out}, b, true),
                new Param("a", new long[]{r, in}, a, true), new Param("B", new long[]{out, r}, bb, true));
        float[] y = lin.forward(x, n);
        float[] dx = new float[n * in];
        lin.backward(dx, dy);
        // y = x W^T + b + (x A^T) B^T in float64
        Function<double[][], double[]> f = p -> {
            double[] xa = linear64(p[0], p[3], null, n, in, r);
            double[] lo = linear64(xa, p[4], null, n, r, out);
            double[] base = linear64(p[0], p[1], p[2], n, in, out);
            for (int i = 0; i < base.length; i++) base[i] += lo[i];
            return base;
        };
        double[][] p = {d(x), d(w), d(b), d(a), d(bb)};
        assertClose(y, f.apply(p), 1e-5);
        float[][] analytic = {dx, null, lin.bias.g, lin.loraA.g, lin.loraB.g};
        for (int k : new int[]{0, 2, 3, 4}) {
            int kk = k;
            assertClose(analytic[k], numGrad(v -> { double[][] q = p.clone(); q[kk] = v; return f.apply(q); }, p[k], dy), 1e-4);
        }
        assertThat(lin.weight.g).as("the frozen W gets no gradient").isNull();
    }

    @Test
    void rmsNormGradientsOfInputAndWeight() {
        int n = 4, dd = 9;
        float[] x = rand(n * dd, 1), w = rand(dd, 1), dy = rand(n * dd, 1);
        float[] y = new float[n * dd], rstd = new float[n], dx = new float[n * dd], dw = new float[dd];
        TrainOps.rmsNorm(y, rstd, x, w, n, dd, 1e-5f);
        TrainOps.rmsNormBackward(dx, dw, dy, x, w, rstd, n, dd);
        assertClose(y, rms64(d(x), d(w), n, dd, 1e-5), 1e-5);
        assertClose(dx, numGrad(v -> rms64(v, d(w), n, dd, 1e-5), d(x), dy), 1e-4);
        assertClose(dw, numGrad(v -> rms64(d(x), v, n, dd, 1e-5), d(w), dy), 1e-4);
    }

    @Test
    void swigluGradients() {
        int n = 20;
        float[] g = rand(n, 2), u = rand(n, 1), dy = rand(n, 1), h = new float[n], dg = new float[n], du = new float[n];
        TrainOps.swiglu(h, g, u, n);
        TrainOps.swigluBackward(dg, du, dy, g, u, n);
        Function<double[][], double[]> f = p -> {
            double[] o = new double[n];
            for (int i = 0; i < n; i++) o[i] = p[0][i] / (1 + Math.exp(-p[0][i])) * p[1][i];
            return o;
        };
        double[][] p = {d(g), d(u)};
        assertClose(h, f.apply(p), 1e-5);
        assertClose(dg, numGrad(v -> f.apply(new double[][]{v, p[1]}), p[0], dy), 1e-4);
        assertClose(du, numGrad(v -> f.apply(new double[][]{p[0], v}), p[1], dy), 1e-4);
    }

    @Test
    void ropeBackwardIsTheInverseRotation() {
        int rows = 5, heads = 2, hd = 8, half = 4;
        int[] pos = {0, 3, 7, 1, 4};
        float[] cos = new float[8 * half], sin = new float[8 * half];
        for (int t = 0; t < 8; t++) for (int i = 0; i < half; i++) { cos[t * half + i] = (float) Math.cos(t * Math.pow(100, -i / 4.0)); sin[t * half + i] = (float) Math.sin(t * Math.pow(100, -i / 4.0)); }
        float[] x = rand(rows * heads * hd, 1), dy = rand(x.length, 1);
        Function<double[], double[]> f = v -> {
            double[] o = v.clone();
            for (int t = 0; t < rows; t++) for (int h = 0; h < heads; h++) for (int i = 0; i < half; i++) {
                int a = t * heads * hd + h * hd + i;
                double c = cos[pos[t] * half + i], s = sin[pos[t] * half + i];
                o[a] = v[a] * c - v[a + half] * s;
                o[a + half] = v[a + half] * c + v[a] * s;
            }
            return o;
        };
        float[] y = x.clone();
        TrainOps.rope(y, rows, heads, hd, pos, cos, sin, true);
        assertClose(y, f.apply(d(x)), 1e-6);
        float[] dx = dy.clone();
        TrainOps.rope(dx, rows, heads, hd, pos, cos, sin, false);
        assertClose(dx, numGrad(f, d(x), dy), 1e-5);
    }

    /** Two samples of 6 rows: sample 0 has an image block at rows 1..3, sample 1 padding at rows 4..5. */
    @Test
    void attentionWithTheVoRAMaskGQAAndPaddingGradients() {
        int batch = 2, len = 6, heads = 4, kv = 2, hd = 4, n = batch * len;
        int[] keyValid = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
        int[] block = {-1, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1};
        TrainAttention.Mask mask = new TrainAttention.Mask(keyValid, block);
        float[] q = rand(n * heads * hd, 1), k = rand(n * kv * hd, 1), v = rand(n * kv * hd, 1), dy = rand(n * heads * hd, 1);
        float[] out = new float[q.length];
        float[] stats = TrainAttention.forward(out, q, k, v, batch, len, heads, kv, hd, mask);
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        TrainAttention.backward(dq, dk, dv, dy, q, k, v, stats, batch, len, heads, kv, hd, mask);
        float[] probs = TrainAttention.probabilities(q, k, stats, batch, len, heads, kv, hd, mask);
        Function<double[][], double[]> f = p -> {
            double[] o = new double[n * heads * hd];
            for (int b = 0; b < batch; b++) for (int h = 0; h < heads; h++) for (int i = 0; i < len; i++) {
                int kh = h / (heads / kv);
                double[] s = new double[len];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    int bi = block[b * len + i];
                    boolean ok = bi >= 0 && bi == block[b * len + j] || j <= i && keyValid[b * len + j] == 1;
                    if (!ok) { s[j] = Double.NaN; continue; }
                    double dot = 0;
                    for (int e = 0; e < hd; e++) dot += p[0][((b * len + i) * heads + h) * hd + e] * p[1][((b * len + j) * kv + kh) * hd + e];
                    s[j] = dot / Math.sqrt(hd);
                    max = Math.max(max, s[j]);
                }
                double z = 0;
                for (int j = 0; j < len; j++) if (!Double.isNaN(s[j])) z += Math.exp(s[j] - max);
                for (int j = 0; j < len; j++) {
                    if (Double.isNaN(s[j])) continue;
                    double pr = Math.exp(s[j] - max) / z;
                    for (int e = 0; e < hd; e++) o[((b * len + i) * heads + h) * hd + e] += pr * p[2][((b * len + j) * kv + kh) * hd + e];
                }
            }
            return o;
        };
        double[][] p = {d(q), d(k), d(v)};
        assertClose(out, f.apply(p), 1e-5);
        // row 1 (an image token) sees rows 1..3 of its block, ahead of itself: the bidirectional block
        assertThat(probs[(0 * len + 1) * len + 3]).isGreaterThan(0f);
        assertThat(probs[(0 * len + 1) * len + 4]).isZero();
        // padded keys are never seen, not even by the padded rows themselves
        assertThat(probs[((1 * heads) * len + 5) * len + 5]).isZero();
        float[][] analytic = {dq, dk, dv};
        for (int a = 0; a < 3; a++) {
            int aa = a;
            assertClose(analytic[a], numGrad(x -> { double[][] c = p.clone(); c[aa] = x; return f.apply(c); }, p[a], dy), 1e-4);
        }
    }

    @Test
    void shiftedCrossEntropyOverLabelledTokensAndItsGradient() {
        int batch = 2, len = 4, vocab = 5;
        int[] labels = {-100, 2, 4, -100, -100, -100, 1, 0};
        float[] logits = rand(batch * len * vocab, 2), dl = new float[logits.length];
        double[] r = TrainOps.causalLmLoss(dl, logits, labels, batch, len, vocab);
        assertThat(r[1]).isEqualTo(4); // rows whose NEXT label is set: (0,0) (0,1) (1,1) (1,2)
        Function<double[], double[]> f = x -> {
            double s = 0;
            int cnt = 0;
            for (int b = 0; b < batch; b++) for (int t = 0; t + 1 < len; t++) {
                int lab = labels[b * len + t + 1];
                if (lab == -100) continue;
                double z = 0;
                for (int v = 0; v < vocab; v++) z += Math.exp(x[(b * len + t) * vocab + v]);
                s += Math.log(z) - x[(b * len + t) * vocab + lab];
                cnt++;
            }
            return new double[]{s / cnt};
        };
        assertThat(r[0]).isCloseTo(f.apply(d(logits))[0], org.assertj.core.data.Offset.offset(1e-6));
        assertClose(dl, numGrad(f, d(logits), new float[]{1f}), 1e-5);
    }

    @Test
    void cosineDistillationLossAndGradient() {
        int rows = 6, dd = 5;
        float[] s = rand(rows * dd, 1), t = rand(rows * dd, 1), ds = new float[rows * dd];
        double loss = TrainOps.cosineLoss(ds, s, t, rows, dd, 0.5);
        Function<double[], double[]> f = x -> {
            double l = 0;
            for (int i = 0; i < rows; i++) {
                double st = 0, ss = 0, tt = 0;
                for (int j = 0; j < dd; j++) { st += x[i * dd + j] * t[i * dd + j]; ss += x[i * dd + j] * x[i * dd + j]; tt += t[i * dd + j] * t[i * dd + j]; }
                l += 1 - st / Math.sqrt(ss * tt);
            }
            return new double[]{0.5 * l / rows};
        };
        assertThat(0.5 * loss).isCloseTo(f.apply(d(s))[0], org.assertj.core.data.Offset.offset(1e-6));
        assertClose(ds, numGrad(f, d(s), new float[]{1f}), 1e-5);
    }

    @Test
    void embeddingLookupAndScatterAddBackward() {
        int vocab = 6, dd = 3;
        float[] table = rand(vocab * dd, 1);
        int[] ids = {2, 5, 2, 0};
        float[] out = new float[ids.length * dd], dout = rand(out.length, 1), dt = new float[table.length];
        TrainOps.embedding(out, table, ids, dd);
        TrainOps.embeddingBackward(dt, dout, ids, dd);
        Function<double[], double[]> f = tb -> {
            double[] o = new double[ids.length * dd];
            for (int i = 0; i < ids.length; i++) for (int j = 0; j < dd; j++) o[i * dd + j] = tb[ids[i] * dd + j];
            return o;
        };
        assertClose(out, f.apply(d(table)), 0);
        assertClose(dt, numGrad(f, d(table), dout), 1e-6);
    }

    /** The patch conv as a GEMM equals a direct strided Conv2d (float64), with its bias. */
    @Test
    void patchConvAsGemmEqualsADirectConv() {
        int p = 3, h = 6, w = 9, c = 4, k = 3 * p * p;
        float[] px = rand(3 * h * w, 1), wt = rand(c * k, 0.3), b = rand(c, 0.3);
        float[] pt = TrainOps.patches(px, 0, h, w, p);
        int np = (h / p) * (w / p);
        float[] y = new float[np * c];
        TrainOps.linear(y, pt, wt, b, np, k, c);
        double[] want = new double[np * c];
        for (int ty = 0; ty < h / p; ty++) for (int tx = 0; tx < w / p; tx++) for (int o = 0; o < c; o++) {
            double s = b[o];
            for (int ch = 0; ch < 3; ch++) for (int ky = 0; ky < p; ky++) for (int kx = 0; kx < p; kx++)
                s += (double) wt[((o * 3 + ch) * p + ky) * p + kx] * px[(ch * h + ty * p + ky) * w + tx * p + kx];
            want[(ty * (w / p) + tx) * c + o] = s;
        }
        assertClose(y, want, 1e-6);
    }

    @Test
    void adamWMatchesTheTorchFormulaAndClippingScalesByTheGlobalNorm() {
        Param p = new Param("p", new long[]{3}, new float[]{1f, -2f, 0.5f}, true);
        AdamW opt = AdamW.torchDefaults(java.util.List.of(p));
        double[] w = {1, -2, 0.5}, m = new double[3], v = new double[3];
        double[][] grads = {{0.3, -0.1, 2.0}, {-0.2, 0.4, 1.0}, {0.05, 0.05, -3}};
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < 3; i++) p.g[i] = (float) grads[t - 1][i];
            opt.update(1e-2);
            for (int i = 0; i < 3; i++) {
                m[i] = 0.9 * m[i] + 0.1 * grads[t - 1][i];
                v[i] = 0.999 * v[i] + 0.001 * grads[t - 1][i] * grads[t - 1][i];
                w[i] -= 1e-2 / (1 - Math.pow(0.9, t)) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8);
            }
        }
        assertClose(p.w, w, 1e-6);
        Param a = new Param("a", new long[]{2}, new float[2], true), b = new Param("b", new long[]{1}, new float[1], true);
        a.g[0] = 3; a.g[1] = 0; b.g[0] = 4;
        double norm = AdamW.clipGradNorm(java.util.List.of(a, b), 1.0);
        assertThat(norm).isCloseTo(5.0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(a.g[0]).isCloseTo((float) (3 / (5 + 1e-6)), org.assertj.core.data.Offset.offset(1e-7f));
        b.g[0] = 0.5f;
        AdamW.clipGradNorm(java.util.List.of(b), 1.0);
        assertThat(b.g[0]).as("below max_norm nothing changes").isEqualTo(0.5f);
    }

    /** The packed-GEMM path for frozen weights (above its size threshold) equals the plain kernels. */
    @Test
    void frozenMatrixThroughGemmEqualsThePlainLinearAndItsInputGradient() {
        int n = 19, in = 256, out = 300;
        assertThat((long) n * in * out).isGreaterThanOrEqualTo(FrozenMatrix.MIN_MACS);
        float[] w = rand(out * in, 0.1), x = rand(n * in, 1), b = rand(out, 1), dy = rand(n * out, 1);
        FrozenMatrix m = new FrozenMatrix(new Param("w", new long[]{out, in}, w, false));
        float[] y = new float[n * out], want = new float[n * out];
        m.forward(y, x, b, n);
        TrainOps.linear(want, x, w, b, n, in, out);
        assertClose(y, d(want), 1e-5);
        float[] dx = rand(n * in, 1), dxWant = dx.clone();
        m.backwardInput(dx, dy, n);
        TrainOps.linearBackward(dxWant, null, null, dy, x, w, n, in, out);
        assertClose(dx, d(dxWant), 1e-5);
    }
}
