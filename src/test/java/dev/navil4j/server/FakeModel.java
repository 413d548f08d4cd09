package dev.navil4j.server;

import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.GenerationConfig;
import dev.navil4j.models.InferenceState;
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

    private record Payload(byte[] target, boolean loop) {}

    private final class State implements InferenceState {
        final int seq = nextSeq.getAndIncrement();
        Payload payload;
        int length, produced;

        public int length() { return length; }
        public long bytes() { return 1024L * length; }

        float[] logits() {
            int want;
            if (payload.loop) want = produced % 2 == 0 ? 'a' : 'b';
            else want = produced < payload.target.length ? payload.target[produced] & 0xff : EOS;
            float[] l = new float[VOCAB];
            // a peaked but not one-hot distribution, so that sampling with temperature varies
            for (int i = 0; i < VOCAB; i++) l[i] = (i * 7919 % 13) * 0.05f;
            l[want] = 8f;
            return l;
        }
    }

    @Override public String family() { return "fake"; }
    @Override public Tokenizer tokenizer() { return TOKENIZER; }
    @Override public int maxContext() { return maxContext; }

    @Override
    public PreparedPrompt prepare(Conversation c) {
        StringBuilder text = new StringBuilder();
        if (c.system() != null) text.append("S:").append(c.system()).append('\n');
        int media = 0;
        for (Conversation.Turn t : c.turns()) {
            text.append("U:").append(t.user());
            for (int i = 0; i < t.media().size(); i++) text.append("<img>");
            media += t.media().size();
            if (t.assistant() != null) text.append("\nA:").append(t.assistant()).append('\n');
        }
        byte[] b = text.toString().getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
        String last = c.turns().getLast().user();
        return new PreparedPrompt(ids, text.toString(), media,
                new Payload(answer(c).getBytes(StandardCharsets.UTF_8), last.startsWith("LOOP")));
    }

    @Override public InferenceState newState() { return new State(); }

    @Override
    public float[] prefill(InferenceState state, PreparedPrompt prompt) {
        State s = (State) state;
        prefills.incrementAndGet();
        s.payload = (Payload) prompt.payload();
        s.length = prompt.ids().length;
        return s.logits();
    }

    @Override
    public float[] decode(InferenceState state, int token) {
        State s = (State) state;
        if (s.length >= maxContext) throw new IllegalStateException("context overflow: " + s.length);
        decodeLog.add(s.seq);
        if (decodeDelayMillis > 0) {
            try { Thread.sleep(decodeDelayMillis); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
        s.length++;
        s.produced++;
        return s.logits();
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
