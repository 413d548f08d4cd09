package dev.navil4j.train;

import java.util.Arrays;

/**
 * One named tensor of the training graph: float32 master values {@code w} (row-major, shape as torch has
 * it) and, for trainable tensors, the gradient buffer {@code g} of the same size. Frozen tensors have
 * {@code g == null}: no kernel writes a gradient for them (the reference's {@code grad is None}).
 */
public final class Param {
    public final String name;
    public final long[] shape;
    public final float[] w;
    public final float[] g;

    public Param(String name, long[] shape, float[] w, boolean trainable) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != w.length) throw new IllegalArgumentException(name + ": " + w.length + " values for shape " + Arrays.toString(shape));
        this.name = name;
        this.shape = shape.clone();
        this.w = w;
        this.g = trainable ? new float[w.length] : null;
    }

    public boolean trainable() { return g != null; }

    public int size() { return w.length; }

    public void zeroGrad() { if (g != null) Arrays.fill(g, 0f); }

    @Override public String toString() { return name + Arrays.toString(shape) + (trainable() ? " trainable" : " frozen"); }
}
