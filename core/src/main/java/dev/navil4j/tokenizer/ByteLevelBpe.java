package dev.navil4j.tokenizer;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of a byte-level tokenizer.json (HF tokenizers {@code models::bpe}): a word's UTF-8 bytes
 * start as single-byte symbols and the adjacent pair with the lowest merge rank is merged first
 * (leftmost on ties) until no pair has a merge — {@code Word::merge_all}. Immutable and thread-safe;
 * words are cached (bounded) like the reference's BPE cache.
 */
final class ByteLevelBpe {
    private static final int CACHE_MAX = 20_000;
    private static final int CACHE_MAX_WORD = 256;

    private final int[] byteId = new int[256];          // byte → id of its single-char vocab token, or -1
    // open-addressing map (left id, right id) → merge rank
    private final long[] keys;
    private final int[] ranks;
    private final int mask, shift;
    private final int[] rankToNewId;                    // merge rank → id of the merged token
    private final boolean ignoreMerges;
    private final Map<String, Integer> vocab;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /** merges[r] = {left token, right token} of rank r. */
    ByteLevelBpe(Map<String, Integer> vocab, String[][] merges, boolean ignoreMerges, String where) {
        this.vocab = vocab;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) byteId[b] = vocab.getOrDefault(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]), -1);
        int cap = Integer.highestOneBit(Math.max(16, merges.length * 2)) << 1;
        keys = new long[cap];
        Arrays.fill(keys, -1L);
        ranks = new int[cap];
        mask = cap - 1;
        shift = 64 - Integer.numberOfTrailingZeros(cap);
        rankToNewId = new int[merges.length];
        for (int r = 0; r < merges.length; r++) {
            String a = merges[r][0], b = merges[r][1];
            Integer ia = vocab.get(a), ib = vocab.get(b), m = vocab.get(a + b);
            if (ia == null || ib == null) throw new TokenizerException(where + ": merge " + (r) + " (\"" + a + "\", \"" + b + "\") uses a token missing from the vocab");
            if (m == null) throw new TokenizerException(where + ": merge " + r + " result \"" + a + b + "\" is missing from the vocab");
            rankToNewId[r] = m;
            long k = key(ia, ib);
            int slot = slot(k);
            keys[slot] = k; // a duplicated pair keeps its last rank, as tokenizers' HashMap collect does
            ranks[slot] = r;
        }
    }

    private static long key(int a, int b) { return ((long) a << 32) | (b & 0xFFFFFFFFL); }

    private int slot(long k) {
        int s = (int) ((k * 0x9E3779B97F4A7C15L) >>> shift); // Fibonacci hashing: the top bits of the product
        while (keys[s] != -1L && keys[s] != k) s = (s + 1) & mask;
        return s;
    }

    private int rank(int a, int b) {
        int s = slot(key(a, b));
        return keys[s] == -1L ? -1 : ranks[s];
    }

    /** Appends the ids of one pre-token (its text; BPE runs on its UTF-8 bytes). */
    void encodeWord(String word, IntList out) {
        int[] hit = cache.get(word);
        if (hit != null) { out.addAll(hit); return; }
        int[] ids = merge(word.getBytes(java.nio.charset.StandardCharsets.UTF_8), word);
        if (word.length() <= CACHE_MAX_WORD) {
            if (cache.size() >= CACHE_MAX) cache.clear();
            cache.put(word, ids);
        }
        out.addAll(ids);
    }

    private int[] merge(byte[] w, String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(toByteLevel(w));
            if (whole != null) return new int[]{whole};
        }
        int n = 0;
        int[] id = new int[w.length];
        for (byte b : w) {
            int t = byteId[b & 0xFF];
            if (t >= 0) id[n++] = t; // a byte missing from the vocab is dropped (no unk, no byte fallback)
        }
        if (n <= 1) return Arrays.copyOf(id, n);
        int[] prev = new int[n], next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        // min-heap of (rank << 32 | pos): lowest rank first, then leftmost position
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            int r = rank(id[i], id[i + 1]);
            if (r >= 0) heap.push(((long) r << 32) | i);
        }
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int r = (int) (top >>> 32), pos = (int) top;
            if (dead[pos] || next[pos] < 0) continue;
            int nx = next[pos];
            int cur = rank(id[pos], id[nx]);
            // an expired entry: the pair at pos no longer produces this merge's token
            if (cur < 0 || rankToNewId[cur] != rankToNewId[r]) continue;
            id[pos] = rankToNewId[r];
            dead[nx] = true;
            alive--;
            next[pos] = next[nx];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) {
                int pr = rank(id[prev[pos]], id[pos]);
                if (pr >= 0) heap.push(((long) pr << 32) | prev[pos]);
            }
            if (next[pos] >= 0) {
                int nr = rank(id[pos], id[next[pos]]);
                if (nr >= 0) heap.push(((long) nr << 32) | pos);
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i >= 0 && k < alive; i = next[i]) out[k++] = id[i];
        return out;
    }

    private static String toByteLevel(byte[] w) {
        StringBuilder sb = new StringBuilder(w.length);
        for (byte b : w) sb.append(ByteLevel.BYTE_TO_CHAR[b & 0xFF]);
        return sb.toString();
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int cap) { a = new long[Math.max(4, cap)]; }

        boolean isEmpty() { return size == 0; }

        void push(long v) {
            if (size == a.length) a = Arrays.copyOf(a, size * 2);
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0], v = a[--size];
            int i = 0;
            while (true) {
                int l = 2 * i + 1;
                if (l >= size) break;
                int c = l + 1 < size && a[l + 1] < a[l] ? l + 1 : l;
                if (a[c] >= v) break;
                a[i] = a[c];
                i = c;
            }
            if (size > 0) a[i] = v;
            return top;
        }
    }
}
