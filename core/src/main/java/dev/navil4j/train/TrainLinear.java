package dev.navil4j.train;

/**
 * A linear layer of the training graph, optionally VoRA's LoRALayer (models/lora.py:19-39):
 * {@code y = x W^T + b + (x A^T) B^T} with W frozen, A [r, in] and B [out, r] trainable, no alpha or 1/r
 * scaling. The bias is whatever the checkpoint has: Qwen2's own q/k/v bias (frozen), or the fresh bias
 * every LoRALayer gets from {@code nn.Linear.__init__} (trainable; o_proj and the MLP of LoRA layers).
 * Saved for the backward: the input x (owned by the caller, not copied) and xa = x A^T [n, r].
 */
public final class TrainLinear {
    public final Param weight, bias, loraA, loraB; // bias, loraA, loraB may be null
    public final int in, out;
    private float[] x, xa;
    private int n;
    private final FrozenMatrix frozen; // W through the packed GEMM when W is frozen (always, in VoRA)

    public TrainLinear(Param weight, Param bias, Param loraA, Param loraB) {
        this.weight = weight;
        this.bias = bias;
        this.loraA = loraA;
        this.loraB = loraB;
        this.out = (int) weight.shape[0];
        this.in = (int) weight.shape[1];
        if ((loraA == null) != (loraB == null)) throw new IllegalArgumentException(weight.name + ": lora_A and lora_B come together");
        this.frozen = weight.trainable() ? null : new FrozenMatrix(weight);
    }

    public int rank() { return loraA == null ? 0 : (int) loraA.shape[0]; }

    /** y[n, out] for x[n, in]; keeps x for the backward. */
    public float[] forward(float[] x, int n) {
        this.x = x;
        this.n = n;
        float[] y = new float[n * out];
        if (frozen != null) frozen.forward(y, x, bias == null ? null : bias.w, n);
        else TrainOps.linear(y, x, weight.w, bias == null ? null : bias.w, n, in, out);
        if (loraA != null) {
            int r = rank();
            xa = new float[n * r];
            TrainOps.linear(xa, x, loraA.w, null, n, in, r);
            float[] lo = new float[n * out];
            TrainOps.linear(lo, xa, loraB.w, null, n, r, out);
            for (int i = 0; i < y.length; i++) y[i] += lo[i];
        }
        return y;
    }

    /** Accumulates dx (may be null) and the trainable tensors' gradients from dy[n, out]. */
    public void backward(float[] dx, float[] dy) {
        if (bias != null && bias.trainable())
            TrainOps.linearBackward(null, null, bias.g, dy, x, weight.w, n, in, out);
        if (frozen != null) { if (dx != null) frozen.backwardInput(dx, dy, n); }
        else TrainOps.linearBackward(dx, weight.g, null, dy, x, weight.w, n, in, out);
        if (loraA != null) {
            int r = rank();
            float[] dxa = new float[n * r];
            TrainOps.linearBackward(dxa, loraB.g, null, dy, xa, loraB.w, n, r, out);
            TrainOps.linearBackward(dx, loraA.g, null, dxa, x, loraA.w, n, in, r);
        }
    }

    /** tools/merge_lora.py: W' = W + B @ A in float32 (no scaling); the bias is kept as it is. */
    public float[] mergedWeight() {
        float[] m = weight.w.clone();
        if (loraA == null) return m;
        int r = rank();
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++) {
                float s = 0;
                for (int k = 0; k < r; k++) s += loraB.w[o * r + k] * loraA.w[k * in + i];
                m[o * in + i] += s;
            }
        return m;
    }
}
