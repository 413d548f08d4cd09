package dev.navil4j.server;

import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.BatchRows;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.MediaCache;
import dev.navil4j.models.MediaEmbedding;
import dev.navil4j.models.ModelFlags;
import dev.navil4j.nn.KVCache;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.tokenizer.IncrementalDecoder;
import dev.navil4j.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic stand-in model for server tests: a byte-level tokenizer (ids 0..255 = bytes, 256 =
 * end of text, 257 = image placeholder) and logits that spell out "echo: " + the last user text + one
 * "[img WxH]" per image of the last turn, then end of text. A user text starting with "LOOP" never ends
 * ("ab" repeated). {@code decodeDelayMillis} simulates compute time; every decode call is logged with
 * the id of its sequence so tests can see how sequences interleave.
 */
final class FakeModel implements VisionLanguageModel {
    static final int EOS = 256, IMG = 257, VOCAB = 258;

    final int maxContext;
    final long decodeDelayMillis;
    final List<Integer> decodeLog = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger prefills = new AtomicInteger();
    /** Per forward step: {prompt rows, decoded rows}. */
    final List<int[]> steps = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger nextSeq = new AtomicInteger();

    FakeModel(int maxContext, long decodeDelayMillis) {
        this.maxContext = maxContext;
        this.decodeDelayMillis = decodeDelayMillis;
    }

    /** The answer the fake model gives to a conversation (what tests expect). */
    static String answer(Conversation c) {
        Conversation.Turn last = c.turns().getLast();
        StringBuilder sb = new StringBuilder("echo: ").append(last.user());
        for (Conversation.Media m : last.media())
            if (m instanceof Conversation.Image img) sb.append(" [img ").append(img.image().getWidth()).append('x')
                    .append(img.image().getHeight()).append(']');
        return sb.toString();
    }

    /** Media rows hold IMAGE_BASE + width·4096 + height (the answer needs the size); exact in a float. */
    static final int IMAGE_BASE = 1000;

    private final java.util.Map<InferenceState, Integer> seqIds = Collections.synchronizedMap(new java.util.IdentityHashMap<>());
    private final MediaCache mediaCache = new MediaCache();

    @Override public String family() { return "fake"; }
    @Override public Tokenizer tokenizer() { return TOKENIZER; }
    @Override public int maxContext() { return maxContext; }
    @Override public ModelFlags flags() { return ModelFlags.PLAIN; }
    @Override public int hiddenSize() { return 1; }
    @Override public MediaCache mediaCache() { return mediaCache; }

    /** The prompt's bytes as ids; each image is "<img>" in the text, its '<' replaced by one media row. */
    @Override
    public PreparedPrompt prepare(Conversation c) {
        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        if (c.system() != null) append(ids, text, "S:" + c.system() + "\n");
        List<MediaEmbedding> media = new ArrayList<>();
        for (Conversation.Turn t : c.turns()) {
            append(ids, text, "U:" + t.user());
            for (Conversation.Media m : t.media()) {
                int size = m instanceof Conversation.Image img ? img.image().getWidth() * 4096 + img.image().getHeight() : 0;
                media.add(new MediaEmbedding(new int[] {ids.size()}, new float[] {IMAGE_BASE + size}, size));
                append(ids, text, "<img>");
            }
            if (t.assistant() != null) append(ids, text, "\nA:" + t.assistant() + "\n");
        }
        return new PreparedPrompt(ids.stream().mapToInt(Integer::intValue).toArray(), text.toString(), null, null, media);
    }

