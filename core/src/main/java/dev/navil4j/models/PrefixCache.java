package dev.navil4j.models;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Finished sequences' KV caches kept for reuse, bounded in bytes, least recently used out first: a new prompt
 * starts from a copy of the entry sharing its longest prefix (by {@link CacheKeys} — tokens, positions, media
 * content), so a repeated system prompt, image or conversation is not recomputed. Thread-safe.
 */
public final class PrefixCache {
    private final ArrayDeque<InferenceState> entries = new ArrayDeque<>(); // most recent first
    private final long capacityBytes;
    private long bytes;
    private final AtomicLong hits = new AtomicLong(), lookups = new AtomicLong(), reusedTokens = new AtomicLong();

    public PrefixCache(long capacityBytes) {
        if (capacityBytes < 0) throw new IllegalArgumentException("prefix cache capacity must be >= 0");
        this.capacityBytes = capacityBytes;
    }

    /**
     * A fresh state for {@code prompt} holding a copy of the longest cached prefix it shares (possibly nothing).
     * At least {@code minTokens} must be shared for a copy to be made (shorter prefixes cost more to copy than to
     * recompute).
     */
    public InferenceState acquire(VisionLanguageModel model, PreparedPrompt prompt, int minTokens) {
        lookups.incrementAndGet();
        InferenceState fresh = model.newState();
        if (capacityBytes == 0) return fresh;
        long[] keys = prompt.cacheKeys(model.flags());
        InferenceState best = null;
        int bestLen = 0;
        synchronized (this) {
            for (InferenceState s : entries) {
                int k = s.reusablePrefix(prompt, keys, model.flags());
                if (k > bestLen) { bestLen = k; best = s; }
            }
            if (best == null || bestLen < Math.max(1, minTokens)) return fresh;
            entries.remove(best);
            entries.addFirst(best);
            best.copyPrefixTo(fresh, bestLen); // under the lock: an entry is never changed, only dropped
        }
        hits.incrementAndGet();
        reusedTokens.addAndGet(bestLen);
        return fresh;
    }

    /** Keeps a finished sequence's state (the caller gives it up); evicts the oldest entries beyond the bound. */
    public synchronized void offer(InferenceState state) {
        if (state == null || state.length() == 0 || state.bytes() > capacityBytes) return;
        entries.addFirst(state);
        bytes += state.bytes();
        Iterator<InferenceState> it = entries.descendingIterator();
        while (bytes > capacityBytes && it.hasNext()) {
            bytes -= it.next().bytes();
            it.remove();
        }
    }

    public synchronized int size() { return entries.size(); }

    public synchronized long bytes() { return bytes; }

    public long hits() { return hits.get(); }

    public long lookups() { return lookups.get(); }

    /** Prompt positions taken from cached prefixes instead of being prefilled. */
    public long reusedTokens() { return reusedTokens.get(); }
}
