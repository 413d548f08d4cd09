package dev.navil4j.models;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rows of one batched forward step, as the family's LLM consumes them: input embeddings of every row of every
 * sequence (spliced by {@link PreparedPrompt#embed}), their rotary positions and modality, and the segments that
 * say which rows belong to which sequence's KV cache. Built by {@link VisionLanguageModel#step}; families read it.
 */
public final class BatchRows {
    /** Rows [row0, row0 + rows) of the batch extend {@code state}, whose cache held {@code past} positions. */
    public record Segment(InferenceState state, int row0, int rows, int past) {}

    public final int n, hidden;
    /** [n, hidden] LLM input. */
    public final float[] embeds;
    /** [n] rotary positions. */
    public final int[] positions;
    /** [n] -1 = text, else image block id (see {@link ModelFlags}). */
    public final int[] imageBlock;
    public final Segment[] segments;
    private final long[] keys;
    private final boolean anyImage;

    private BatchRows(int n, int hidden, float[] embeds, int[] positions, int[] imageBlock, Segment[] segments, long[] keys) {
        this.n = n;
        this.hidden = hidden;
        this.embeds = embeds;
        this.positions = positions;
        this.imageBlock = imageBlock;
        this.segments = segments;
        this.keys = keys;
        boolean any = false;
        for (int b : imageBlock) if (b >= 0) { any = true; break; }
        this.anyImage = any;
    }

    /** Whether any row is in an image block (else modality can be ignored). */
    public boolean anyImage() { return anyImage; }

    /** The largest rotary position of segment s, + 1 (transformers' dynamic rope takes seq_len = max(position_ids) + 1). */
    public int seqLen(Segment s) {
        int m = 0;
        for (int r = s.row0; r < s.row0 + s.rows; r++) m = Math.max(m, positions[r]);
        return m + 1;
    }

    /** Positions of segment s's rows (a copy). */
    public int[] positions(Segment s) { return java.util.Arrays.copyOfRange(positions, s.row0, s.row0 + s.rows); }

    /**
     * For attention with bidirectional image blocks: segment s's block id per absolute cache position [past + rows]
     * (cached positions -1: a chunk never ends inside a block, so no cached token needs to see a new one); null
     * when the segment has no image rows.
     */
    public int[] absoluteBlocks(Segment s) {
        boolean any = false;
        for (int r = s.row0; r < s.row0 + s.rows; r++) if (imageBlock[r] >= 0) { any = true; break; }
        if (!any) return null;
        int[] b = new int[s.past + s.rows];
        java.util.Arrays.fill(b, 0, s.past, -1);
        System.arraycopy(imageBlock, s.row0, b, s.past, s.rows);
        return b;
    }

    /** The segments as decoder runs over their KV caches; {@code bidirectional}: pass image blocks to attention. */
    public dev.navil4j.nn.CacheRun[] runs(boolean bidirectional) {
        dev.navil4j.nn.CacheRun[] r = new dev.navil4j.nn.CacheRun[segments.length];
        for (int i = 0; i < r.length; i++) {
            Segment s = segments[i];
            r[i] = new dev.navil4j.nn.CacheRun(s.state.cache(), s.row0, s.rows, s.past, bidirectional ? absoluteBlocks(s) : null, seqLen(s));
        }
        return r;
    }

    /** The rows of each segment's last token, gathered [segments, hidden] from hidden states [n, hidden]. */
    public float[] lastRows(float[] hiddenStates) {
        float[] out = new float[segments.length * hidden];
        for (int i = 0; i < segments.length; i++) {
            Segment s = segments[i];
            System.arraycopy(hiddenStates, (s.row0 + s.rows - 1) * hidden, out, i * hidden, hidden);
        }
        return out;
    }

    /** Splits [segments, vocab] logits into one array per segment. */
    public float[][] split(float[] logits, int vocab) {
        float[][] out = new float[segments.length][];
        for (int i = 0; i < out.length; i++) out[i] = java.util.Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab);
        return out;
    }

    /** Assembles a step: validates each part against its state, splices the embeddings, computes the cache keys. */
    static BatchRows of(VisionLanguageModel model, List<? extends Step> steps) {
        if (steps.isEmpty()) throw new IllegalArgumentException("a forward step needs at least one sequence");
        ModelFlags flags = model.flags();
        int hidden = model.hiddenSize(), n = 0;
        Map<InferenceState, Boolean> seen = new IdentityHashMap<>();
        for (Step s : steps) {
            if (seen.put(s.state(), Boolean.TRUE) != null) throw new IllegalArgumentException("a sequence appears twice in one step");
            int len = s.state().length();
            if (len + s.rows() > s.state().capacity())
                throw new IllegalArgumentException("sequence of " + (len + s.rows()) + " tokens exceeds the context of "
                        + s.state().capacity() + " tokens");
            if (s instanceof Step.Prompt p) {
                if (p.from() != len)
                    throw new IllegalStateException("prompt chunk starts at " + p.from() + " but the sequence holds " + len + " tokens");
                PreparedPrompt pr = p.prompt();
                if (flags.bidirectionalImageBlocks() && p.to() < pr.length() && pr.imageBlock(p.to()) >= 0
                        && pr.imageBlock(p.to()) == pr.imageBlock(p.to() - 1))
                    throw new IllegalArgumentException("a prompt chunk may not end inside a bidirectional image block (at " + p.to() + ")");
            }
            n += s.rows();
        }
        float[] x = new float[Math.multiplyExact(n, hidden)];
        int[] pos = new int[n], block = new int[n];
        long[] keys = new long[n];
        Segment[] segs = new Segment[steps.size()];
        int row = 0;
        for (int i = 0; i < segs.length; i++) {
            Step s = steps.get(i);
            InferenceState st = s.state();
            segs[i] = new Segment(st, row, s.rows(), st.length());
            switch (s) {
                case Step.Prompt p -> {
                    PreparedPrompt pr = p.prompt();
                    pr.embedInto(p.from(), p.to(), hidden, model::embedPromptToken, x, row);
                    long[] k = pr.cacheKeys(flags);
                    for (int t = p.from(); t < p.to(); t++, row++) {
                        pos[row] = pr.position(t);
                        block[row] = pr.imageBlock(t);
                        keys[row] = k[t];
                    }
                }
                case Step.Decode d -> {
                    model.embedDecodeToken(d.token(), x, row * hidden);
                    pos[row] = st.nextPosition();
                    block[row] = -1;
                    keys[row] = CacheKeys.decoded(d.token(), pos[row]);
                    row++;
                }
            }
        }
        return new BatchRows(n, hidden, x, pos, block, segs, keys);
    }

    /** After the LLM appended every segment's rows to its cache: record what they hold. */
    void commit() {
        for (Segment s : segments) {
            if (s.state.length() != s.past + s.rows)
                throw new IllegalStateException("the model appended " + (s.state.length() - s.past) + " of " + s.rows + " rows");
            s.state.recordKeys(s.past, keys, s.row0, s.rows, positions[s.row0 + s.rows - 1]);
        }
    }
}