    private static void append(List<Integer> ids, StringBuilder text, String s) {
        text.append(s);
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) ids.add(b & 0xff);
    }

    @Override public InferenceState newState() {
        InferenceState s = new InferenceState(new KVCache(1, 1, maxContext, 16));
        seqIds.put(s, nextSeq.getAndIncrement());
        return s;
    }

    @Override public void embedPromptToken(int id, float[] dst, int off) { dst[off] = id; }

    /** Generated tokens are stored negated (-(id + 1)), so the sequence shows where its prompt ended. */
    @Override public void embedDecodeToken(int id, float[] dst, int off) { dst[off] = -(id + 1); }

    /** The cache stores the ids; logits follow from the sequence so far (its last prompt and what followed). */
    @Override
    public float[][] forward(BatchRows b) {
        float[][] out = new float[b.segments.length][];
        boolean decoded = false;
        int promptRows = 0, decodeRows = 0;
        for (BatchRows.Segment s : b.segments) if (b.embeds[s.row0()] < 0) decodeRows += s.rows(); else promptRows += s.rows();
        steps.add(new int[] {promptRows, decodeRows});
        for (int i = 0; i < out.length; i++) {
            BatchRows.Segment s = b.segments[i];
            KVCache cache = s.state().cache();
            cache.reserve(s.rows());
            cache.put(0, b.embeds, s.row0(), b.embeds, s.row0(), s.rows());
            cache.commit(s.rows());
            if (b.embeds[s.row0()] < 0) {
                decodeLog.add(seqIds.getOrDefault(s.state(), -1));
                decoded = true;
            } else prefills.incrementAndGet();
            out[i] = logits(cache.keys(0), cache.length());
        }
        if (decoded && decodeDelayMillis > 0) {
            try { Thread.sleep(decodeDelayMillis); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
        return out;
    }

    private static float[] logits(float[] seq, int len) {
        int end = 0;
        while (end < len && seq[end] >= 0) end++;
        int produced = len - end;
        // the last turn's user text and images, from the prompt part of the sequence
        List<int[]> images = new ArrayList<>();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int t = 0; t < end; t++) {
            int v = (int) seq[t];
            if (v >= IMAGE_BASE) { bytes.write('<'); images.add(new int[] {bytes.size(), (v - IMAGE_BASE) / 4096, (v - IMAGE_BASE) % 4096}); }
            else if (v < 256) bytes.write(v);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        int from = text.lastIndexOf("U:");
        String last = text.substring(from + 2).replace("<img>", "");
        StringBuilder answer = new StringBuilder("echo: ").append(last);
        int byteFrom = text.substring(0, from).getBytes(StandardCharsets.UTF_8).length;
        for (int[] im : images) if (im[0] > byteFrom) answer.append(" [img ").append(im[1]).append('x').append(im[2]).append(']');
        byte[] target = answer.toString().getBytes(StandardCharsets.UTF_8);
        int want;
        if (last.startsWith("LOOP")) want = produced % 2 == 0 ? 'a' : 'b';
        else want = produced < target.length ? target[produced] & 0xff : EOS;
        float[] l = new float[VOCAB];
        // a peaked but not one-hot distribution, so that sampling with temperature varies
        for (int i = 0; i < VOCAB; i++) l[i] = (i * 7919 % 13) * 0.05f;
        l[want] = 8f;
        return l;
    }

    @Override
    public GenerationConfig defaultGeneration() { return GenerationConfig.greedy(64, Set.of(EOS)); }

    @Override
    public String cleanResponse(String decoded) { return decoded.strip(); }

    @Override public void close() {}

    /** Bytes as ids; special ids 256/257 are dropped when skipping specials. */
    static final Tokenizer TOKENIZER = new Tokenizer() {
        public int[] encode(String text, boolean addSpecialTokens) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[b.length];
            for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
            return ids;
        }

        public String decode(int[] ids, boolean skipSpecialTokens) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int id : ids) if (id < 256) out.write(id);
            return out.toString(StandardCharsets.UTF_8);
        }

        public int tokenId(String token) { return token.equals("<eos>") ? EOS : token.equals("<img>") ? IMG : -1; }
        public String token(int id) { return id == EOS ? "<eos>" : id == IMG ? "<img>" : id >= 0 && id < 256 ? String.valueOf((char) id) : null; }
        public int size() { return VOCAB; }
        public byte[] tokenBytes(int id) { return id >= 0 && id < 256 ? new byte[]{(byte) id} : null; }
        public boolean isSpecial(int id) { return id >= 256; }

        public IncrementalDecoder incrementalDecoder(boolean skipSpecialTokens) {
            return new IncrementalDecoder() {
                byte[] pending = new byte[0];

                public String push(int id) {
                    if (id >= 256) return "";
                    pending = Arrays.copyOf(pending, pending.length + 1);
                    pending[pending.length - 1] = (byte) id;
                    int cut = completePrefix(pending);
                    String s = new String(pending, 0, cut, StandardCharsets.UTF_8);
                    pending = Arrays.copyOfRange(pending, cut, pending.length);
                    return s;
                }

                public String finish() {
                    String s = new String(pending, StandardCharsets.UTF_8);
                    pending = new byte[0];
                    return s;
                }
            };
        }
    };

    /** Length of the prefix that does not end inside an incomplete UTF-8 sequence. */
    static int completePrefix(byte[] b) {
        for (int back = 1; back <= Math.min(3, b.length); back++) {
            int v = b[b.length - back] & 0xff;
            if (v < 0x80) return b.length;
            if (v >= 0xC0) {
                int need = v >= 0xF0 ? 4 : v >= 0xE0 ? 3 : 2;
                return need > back ? b.length - back : b.length;
            }
        }
        return b.length;
    }
}
