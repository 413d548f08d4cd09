package dev.navil4j.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.sentencepiece.SpProcessor;
import ai.djl.sentencepiece.SpTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Differential test against the real tokenizer libraries (test scope only): HF tokenizers (Rust, via DJL)
 * on every byte-level tokenizer.json of the fixtures, and the sentencepiece library (C++, via DJL) on
 * InternLM2's tokenizer.model. Thousands of seeded random strings; ids (and decoded text) must be identical.
 */
class TokenizerDifferentialTest {
    static final Path QWEN25 = Path.of("fixtures/tokenizer-qwen2.5/model");
    static final Path[] TINY_BPE = {Path.of("fixtures/internvl3-tiny/model"), Path.of("fixtures/navil-qwen3-tiny/model"),
            Path.of("fixtures/vora-tiny/model")};
    static final Path INTERNLM2 = Path.of("fixtures/navil-internlm2-tiny/model");

    static HuggingFaceTokenizer hf(Path dir, boolean addSpecial) throws Exception {
        // local file only; no truncation/padding so ids are the raw encoding
        return HuggingFaceTokenizer.builder().optTokenizerPath(dir.resolve("tokenizer.json"))
                .optAddSpecialTokens(addSpecial).optTruncation(false).optPadding(false).build();
    }

    static List<String> specials(Tokenizer t) {
        List<String> out = new ArrayList<>();
        for (int id = 0; id < t.size(); id++) {
            String s = t.token(id);
            if (s != null && s.startsWith("<") && s.endsWith(">") && s.length() > 3 && !s.startsWith("<0x")) out.add(s);
        }
        // near-misses that must stay plain text
        out.add("<|im_start");
        out.add("<IMG_CONTEXT");
        out.add("<image>");
        return out;
    }

    private static int[] ints(long[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) out[i] = (int) a[i];
        return out;
    }

    private static Tokenizer qwenOurs;
    private static HuggingFaceTokenizer qwenRef;

    @org.junit.jupiter.api.BeforeAll
    static void loadQwen() throws Exception {
        qwenOurs = TestTokenizers.get(QWEN25);
        qwenRef = hf(QWEN25, true);
    }

    @org.junit.jupiter.api.AfterAll
    static void closeQwen() { if (qwenRef != null) qwenRef.close(); }

    private static void compareBpe(Path dir, int n, long seed) throws Exception {
        try (HuggingFaceTokenizer ref = hf(dir, true)) {
            compareBpe(TestTokenizers.get(dir), ref, dir, n, seed);
        }
    }

    private static void compareBpe(Tokenizer ours, HuggingFaceTokenizer ref, Path dir, int n, long seed) {
        List<String> sp = specials(ours);
        {
            RandomText gen = new RandomText(seed, sp);
            for (int i = 0; i < n; i++) {
                String text = gen.next();
                int[] want = ints(ref.encode(text, true, false).getIds());
                assertThat(ours.encode(text, true)).as("%s encode #%d %s", dir, i, escape(text)).containsExactly(want);
                assertThat(ours.encode(text, false)).as("%s encode(add_special=false) #%d", dir, i)
                        .containsExactly(ints(ref.encode(text, false, false).getIds()));
                // decode of the ids, and of a random slice (cut characters → U+FFFD), both skip modes
                int a = want.length == 0 ? 0 : new Random(seed + i).nextInt(want.length);
                int[] slice = java.util.Arrays.copyOfRange(want, a, want.length);
                for (boolean skip : new boolean[]{false, true}) {
                    long[] l = new long[slice.length];
                    for (int k = 0; k < l.length; k++) l[k] = slice[k];
                    assertThat(ours.decode(slice, skip)).as("%s decode #%d skip=%s", dir, i, skip).isEqualTo(ref.decode(l, skip));
                }
            }
        }
    }

    @Test
    void qwen25MatchesHfTokenizers() { compareBpe(qwenOurs, qwenRef, QWEN25, 3000, 20251129L); }

    @Test
    void tinyByteLevelTokenizersMatchHfTokenizers() throws Exception {
        long seed = 77;
        for (Path d : TINY_BPE) compareBpe(d, 600, seed++);
    }

    /** Random id sequences (many byte tokens, so ill-formed UTF-8 everywhere) decode like HF tokenizers. */
    @Test
    void qwen25DecodeOfRandomIdsMatches() throws Exception {
        Tokenizer ours = qwenOurs;
        HuggingFaceTokenizer ref = qwenRef;
        Random r = new Random(5);
        {
            for (int i = 0; i < 2000; i++) {
                int len = r.nextInt(12);
                int[] ids = new int[len];
                for (int k = 0; k < len; k++)
                    ids[k] = switch (r.nextInt(3)) {
                        case 0 -> r.nextInt(256);                 // single-byte tokens (0x80.. are bare continuation/lead bytes)
                        case 1 -> 151643 + r.nextInt(22);         // added tokens
                        default -> r.nextInt(151643);
                    };
                long[] l = java.util.Arrays.stream(ids).asLongStream().toArray();
                for (boolean skip : new boolean[]{false, true})
                    assertThat(ours.decode(ids, skip)).as("ids %s skip=%s", java.util.Arrays.toString(ids), skip).isEqualTo(ref.decode(l, skip));
            }
        }
    }

    /** The SentencePiece core (no added-token split) against the sentencepiece library: encode and decode. */
    @Test
    void sentencePieceMatchesLibrary() throws Exception {
        SentencePieceModel ours = SentencePieceModel.load(INTERNLM2.resolve("tokenizer.model"));
        Tokenizer full = TestTokenizers.get(INTERNLM2);
        try (SpTokenizer ref = new SpTokenizer(INTERNLM2.resolve("tokenizer.model"))) {
            SpProcessor p = ref.getProcessor();
            RandomText gen = new RandomText(99, specials(full));
            for (int i = 0; i < 3000; i++) {
                String text = gen.next();
                if (text.indexOf('\0') >= 0) text = text.replace('\0', ' '); // the JNI bridge passes C strings
                int[] want = p.encode(text);
                assertThat(ours.encode(text)).as("sp encode #%d %s", i, escape(text)).containsExactly(want);
            }
            Random r = new Random(3);
            int compared = 0;
            for (int i = 0; i < 2000; i++) {
                int len = r.nextInt(10);
                List<String> pieces = new ArrayList<>();
                int[] ids = new int[len];
                for (int k = 0; k < len; k++) {
                    // bias to the 256 byte pieces (ids 3..258 in sp's layout) so ill-formed UTF-8 is common
                    ids[k] = r.nextBoolean() ? 3 + r.nextInt(256) : r.nextInt(ours.size());
                    // the JNI bridge returns a C string (NUL ends it), so <0x00> cannot be compared through it
                    if (ours.idToPiece(ids[k]).equals("<0x00>")) ids[k]++;
                    pieces.add(ours.idToPiece(ids[k]));
                }
                String mine = ours.decodePieces(pieces);
                // the JNI bridge builds the result with NewStringUTF (modified UTF-8), which garbles characters
                // outside the BMP; those results cannot be compared through it
                if (mine.codePoints().anyMatch(c -> c > 0xFFFF)) continue;
                compared++;
                assertThat(mine).as("sp decode %s", pieces).isEqualTo(p.decode(ids));
            }
            assertThat(compared).isGreaterThan(1500);
        }
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (c < 0x20 || c > 0x7E) b.append(String.format("\\u{%x}", c)); else b.appendCodePoint(c);
        });
        return b.toString();
    }
}
