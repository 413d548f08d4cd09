package dev.navil4j.weights;

import dev.navil4j.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a checkpoint: a zero-copy view of its bytes inside the memory-mapped file.
 * Multi-byte values are little-endian, as safetensors stores them.
 */
public record TensorInfo(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    public long numel() {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }

    public int rank() { return shape.length; }

    public int dim(int i) {
        long d = shape[i < 0 ? shape.length + i : i];
        if (d > Integer.MAX_VALUE) throw new WeightsException(name + ": dimension " + d + " too large");
        return (int) d;
    }

    public String shapeString() { return Arrays.toString(shape); }

    /** Reads the whole tensor as f32 (converting F16/BF16/I32/I64); intended for small tensors (norms, biases). */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE) throw new WeightsException(name + " has " + n + " elements: too many for an array");
        float[] out = new float[(int) n];
        dev.navil4j.tensor.Convert.toFloat(dtype, data, 0, out, 0, (int) n);
        return out;
    }

    public long[] toLongArray() {
        int n = Math.toIntExact(numel());
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case I64 -> data.getAtIndex(dev.navil4j.tensor.Convert.LE_LONG, i);
                case I32 -> data.getAtIndex(dev.navil4j.tensor.Convert.LE_INT, i);
                default -> (long) dev.navil4j.tensor.Convert.getFloat(dtype, data, i);
            };
        }
        return out;
    }

    public int[] toIntArray() {
        long[] l = toLongArray();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) out[i] = Math.toIntExact(l[i]);
        return out;
    }

    /** A 2-D weight view of this tensor; higher ranks flatten trailing dims (Conv2d [out, c, kh, kw] → [out, c·kh·kw]). */
    public dev.navil4j.tensor.WeightTensor matrix() {
        if (rank() < 2) throw new WeightsException(name() + ": expected a matrix, got shape " + shapeString());
        int rows = dim(0);
        int cols = Math.toIntExact(numel() / Math.max(1, rows));
        try {
            return dev.navil4j.tensor.WeightTensor.of(name(), dtype(), data(), rows, cols);
        } catch (IllegalArgumentException e) {
            throw new WeightsException(e.getMessage());
        }
    }
}
