package dev.navil4j.nn;

import dev.navil4j.tensor.Convert;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Keys and values of every layer for one sequence, sized to the context actually used (grows by
 * doubling up to {@code maxLength}). Layout per layer: [position, kvHeads·headDim], f32 by default or
 * bf16 ({@code --kv-cache bf16}, LoadOptions.kvCacheBf16): bf16 halves the cache, values are rounded to
 * nearest-even when stored and widened exactly when read, so attention still computes in f32.
 */
public final class KVCache {
    public final int layers, kvDim, maxLength;
    /** bf16 storage ({@link #keySegment}/{@link #valueSegment}) instead of f32 arrays ({@link #keys}/{@link #values}). */
    public final boolean bf16;
    private float[][] k, v;             // f32: [layers][capacity·kvDim]
    private MemorySegment[] kb, vb;     // bf16: [layers] of capacity·kvDim little-endian bf16
    private int capacity;
    private int length;

    public KVCache(int layers, int kvDim, int maxLength, int initialCapacity) {
        this(layers, kvDim, maxLength, initialCapacity, false);
    }

    public KVCache(int layers, int kvDim, int maxLength, int initialCapacity, boolean bf16) {
        this.layers = layers;
        this.kvDim = kvDim;
        this.maxLength = maxLength;
        this.bf16 = bf16;
        this.capacity = Math.max(1, Math.min(initialCapacity, maxLength));
        if (bf16) {
            kb = new MemorySegment[layers];
            vb = new MemorySegment[layers];
            for (int l = 0; l < layers; l++) { kb[l] = allocBf16(capacity); vb[l] = allocBf16(capacity); }
        } else {
            k = new float[layers][capacity * kvDim];
            v = new float[layers][capacity * kvDim];
        }
    }

    private MemorySegment allocBf16(int positions) { return Arena.ofAuto().allocate((long) positions * kvDim * 2, 8); }

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
            if (bf16) {
                kb[l] = grow(kb[l], cap);
                vb[l] = grow(vb[l], cap);
            } else {
                k[l] = java.util.Arrays.copyOf(k[l], cap * kvDim);
                v[l] = java.util.Arrays.copyOf(v[l], cap * kvDim);
            }
        }
        capacity = cap;
    }

    private MemorySegment grow(MemorySegment old, int cap) {
        MemorySegment s = allocBf16(cap);
        MemorySegment.copy(old, 0, s, 0, (long) length * kvDim * 2);
        return s;
    }

    /** Writes n rows of keys/values for layer l at positions [length, length+n) (call {@link #reserve} first). */
    public void put(int l, float[] keys, float[] values, int n) { put(l, keys, 0, values, 0, n); }

    /** As {@link #put(int, float[], float[], int)} with the n rows read from keys[kOff..], values[vOff..]. */
    public void put(int l, float[] keys, int kOff, float[] values, int vOff, int n) {
        if (bf16) {
            long base = (long) length * kvDim;
            for (int i = 0; i < n * kvDim; i++) {
                kb[l].setAtIndex(Convert.LE_SHORT, base + i, Convert.floatToBf16(keys[kOff + i]));
                vb[l].setAtIndex(Convert.LE_SHORT, base + i, Convert.floatToBf16(values[vOff + i]));
            }
            return;
        }
        System.arraycopy(keys, kOff, k[l], length * kvDim, n * kvDim);
        System.arraycopy(values, vOff, v[l], length * kvDim, n * kvDim);
    }

    /** Advances the length after every layer has stored its n rows. */
    public void commit(int n) { length += n; }

    /** Drops positions ≥ newLength (to roll back or reuse a shared prefix). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("truncate to " + newLength + " of " + length);
        length = newLength;
    }

    /** Copies this cache's first n positions into {@code dst} (empty, same shape and storage) and sets its length to n. */
    public void copyPrefixTo(KVCache dst, int n) {
        if (dst.layers != layers || dst.kvDim != kvDim || dst.bf16 != bf16) throw new IllegalArgumentException("KV caches of different shapes");
        if (n < 0 || n > length) throw new IllegalArgumentException("copy " + n + " of " + length + " positions");
        if (dst.length != 0) throw new IllegalStateException("copy into a non-empty cache");
        dst.reserve(n);
        for (int l = 0; l < layers; l++) {
            if (bf16) {
                MemorySegment.copy(kb[l], 0, dst.kb[l], 0, (long) n * kvDim * 2);
                MemorySegment.copy(vb[l], 0, dst.vb[l], 0, (long) n * kvDim * 2);
            } else {
                System.arraycopy(k[l], 0, dst.k[l], 0, n * kvDim);
                System.arraycopy(v[l], 0, dst.v[l], 0, n * kvDim);
            }
        }
        dst.length = n;
    }

    /** Layer l's f32 keys; an f32 cache only (attention over any cache: {@link Attention#causal(float[], int, int, KVCache, int, int, int, int, float, int[], float[])}). */
    public float[] keys(int l) { requireF32(); return k[l]; }
    public float[] values(int l) { requireF32(); return v[l]; }

    /** Layer l's bf16 keys [capacity, kvDim] (a bf16 cache only). */
    public MemorySegment keySegment(int l) { requireBf16(); return kb[l]; }
    public MemorySegment valueSegment(int l) { requireBf16(); return vb[l]; }

    private void requireF32() { if (bf16) throw new IllegalStateException("this KV cache stores bf16; read it through Attention.causal(q, n, past, cache, layer, ...)"); }
    private void requireBf16() { if (!bf16) throw new IllegalStateException("this KV cache stores f32"); }

    public long bytes() { return 2L * layers * capacity * kvDim * (bf16 ? 2 : 4); }
}
