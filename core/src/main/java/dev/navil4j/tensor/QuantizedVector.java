package dev.navil4j.tensor;

/**
 * An activation vector quantized like a Q8_0 weight row, for the decode GEMV's integer block dots (llama.cpp
 * quantizes the activations of its Q8_0/Q4_0 matmuls the same way): per block of 32 values d = max|x|/127 and
 * q = round(x/d) ∈ [−127, 127], so |x − d·q| ≤ d/2. Values are kept widened to 16 bits, the lane type the
 * kernels multiply in.
 */
public final class QuantizedVector {
    /** q[j] for j &lt; cols (int8 values in 16-bit slots). */
    final short[] q;
    /** d[b], the scale of block b. */
    final float[] d;
    /** For Q4 weights: q4Offset[b·16 + k] = −8·(q[32b + k] + q[32b + k + 16]), the nibble offset's share (null for Q8). */
    final short[] q4Offset;

    private QuantizedVector(short[] q, float[] d, short[] q4Offset) {
        this.q = q;
        this.d = d;
        this.q4Offset = q4Offset;
    }

    /** Quantizes x[xo..xo+cols) (cols a multiple of 32); with {@code forQ4} also the Q4 offset terms. */
    public static QuantizedVector of(float[] x, int xo, int cols, boolean forQ4) {
        if (cols % QuantKernels.BLOCK != 0) throw new IllegalArgumentException("activation length " + cols + " is not a multiple of 32");
        int blocks = cols / QuantKernels.BLOCK;
        short[] q = new short[cols];
        float[] d = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            int o = xo + b * QuantKernels.BLOCK;
            float amax = 0;
            for (int j = 0; j < QuantKernels.BLOCK; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            float db = amax / 127f;
            // 1/d in double: for a block of tiny values (amax below ~4e-37) 1/d overflows float
            double id = amax == 0 ? 0 : 127.0 / amax;
            d[b] = db;
            // clamped: x·(127/amax) may round to 127.00001 for the largest element
            for (int j = 0; j < QuantKernels.BLOCK; j++) q[b * QuantKernels.BLOCK + j] = (short) Math.max(-127, Math.min(127, Math.round(x[o + j] * id)));
        }
        short[] off = null;
        if (forQ4) {
            off = new short[blocks * 16];
            for (int b = 0; b < blocks; b++)
                for (int k = 0; k < 16; k++) off[b * 16 + k] = (short) (-8 * (q[b * 32 + k] + q[b * 32 + k + 16]));
        }
        return new QuantizedVector(q, d, off);
    }

    public int length() { return q.length; }

    /** The dequantized value d·q of element j (what the kernels multiply the weights with). */
    public float value(int j) { return d[j / QuantKernels.BLOCK] * q[j]; }
}
