package dev.navil4j.nn;

import dev.navil4j.tensor.WeightTensor;

/**
 * A linear layer with an unmerged low-rank update: y = x·Wᵀ + b + (x·Aᵀ)·Bᵀ·scale, with A [r, in] and
 * B [out, r] (peft/VoRA naming lora_A / lora_B). Used when LoRA weights are kept separate instead of merged
 * into W at load; the result equals the merged layer up to f32 rounding.
 */
public record LoraLinear(Linear base, WeightTensor loraA, WeightTensor loraB, float scale) implements Projection {
    public LoraLinear {
        if (loraA.cols != base.in() || loraB.rows != base.out() || loraB.cols != loraA.rows)
            throw new IllegalArgumentException("LoRA shapes do not fit " + base.weight().name + " [" + base.out() + "x" + base.in()
                    + "]: A " + loraA.rows + "x" + loraA.cols + ", B " + loraB.rows + "x" + loraB.cols);
    }

    public int rank() { return loraA.rows; }

    @Override public int in() { return base.in(); }

    @Override public int out() { return base.out(); }

    @Override
    public void forward(float[] x, int n, float[] out) {
        base.forward(x, n, out);
        float[] low = new float[n * rank()];
        loraA.matmul(x, n, low, null);
        if (scale != 1f) for (int i = 0; i < low.length; i++) low[i] *= scale;
        float[] delta = new float[n * out()];
        loraB.matmul(low, n, delta, null);
        for (int i = 0; i < delta.length; i++) out[i] += delta[i];
    }

    /**
     * W' = W + scale·B·A as a heap f32 matrix (the merge done once at load), bias unchanged. The products are
     * accumulated in f32 in the order of a plain matmul over r, as torch's {@code W + B @ A} does.
     */
    public Linear merge() {
        int rows = out(), cols = in(), r = rank();
        float[] w = base.weight().toFloatArray();
        float[] a = loraA.toFloatArray(), b = loraB.toFloatArray();
        float[] prod = new float[cols];
        for (int i = 0; i < rows; i++) {
            java.util.Arrays.fill(prod, 0f);
            for (int k = 0; k < r; k++) {
                float bik = b[i * r + k] * scale;
                for (int j = 0; j < cols; j++) prod[j] += bik * a[k * cols + j];
            }
            for (int j = 0; j < cols; j++) w[i * cols + j] += prod[j];
        }
        return new Linear(WeightTensor.ofFloats(base.weight().name + "+lora", w, rows, cols), base.bias());
    }
}
