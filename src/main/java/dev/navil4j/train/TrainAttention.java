package dev.navil4j.train;

import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.Kernels;

/**
 * Scaled dot-product attention with grouped KV heads and an allowed-key rule, forward and backward.
 * Buffers: q[B·L, H·hd], k/v[B·L, KV·hd], out[B·L, H·hd], softmax stats [B, H, L, 2] kept for the backward.
 * <p>The VoRA rule (models/attention_mask.py make_mask "bidirectional", modeling_vora.py:205-210): key j is
 * visible from query i when the key is not padding (attention_mask 1) and j ≤ i, or when i and j lie in the
 * same contiguous run of image tokens (that block is fully visible, both ways). Masked scores get
 * finfo.min in the reference, whose exp is exactly 0 — they are skipped here. {@code mask == null}:
 * every key is visible (the AIMv2 teacher's full attention).
 */
public final class TrainAttention {
    /** Per-row mask inputs: keyValid[b·L + j] (attention_mask), block[b·L + j] image block id or -1. */
    public record Mask(int[] keyValid, int[] block) {
        boolean allowed(int base, int i, int j) {
            int bi = block[base + i];
            if (bi >= 0 && bi == block[base + j]) return true;
            return j <= i && keyValid[base + j] != 0;
        }
    }

    private TrainAttention() {}

    /**
     * Forward. Keeps only the per-row softmax statistics stats[B·H·L·2] = (max, 1/sum) — not the L×L
     * probabilities, which the backward recomputes with the very same float operations (so bit-identical);
     * at L ≈ 1000 the probabilities would cost H·L² floats per sample and layer.
     */
    public static float[] forward(float[] out, float[] q, float[] k, float[] v, int batch, int len, int heads, int kvHeads, int hd, Mask mask) {
        float[] stats = new float[batch * heads * len * 2];
        int group = heads / kvHeads, qs = heads * hd, ks = kvHeads * hd;
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            float[] p = new float[len];
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads, kh = h / group, base = b * len;
                for (int i = 0; i < len; i++) {
                    probs(p, stats, true, q, k, base, bh, i, len, h, kh, hd, qs, ks, mask);
                    int oo = (base + i) * qs + h * hd;
                    for (int d = 0; d < hd; d++) out[oo + d] = 0f;
                    for (int j = 0; j < len; j++) if (p[j] != 0f) Kernels.axpy(p[j], v, (base + j) * ks + kh * hd, out, oo, hd);
                }
            }
        });
        return stats;
    }

    /** The full probabilities P [B, H, L, L] from the forward's stats (tests, debugging). */
    public static float[] probabilities(float[] q, float[] k, float[] stats, int batch, int len, int heads, int kvHeads, int hd, Mask mask) {
        float[] all = new float[batch * heads * len * len], p = new float[len];
        int group = heads / kvHeads;
        for (int bh = 0; bh < batch * heads; bh++)
            for (int i = 0; i < len; i++) {
                probs(p, stats, false, q, k, (bh / heads) * len, bh, i, len, bh % heads, (bh % heads) / group, hd, heads * hd, kvHeads * hd, mask);
                System.arraycopy(p, 0, all, (bh * len + i) * len, len);
            }
        return all;
    }

    /**
     * Row i of head h: p[j] = softmax_j(q_i·k_j / sqrt(hd)) over the allowed keys (0 elsewhere). With
     * {@code save} the row's max and 1/sum go into stats; else they are read from there (the backward).
     */
    private static void probs(float[] p, float[] stats, boolean save, float[] q, float[] k, int base, int bh, int i, int len,
                              int h, int kh, int hd, int qs, int ks, Mask mask) {
        float scale = (float) (1.0 / Math.sqrt(hd));
        int qo = (base + i) * qs + h * hd, so = (bh * len + i) * 2;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            if (mask != null && !mask.allowed(base, i, j)) { p[j] = Float.NEGATIVE_INFINITY; continue; }
            float sc = TrainOps.dot(q, qo, k, (base + j) * ks + kh * hd, hd) * scale;
            p[j] = sc;
            max = Math.max(max, sc);
        }
        if (!save) max = stats[so];
        float sum = 0;
        for (int j = 0; j < len; j++) {
            float e = p[j] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(p[j] - max);
            p[j] = e;
            sum += e;
        }
        float inv = save ? 1f / sum : stats[so + 1];
        if (save) { stats[so] = max; stats[so + 1] = inv; }
        for (int j = 0; j < len; j++) p[j] *= inv;
    }

    /**
     * Backward: with dP_ij = dout_i · v_j, dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik):
     * dq_i += scale Σ_j dS_ij k_j, dk_j += scale Σ_i dS_ij q_i, dv_j += Σ_i P_ij dout_i (accumulated).
     * KV heads shared by a group of query heads collect the group's sum; the batch·kv-head pairs run in parallel.
     */
    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v, float[] stats,
                                int batch, int len, int heads, int kvHeads, int hd, Mask mask) {
        float scale = (float) (1.0 / Math.sqrt(hd));
        int group = heads / kvHeads, qs = heads * hd, ks = kvHeads * hd;
        Parallel.forRange(batch * kvHeads, 1, (lo, hi) -> {
            float[] dp = new float[len], pr = new float[len];
            for (int bk = lo; bk < hi; bk++) {
                int b = bk / kvHeads, kh = bk % kvHeads, base = b * len;
                for (int h = kh * group; h < (kh + 1) * group; h++) {
                    int bh = b * heads + h;
                    for (int i = 0; i < len; i++) {
                        probs(pr, stats, false, q, k, base, bh, i, len, h, kh, hd, qs, ks, mask);
                        int oo = (base + i) * qs + h * hd;
                        float dot = 0;
                        for (int j = 0; j < len; j++) {
                            float p = pr[j];
                            if (p == 0f) { dp[j] = 0f; continue; }
                            int vo = (base + j) * ks + kh * hd;
                            dp[j] = TrainOps.dot(dout, oo, v, vo, hd);
                            dot += p * dp[j];
                            Kernels.axpy(p, dout, oo, dv, vo, hd);
                        }
                        for (int j = 0; j < len; j++) {
                            float p = pr[j];
                            if (p == 0f) continue;
                            float ds = p * (dp[j] - dot) * scale;
                            int ko = (base + j) * ks + kh * hd;
                            Kernels.axpy(ds, k, ko, dq, oo, hd);
                            Kernels.axpy(ds, q, oo, dk, ko, hd);
                        }
                    }
                }
            }
        });
    }
}
