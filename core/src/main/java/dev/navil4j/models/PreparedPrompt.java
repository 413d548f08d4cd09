package dev.navil4j.models;

import java.util.Arrays;
import java.util.List;

/**
 * The prompt every family produces and every LLM consumes — the one typed seam between media and the language
 * model. Per position: a token id, a rotary position, a modality (text, or the id of the image block it belongs
 * to), and, where media go, the media row that replaces the token's embedding. Immutable.
 * <ul>
 *   <li>{@code ids[t]}: the token id; at a media position the family's placeholder id ({@code <IMG_CONTEXT>},
 *       or VoRA's -200), which is never embedded;</li>
 *   <li>{@code positions[t]}: the rotary position (arange for every family so far; M-RoPE would put its
 *       temporal index here and widen the record);</li>
 *   <li>{@code imageBlock[t]}: -1 for text, else the image block (used as the family's {@link ModelFlags}
 *       declare: bidirectional attention inside a block for VoRA, visual experts for NaViL);</li>
 *   <li>{@code media}: the encoded media and the positions their rows replace.</li>
 * </ul>
 * {@link #embed} is the shared splicer: token embedding rows from the family, media rows from here.
 */
public final class PreparedPrompt {
    private final int[] ids;
    private final String text;
    private final int[] positions;
    private final int[] imageBlock;
    private final List<MediaEmbedding> media;
    /** Per position: index into media (-1 = token) and row within it. */
    private final int[] mediaItem, mediaRow;
    private final int mediaTokens;

    /**
     * @param ids        token ids [n] (placeholders at media positions)
     * @param text       the prompt before tokenization (for logs and tests; may be null)
     * @param positions  rotary positions [n]; null = 0..n-1
     * @param imageBlock modality per position [n]; null = all text
     * @param media      encoded media; null = none
     */
    public PreparedPrompt(int[] ids, String text, int[] positions, int[] imageBlock, List<MediaEmbedding> media) {
        if (ids == null) throw new IllegalArgumentException("prompt ids are null");
        int n = ids.length;
        this.ids = ids.clone();
        this.text = text;
        if (positions == null) {
            positions = new int[n];
            for (int i = 0; i < n; i++) positions[i] = i;
        } else if (positions.length != n) throw new IllegalArgumentException(positions.length + " positions for " + n + " tokens");
        this.positions = positions.clone();
        if (imageBlock == null) {
            imageBlock = new int[n];
            Arrays.fill(imageBlock, -1);
        } else if (imageBlock.length != n) throw new IllegalArgumentException(imageBlock.length + " modality entries for " + n + " tokens");
        this.imageBlock = imageBlock.clone();
        this.media = media == null ? List.of() : List.copyOf(media);
        this.mediaItem = new int[n];
        this.mediaRow = new int[n];
        Arrays.fill(mediaItem, -1);
        int rows = 0, width = -1;
        for (int m = 0; m < this.media.size(); m++) {
            MediaEmbedding e = this.media.get(m);
            if (width >= 0 && e.width() != width) throw new IllegalArgumentException("media rows of different widths");
            width = e.width();
            int[] p = e.positions();
            for (int r = 0; r < p.length; r++) {
                if (p[r] < 0 || p[r] >= n) throw new IllegalArgumentException("media position " + p[r] + " outside the " + n + "-token prompt");
                if (mediaItem[p[r]] >= 0) throw new IllegalArgumentException("two media rows for position " + p[r]);
                mediaItem[p[r]] = m;
                mediaRow[p[r]] = r;
            }
            rows += p.length;
        }
        this.mediaTokens = rows;
    }

    /** A text-only prompt. */
    public static PreparedPrompt text(int[] ids, String text) { return new PreparedPrompt(ids, text, null, null, null); }

    /** Token ids (a copy). */
    public int[] ids() { return ids.clone(); }

    public int id(int t) { return ids[t]; }

    public int length() { return ids.length; }

    /** The prompt string before tokenization (may be null). */
    public String text() { return text; }

    public int position(int t) { return positions[t]; }

    /** -1 (text) or the image block of position t. */
    public int imageBlock(int t) { return imageBlock[t]; }

    /** Number of positions filled from media. */
    public int mediaTokens() { return mediaTokens; }

    public List<MediaEmbedding> media() { return media; }

    /** Whether position t takes a media row instead of its token's embedding. */
    public boolean isMedia(int t) { return mediaItem[t] >= 0; }

    /** Copies the media row of position t to dst[off..]. */
    public void mediaRow(int t, float[] dst, int off) {
        MediaEmbedding e = media.get(mediaItem[t]);
        int w = e.width();
        if (off + w > dst.length) throw new IllegalArgumentException("media rows are " + w + " wide, wider than the LLM input");
        System.arraycopy(e.rows(), mediaRow[t] * w, dst, off, w);
    }

    /** The family's embedding of a token in a prompt (its embedding row, or a family-specific replacement). */
    @FunctionalInterface
    public interface TokenEmbedder {
        void embed(int id, float[] dst, int off);
    }

    /**
     * The shared splicer: the LLM input rows [to - from, hidden] of positions [from, to) — media rows where media
     * go, the family's token embedding elsewhere. Every media row must be exactly {@code hidden} wide.
     */
    public float[] embed(int from, int to, int hidden, TokenEmbedder tokens) {
        float[] x = new float[Math.multiplyExact(to - from, hidden)];
        embedInto(from, to, hidden, tokens, x, 0);
        return x;
    }

    /** {@link #embed} into dst starting at row {@code row0}. */
    public void embedInto(int from, int to, int hidden, TokenEmbedder tokens, float[] dst, int row0) {
        for (int t = from; t < to; t++) {
            int off = (row0 + t - from) * hidden;
            if (mediaItem[t] >= 0) {
                MediaEmbedding e = media.get(mediaItem[t]);
                if (e.width() != hidden)
                    throw new IllegalArgumentException("media rows are " + e.width() + " wide but the LLM takes " + hidden);
                System.arraycopy(e.rows(), mediaRow[t] * hidden, dst, off, hidden);
            } else tokens.embed(ids[t], dst, off);
        }
    }

    /** The first position of the image block that holds t (t itself for a text position). */
    public int blockStart(int t) {
        int b = imageBlock[t];
        if (b < 0) return t;
        while (t > 0 && imageBlock[t - 1] == b) t--;
        return t;
    }

    /**
     * What each position's cached keys/values depend on, as one 64-bit key per position: the token id (or the
     * media content key and row), the rotary position, the modality and, for ids the family embeds specially in
     * prompts, that fact. Two sequences whose keys agree on a prefix have identical KV for it.
     */
    public long[] cacheKeys(ModelFlags flags) {
        long[] k = new long[ids.length];
        for (int t = 0; t < ids.length; t++) {
            if (mediaItem[t] >= 0) k[t] = CacheKeys.media(media.get(mediaItem[t]).contentKey(), mediaRow[t], positions[t], imageBlock[t] >= 0);
            else k[t] = CacheKeys.token(ids[t], positions[t], imageBlock[t] >= 0, flags.embedsDifferentlyInPrompt(ids[t]));
        }
        return k;
    }

    @Override
    public String toString() { return "PreparedPrompt[" + ids.length + " tokens, " + mediaTokens + " from media]"; }
}
