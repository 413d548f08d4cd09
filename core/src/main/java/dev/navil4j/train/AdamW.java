package dev.navil4j.train;

import java.util.List;

/**
 * torch.optim.AdamW as HF Trainer's {@code optim: adamw_torch} runs it on CPU (torch/optim/adamw.py →
 * adam.py _single_tensor_adam, amsgrad off): per step t,
 * <pre>
 *   p ← p · (1 − lr·wd);  m ← m + (g − m)(1 − β1)  (lerp);  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
 * </pre>
 * eps is added AFTER the bias-corrected square root (not inside it, not before the correction). The
 * scalars are computed in double as Python does, the tensor ops in float32. State m, v and t are exposed
 * for checkpoints.
 */
public final class AdamW {
    public final double beta1, beta2, eps, weightDecay;
    private final List<Param> params;
    public final float[][] m, v;
    private long step;

    public AdamW(List<Param> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        m = new float[params.size()][];
        v = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new float[params.get(i).size()];
            v[i] = new float[params.get(i).size()];
        }
    }

    /** torch defaults (0.9, 0.999), eps 1e-8, weight decay 0 (the VoRA configs set 0.0). */
    public static AdamW torchDefaults(List<Param> params) { return new AdamW(params, 0.9, 0.999, 1e-8, 0.0); }

    public long step() { return step; }

    public void restore(long step) { this.step = step; }

    public List<Param> params() { return params; }

    /** One update with learning rate lr from the params' current gradients. */
    public void update(double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = (float) (1 - lr * weightDecay), w1 = (float) (1 - beta1), b2 = (float) beta2, w2 = (float) (1 - beta2), e = (float) eps;
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            float[] w = p.w, g = p.g, mi = m[i], vi = v[i];
            for (int j = 0; j < w.length; j++) {
                if (weightDecay != 0) w[j] *= decay;
                mi[j] = mi[j] + w1 * (g[j] - mi[j]);
                vi[j] = vi[j] * b2 + w2 * g[j] * g[j];
                float denom = (float) Math.sqrt(vi[j]) / bc2Sqrt + e;
                w[j] = w[j] - stepSize * (mi[j] / denom);
            }
        }
    }

    /**
     * torch.nn.utils.clip_grad_norm_(params, maxNorm): the global L2 norm of all gradients (the norm of the
     * per-tensor norms), then every gradient × min(1, maxNorm / (norm + 1e-6)). Returns the pre-clip norm.
     */
    public static double clipGradNorm(List<Param> params, double maxNorm) {
        double total = 0;
        for (Param p : params) {
            double s = 0;
            for (float x : p.g) s += (double) x * x;
            float norm = (float) Math.sqrt(s); // each tensor's norm is a float32 scalar in torch
            total += (double) norm * norm;
        }
        float norm = (float) Math.sqrt(total);
        if (maxNorm > 0) {
            float coef = (float) (maxNorm / (norm + 1e-6));
            if (coef < 1f) for (Param p : params) for (int j = 0; j < p.g.length; j++) p.g[j] *= coef;
        }
        return norm;
    }
}
