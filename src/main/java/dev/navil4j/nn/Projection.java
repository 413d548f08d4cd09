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
}
