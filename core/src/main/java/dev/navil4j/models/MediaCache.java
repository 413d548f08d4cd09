package dev.navil4j.models;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Encoded media (vision encoder + projector output) by content key, bounded in bytes, least recently used out
 * first; one per loaded model, shared by its sessions and server requests. The key is a hash of the preprocessed
 * pixel tensor and its layout ({@link #key}): the pixels already reflect every preprocessing parameter (tile
 * count, sizes, scales, thumbnail), so equal keys mean equal features. Thread-safe; a value is computed outside
 * the lock (two threads missing the same key both compute it, and the results are equal).
 */
public final class MediaCache {
    /** Default bound: {@code -Dnavil4j.mediaCacheMb} or 512 MiB. */
    public static final long DEFAULT_BYTES = Long.getLong("navil4j.mediaCacheMb", 512) << 20;

    private final LinkedHashMap<Long, float[]> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long capacityBytes, bytes;
    private final AtomicLong hits = new AtomicLong(), misses = new AtomicLong();

    public MediaCache() { this(DEFAULT_BYTES); }

    public MediaCache(long capacityBytes) { setCapacityBytes(capacityBytes); }

    /** Changes the bound (0 disables caching); evicts what no longer fits. */
    public synchronized void setCapacityBytes(long capacity) {
        if (capacity < 0) throw new IllegalArgumentException("media cache capacity must be >= 0, got " + capacity);
        capacityBytes = capacity;
        evict();
    }

    /** The features for {@code key}, computed by {@code encode} on a miss. The returned array must not be modified. */
    public float[] get(long key, Supplier<float[]> encode) {
        synchronized (this) {
            float[] v = entries.get(key);
            if (v != null) { hits.incrementAndGet(); return v; }
        }
        misses.incrementAndGet();
        float[] v = encode.get();
        long size = 4L * v.length + 64;
        synchronized (this) {
            if (size <= capacityBytes && !entries.containsKey(key)) {
                entries.put(key, v);
                bytes += size;
                evict();
            }
        }
        return v;
    }

    private void evict() {
        Iterator<Map.Entry<Long, float[]>> it = entries.entrySet().iterator();
        while (bytes > capacityBytes && it.hasNext()) {
            bytes -= 4L * it.next().getValue().length + 64;
            it.remove();
        }
    }

    public long hits() { return hits.get(); }

    public long misses() { return misses.get(); }

    public synchronized long bytes() { return bytes; }

    public synchronized int size() { return entries.size(); }

    public synchronized void clear() { entries.clear(); bytes = 0; }

    /** Content key of a preprocessed pixel tensor with its layout ({@code shape}: tile counts, grid sizes, …). */
    public static long key(float[] pixels, int... shape) {
        long h = 0x243F6A8885A308D3L ^ pixels.length;
        for (int s : shape) h = CacheKeys.mix(h ^ s) + 0x9E3779B97F4A7C15L;
        // two independent multiply-xorshift lanes: fast enough for 13 tiles (~8M floats) in a few ms
        long a = h, b = ~h;
        int i = 0;
        for (; i + 1 < pixels.length; i += 2) {
            a = (a ^ Float.floatToRawIntBits(pixels[i])) * 0x9E3779B97F4A7C15L;
            b = (b ^ Float.floatToRawIntBits(pixels[i + 1])) * 0xC2B2AE3D27D4EB4FL;
            a ^= a >>> 29;
            b ^= b >>> 31;
        }
        if (i < pixels.length) a = (a ^ Float.floatToRawIntBits(pixels[i])) * 0x9E3779B97F4A7C15L;
        return CacheKeys.mix(a ^ Long.rotateLeft(b, 17));
    }

    @Override
    public synchronized String toString() {
        return "MediaCache[" + entries.size() + " items, " + (bytes >> 20) + " MiB of " + (capacityBytes >> 20) + ", hits " + hits + ", misses " + misses + "]";
    }
}
