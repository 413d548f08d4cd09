package dev.navil4j.models;

/**
 * 64-bit keys for KV-cache positions: equal keys mean the position's keys/values were computed from the same
 * input (token or media row, rotary position, modality), so a cached prefix can stand for a new prompt's.
 * SplitMix64 finalizer over the fields; a false match needs a 64-bit collision.
 */
public final class CacheKeys {
    private CacheKeys() {}

    /** A token at a position; {@code visual}: in an image block; {@code promptEmbedding}: embedded specially as a prompt token. */
    public static long token(int id, int position, boolean visual, boolean promptEmbedding) {
        long h = mix(0x9E3779B97F4A7C15L ^ id);
        h = mix(h ^ ((long) position << 2 | (visual ? 1 : 0) | (promptEmbedding ? 2 : 0)));
        return h;
    }

    /** A generated token fed back by decode: text modality, its embedding row. */
    public static long decoded(int id, int position) { return token(id, position, false, false); }

    /** Row {@code row} of the media item with this content key, at a position. */
    public static long media(long contentKey, int row, int position, boolean visual) {
        long h = mix(contentKey ^ 0xD6E8FEB86659FD93L);
        h = mix(h ^ ((long) row << 32 | (position & 0xffffffffL)));
        return mix(h ^ (visual ? 0x5851F42D4C957F2DL : 0));
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
