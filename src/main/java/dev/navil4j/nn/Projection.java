package dev.navil4j.nn;

/**
 * A linear map [n, in] → [n, out] as a model layer sees it: a plain {@link Linear}, or one that adds an
 * unmerged LoRA update on the fly ({@link LoraLinear}). Lets a decoder be written once for both.
 */
public interface Projection {
    int in();

    int out();

    /** out[n, out()] = f(x[n, in()]). */
    void forward(float[] x, int n, float[] out);

    /**
     * Each ps[m].forward(x, n, outs[m]) — for one token row and plain {@link Linear} layers as one parallel region
     * ({@link dev.navil4j.tensor.WeightTensor#gemvTogether}: q/k/v or gate/up of a decode step, bit-identical to
     * separate calls); otherwise one call after the other.
     */
    static void forwardTogether(float[] x, int n, Projection[] ps, float[][] outs) {
        boolean plain = n == 1;
        for (Projection p : ps) plain &= p instanceof Linear;
        if (!plain) {
            for (int m = 0; m < ps.length; m++) ps[m].forward(x, n, outs[m]);
            return;
        }
        dev.navil4j.tensor.WeightTensor[] ws = new dev.navil4j.tensor.WeightTensor[ps.length];
        float[][] biases = new float[ps.length][];
        for (int m = 0; m < ps.length; m++) { ws[m] = ((Linear) ps[m]).weight(); biases[m] = ((Linear) ps[m]).bias(); }
        dev.navil4j.tensor.WeightTensor.gemvTogether(x, ws, outs, biases);
    }
}
