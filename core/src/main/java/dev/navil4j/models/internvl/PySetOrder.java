package dev.navil4j.models.internvl;

import java.util.ArrayList;
import java.util.List;

/**
 * The iteration order of a CPython (3.8+) {@code set} of 2-tuples of small non-negative ints built by
 * adding elements in a given order ({@code set(generator)}). InternVL's {@code dynamic_preprocess}
 * sorts such a set by area with a stable sort, so the order of equal-area candidates — which decides
 * exact aspect-ratio ties — is the set's slot order. Reproduced: the tuple hash (xxHash-style,
 * Objects/tupleobject.c; {@code hash(n) = n} for small ints), open addressing with 9 linear probes then
 * perturbed probing (Objects/setobject.c {@code set_add_entry}), growth to ×4 of the used count when
 * fill·5 ≥ mask·3, rehash in old-slot order ({@code set_insert_clean}).
 */
final class PySetOrder {
    private static final long XXPRIME_1 = 0x9E3779B185EBCA87L;   // 11400714785074694791
    private static final long XXPRIME_2 = 0xC2B2AE3D27D4EB4FL;   // 14029467366897019727
    private static final long XXPRIME_5 = 0x27D4EB2F165667C5L;   // 2870177450012600261
    private static final int LINEAR_PROBES = 9;
    private static final int PERTURB_SHIFT = 5;
    private static final int MINSIZE = 8;

    private PySetOrder() {}

    /** {@code hash((a, b))} for non-negative small ints a, b. */
    static long tupleHash(int... items) {
        long acc = XXPRIME_5;
        for (int v : items) {
            long lane = v;   // hash(int) == int for 0 <= v < 2^61 - 1
            acc += lane * XXPRIME_2;
            acc = Long.rotateLeft(acc, 31);
            acc *= XXPRIME_1;
        }
        acc += items.length ^ (XXPRIME_5 ^ 3527539L);
        if (acc == -1L) return 1546275796L;
        return acc;
    }

    /** The distinct elements of {@code added} (in add order) as {@code iter(set(added))} yields them. */
    static List<int[]> iterationOrder(List<int[]> added) {
        int[][] table = new int[MINSIZE][];
        long[] hashes = new long[MINSIZE];
        int fill = 0;
        for (int[] key : added) {
            long h = tupleHash(key);
            int mask = table.length - 1;
            int slot = findSlot(table, hashes, mask, key, h);
            if (table[slot] != null) continue;   // already present
            table[slot] = key;
            hashes[slot] = h;
            fill++;
            if ((long) fill * 5 >= (long) mask * 3) {
                int used = fill;   // no deletions: used == fill
                int minused = used > 50000 ? used * 2 : used * 4;
                int newSize = MINSIZE;
                while (newSize <= minused) newSize <<= 1;
                int[][] nt = new int[newSize][];
                long[] nh = new long[newSize];
                for (int i = 0; i < table.length; i++)
                    if (table[i] != null) {
                        int s = cleanSlot(nt, newSize - 1, hashes[i]);
                        nt[s] = table[i];
                        nh[s] = hashes[i];
                    }
                table = nt;
                hashes = nh;
            }
        }
        List<int[]> out = new ArrayList<>();
        for (int[] k : table) if (k != null) out.add(k);
        return out;
    }

    /** set_add_entry's probe: the slot holding an equal key, or the first free slot. */
    private static int findSlot(int[][] table, long[] hashes, int mask, int[] key, long hash) {
        long perturb = hash;
        int i = (int) (hash & mask);
        while (true) {
            int probes = (i + LINEAR_PROBES <= mask) ? LINEAR_PROBES : 0;
            int e = i;
            while (true) {
                if (table[e] == null) return e;
                if (hashes[e] == hash && table[e][0] == key[0] && table[e][1] == key[1]) return e;
                if (probes-- == 0) break;
                e++;
            }
            perturb >>>= PERTURB_SHIFT;
            i = (int) ((i * 5L + 1 + perturb) & mask);
        }
    }

    /** set_insert_clean's probe in a table without equal keys. */
    private static int cleanSlot(int[][] table, int mask, long hash) {
        long perturb = hash;
        int i = (int) (hash & mask);
        while (true) {
            if (table[i] == null) return i;
            if (i + LINEAR_PROBES <= mask)
                for (int j = 1; j <= LINEAR_PROBES; j++) if (table[i + j] == null) return i + j;
            perturb >>>= PERTURB_SHIFT;
            i = (int) ((i * 5L + 1 + perturb) & mask);
        }
    }
}
