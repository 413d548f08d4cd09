package dev.navil4j.train;

import dev.navil4j.tensor.Gemm;
import dev.navil4j.tensor.WeightTensor;

/**
 * A frozen weight W [out, in] multiplied through the engine's packed {@link Gemm}: forward y = x W^T and
 * the backward's dx += dy W (= dy (W^T)^T, with a transposed copy made on first use). Only for tensors that
 * never change (no gradient): the packed panels are built from the array on every call, but the transposed
 * copy is kept. Gemm writes every output element from one thread in a fixed k order, so results do not
 * depend on the thread count (resume stays exact).
 */
final class FrozenMatrix {
    /** Below this many multiply-adds per call the plain kernels are as fast (packing dominates). */
    static final long MIN_MACS = 1L << 20;

    private final WeightTensor w;
    private final float[] data;
    private final int out, in;
    private WeightTensor wt;

    FrozenMatrix(Param p) {
        if (p.trainable()) throw new IllegalArgumentException(p.name + " trains: no cached copies of it");
        this.out = (int) p.shape[0];
        this.in = (int) (p.size() / out);
        this.data = p.w;
        this.w = WeightTensor.ofFloats(p.name, p.w, out, in);
    }

    /** y[n, out] = x[n, in] W^T (+ b). */
    void forward(float[] y, float[] x, float[] b, int n) {
        if ((long) n * in * out < MIN_MACS || n < Gemm.MR) TrainOps.linear(y, x, data, b, n, in, out);
        else Gemm.multiply(w, x, n, y, b);
    }

    /** dx[n, in] += dy[n, out] W. */
    void backwardInput(float[] dx, float[] dy, int n) {
        if ((long) n * in * out < MIN_MACS || n < Gemm.MR) { TrainOps.linearBackward(dx, null, null, dy, null, data, n, in, out); return; }
        if (wt == null) {
            float[] t = new float[data.length];
            for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) t[i * out + o] = data[o * in + i];
            wt = WeightTensor.ofFloats(w.name + "^T", t, in, out);
        }
        float[] tmp = new float[n * in];
        Gemm.multiply(wt, dy, n, tmp, null);
        for (int i = 0; i < tmp.length; i++) dx[i] += tmp[i];
    }
}
