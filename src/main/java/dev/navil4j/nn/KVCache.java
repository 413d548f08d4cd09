package dev.navil4j.nn;

/**
 * Keys and values of every layer for one sequence, sized to the context actually used (grows by
 * doubling up to {@code maxLength}). Layout per layer: [position, kvHeads·headDim] f32.
 */
public final class KVCache {
    public final int layers, kvDim, maxLength;
    private float[][] k, v;
    private int capacity;
    private int length;

    public KVCache(int layers, int kvDim, int maxLength, int initialCapacity) {
        this.layers = layers;
        this.kvDim = kvDim;
        this.maxLength = maxLength;
        this.capacity = Math.max(1, Math.min(initialCapacity, maxLength));
        k = new float[layers][capacity * kvDim];
        v = new float[layers][capacity * kvDim];
    }

    /** Positions already cached (the next token's position). */
    public int length() { return length; }

    /** Makes room for n more positions. */
    public void reserve(int n) {
        int need = length + n;
        if (need > maxLength) throw new IllegalStateException("context length " + need + " exceeds the maximum of " + maxLength + " tokens");
        if (need <= capacity) return;
        int cap = capacity;
        while (cap < need) cap = (int) Math.min(maxLength, cap * 2L);
        for (int l = 0; l < layers; l++) {
            k[l] = java.util.Arrays.copyOf(k[l], cap * kvDim);
            v[l] = java.util.Arrays.copyOf(v[l], cap * kvDim);
        }
        capacity = cap;
    }

    /** Writes n rows of keys/values for layer l at positions [length, length+n) (call {@link #reserve} first). */
    public void put(int l, float[] keys, float[] values, int n) {
        System.arraycopy(keys, 0, k[l], length * kvDim, n * kvDim);
        System.arraycopy(values, 0, v[l], length * kvDim, n * kvDim);
    }

    /** Advances the length after every layer has stored its n rows. */
    public void commit(int n) { length += n; }

    /** Drops positions ≥ newLength (to roll back or reuse a shared prefix). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("truncate to " + newLength + " of " + length);
        length = newLength;
    }

    public float[] keys(int l) { return k[l]; }
    public float[] values(int l) { return v[l]; }

    public long bytes() { return 2L * layers * capacity * kvDim * 4; }
}
