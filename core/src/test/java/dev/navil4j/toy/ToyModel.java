package dev.navil4j.toy;

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
import dev.navil4j.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic stand-in for a real family. Its prompt is a ChatML-like template with one {@code <image>}
 * id per media token (tiles × tokens per tile, tiles capped by {@link Conversation.Limits#maxTiles()}); its
 * logits after a prompt spell, byte by byte, an answer that is a fixed function of the prompt ids:
 * <pre>"  You said «QUESTION» (turn T, M media tokens) — ünï 你好 🎉 \n "</pre>
 * then {@code <|im_end|>}. Leading/trailing whitespace exercises strip(); the multi-byte characters exercise
 * UTF-8 streaming. The answer byte scores 6; other printable ASCII bytes 1–1.6, so sampling sometimes
 * deviates and a strong repetition penalty changes the greedy choice.
 */
public final class ToyModel implements VisionLanguageModel {
    public static final String DEFAULT_SYSTEM = "You are a toy.";
    private final ToyTokenizer tokenizer = new ToyTokenizer();
    private final int maxContext, tokensPerTile, defaultTiles, maxNewTokens;
    public final AtomicInteger prepares = new AtomicInteger();
    public volatile boolean closed;

    public ToyModel(int maxContext, int tokensPerTile, int defaultTiles, int maxNewTokens) {
        this.maxContext = maxContext;
        this.tokensPerTile = tokensPerTile;
        this.defaultTiles = defaultTiles;
        this.maxNewTokens = maxNewTokens;
    }

    public static String answerFor(String question, int turn, int mediaTokens) {
        return "  You said «" + question + "» (turn " + turn + ", " + mediaTokens + " media tokens) — ünï 你好 🎉 \n ";
    }

    @Override public String family() { return "toy"; }

    @Override public Tokenizer tokenizer() { return tokenizer; }

    @Override public int maxContext() { return maxContext; }

    @Override
    public PreparedPrompt prepare(Conversation c) {
        prepares.incrementAndGet();
        StringBuilder t = new StringBuilder("<|im_start|>system\n").append(c.system() == null ? DEFAULT_SYSTEM : c.system()).append("<|im_end|>\n");
        for (Conversation.Turn turn : c.turns()) {
            t.append("<|im_start|>user\n");
            for (int i = 0; i < turn.media().size(); i++) t.append("<image>\n");
            t.append(turn.user()).append("<|im_end|>\n<|im_start|>assistant\n");
            if (turn.assistant() != null) t.append(turn.assistant()).append("<|im_end|>\n");
        }
        int tiles = c.limits().maxTiles() == 0 ? defaultTiles : Math.min(defaultTiles, c.limits().maxTiles());
        int[] raw = tokenizer.encode(t.toString(), false);
        // each <image> becomes tiles × tokensPerTile placeholder ids, a video frames × tokensPerTile
        int[] mediaPerSlot = c.turns().stream().flatMap(turn -> turn.media().stream())
                .mapToInt(m -> m instanceof Conversation.Video v ? v.frames() * tokensPerTile : tiles * tokensPerTile).toArray();
        int media = 0;
        for (int m : mediaPerSlot) media += m;
        int[] ids = new int[raw.length - mediaPerSlot.length + media];
        int n = 0, slot = 0;
        for (int id : raw) {
            if (id != ToyTokenizer.IMAGE) { ids[n++] = id; continue; }
            for (int k = 0; k < mediaPerSlot[slot]; k++) ids[n++] = ToyTokenizer.IMAGE;
            slot++;
        }
        java.util.List<MediaEmbedding> rows = new java.util.ArrayList<>();
        for (int i = 0; i < ids.length; i++)
            if (ids[i] == ToyTokenizer.IMAGE) rows.add(new MediaEmbedding(new int[] {i}, new float[] {ToyTokenizer.IMAGE}, 77));
        return new PreparedPrompt(ids, t.toString(), null, null, rows);
    }

    private final MediaCache mediaCache = new MediaCache();

    @Override public ModelFlags flags() { return ModelFlags.PLAIN; }

    @Override public int hiddenSize() { return 1; }

    @Override public MediaCache mediaCache() { return mediaCache; }

    @Override public InferenceState newState() { return new InferenceState(new KVCache(1, 1, maxContext, 16)); }

    @Override public void embedPromptToken(int id, float[] dst, int off) { dst[off] = id; }

    @Override public void embedDecodeToken(int id, float[] dst, int off) { dst[off] = id; }

    /** The cache stores the ids; the logits follow from the last prompt in the sequence and what came after it. */
    @Override
    public float[][] forward(BatchRows b) {
        if (closed) throw new IllegalStateException("toy model closed");
        float[][] out = new float[b.segments.length][];
        for (int i = 0; i < out.length; i++) {
            BatchRows.Segment s = b.segments[i];
            KVCache cache = s.state().cache();
            if (cache.length() + s.rows() > maxContext)
                throw new IllegalStateException("toy: cache overflow " + (cache.length() + s.rows()) + " > " + maxContext);
            cache.reserve(s.rows());
            cache.put(0, b.embeds, s.row0(), b.embeds, s.row0(), s.rows());
            cache.commit(s.rows());
            int[] ids = new int[cache.length()];
            for (int t = 0; t < ids.length; t++) ids[t] = (int) cache.keys(0)[t];
            out[i] = logits(ids);
        }
        return out;
    }

    private float[] logits(int[] seq) {
        int[] cue = tokenizer.encode("<|im_start|>assistant\n", false);
        int end = -1;
        for (int t = seq.length - cue.length; t >= 0 && end < 0; t--)
            if (java.util.Arrays.equals(seq, t, t + cue.length, cue, 0, cue.length)) end = t + cue.length;
        int[] ids = java.util.Arrays.copyOf(seq, end);
        String text = tokenizer.decode(ids, false);
        int media = 0;
        for (int id : ids) if (id == ToyTokenizer.IMAGE) media++;
        int turn = text.split("<\\|im_start\\|>user\n", -1).length - 1;
        String last = text.substring(text.lastIndexOf("<|im_start|>user\n") + "<|im_start|>user\n".length());
        String question = last.substring(0, last.indexOf("<|im_end|>")).replace("<image>", "").strip();
        byte[] answer = answerFor(question, turn, media).getBytes(StandardCharsets.UTF_8);
        int k = seq.length - end;
        float[] l = new float[ToyTokenizer.SIZE];
        java.util.Arrays.fill(l, -30f);
        for (int i = 32; i < 127; i++) l[i] = 1f + (i % 7) * 0.1f;
        l[k < answer.length ? answer[k] & 0xFF : ToyTokenizer.IM_END] = 6f;
        return l;
    }

    @Override
    public GenerationConfig defaultGeneration() { return GenerationConfig.greedy(maxNewTokens, Set.of(ToyTokenizer.IM_END)); }

    /** Python str.strip() (its whitespace set), written independently of the API's Stripping. */
    @Override
    public String cleanResponse(String decoded) {
        int[] cps = decoded.codePoints().toArray();
        int a = 0, b = cps.length;
        while (a < b && pySpace(cps[a])) a++;
        while (b > a && pySpace(cps[b - 1])) b--;
        return new String(cps, a, b - a);
    }

    private static boolean pySpace(int cp) {
        return " \t\n\r\u000b\u000c\u001c\u001d\u001e\u001f\u0085\u00a0\u1680\u2028\u2029\u202f\u205f\u3000".indexOf(cp) >= 0
                || (cp >= 0x2000 && cp <= 0x200a);
    }

    @Override public void close() { closed = true; }
}
