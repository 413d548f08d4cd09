package dev.navil4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Unit tests of the tokenizer package: UTF-8 repair, streaming decode, bad input. */
class TokenizerTest {
    static final Path QWEN25 = Path.of("fixtures/tokenizer-qwen2.5/model");
    static final Path QWEN3 = Path.of("fixtures/navil-qwen3-tiny/model");
    static final Path INTERNLM2 = Path.of("fixtures/navil-internlm2-tiny/model");

    private static byte[] hex(String h) {
        String[] p = h.trim().split("\\s+");
        byte[] b = new byte[p.length];
        for (int i = 0; i < p.length; i++) b[i] = (byte) Integer.parseInt(p[i], 16);
        return b;
    }

    /** The worked example of "U+FFFD substitution of maximal subparts" in the Unicode Standard, §3.9 (Table 3-8). */
    @Test
    void lossyUtf8FollowsMaximalSubparts() {
        assertThat(Utf8.decodeLossy(hex("61 F1 80 80 E1 80 C2 62 80 63 80 BF 64")))
                .isEqualTo("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd");
        assertThat(Utf8.decodeLossy(hex("E4 B8"))).isEqualTo("\uFFFD");          // truncated: one
        assertThat(Utf8.decodeLossy(hex("ED A0 80"))).isEqualTo("\uFFFD\uFFFD\uFFFD"); // surrogate: not a subpart
        assertThat(Utf8.decodeLossy(hex("F0 9F 98 80"))).isEqualTo("😀");
        assertThat(Utf8.decodeLossy(hex("C0 AF"))).isEqualTo("\uFFFD\uFFFD");
        assertThat(Utf8.decodeLossy(hex("F4 90 80 80"))).isEqualTo("\uFFFD\uFFFD\uFFFD\uFFFD");
    }

    /** Valid UTF-8 round-trips through the lossy decoder exactly as the JDK decodes it. */
    @Test
    void lossyUtf8IsIdentityOnValidText() {
        RandomText gen = new RandomText(1, List.of());
        for (int i = 0; i < 500; i++) {
            String s = gen.next();
            assertThat(Utf8.decodeLossy(s.getBytes(StandardCharsets.UTF_8))).isEqualTo(s);
        }
    }

    private static void assertStreamingEqualsDecode(Tokenizer t, int[] ids, boolean skip) {
        IncrementalDecoder d = t.incrementalDecoder(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String piece = d.push(id);
            // never half a surrogate pair
            if (!piece.isEmpty()) {
                assertThat(Character.isHighSurrogate(piece.charAt(piece.length() - 1))).isFalse();
                assertThat(Character.isLowSurrogate(piece.charAt(0))).isFalse();
            }
            sb.append(piece);
        }
        sb.append(d.finish());
        assertThat(sb.toString()).as("stream of %s", java.util.Arrays.toString(ids)).isEqualTo(t.decode(ids, skip));
    }

    @Test
    void streamingEqualsFullDecodeOnRandomIds() {
        for (Path dir : new Path[]{QWEN3, INTERNLM2}) {
            Tokenizer t = TestTokenizers.get(dir);
            Random r = new Random(11);
            for (int i = 0; i < 1500; i++) {
                int[] ids = new int[r.nextInt(14)];
                for (int k = 0; k < ids.length; k++) ids[k] = r.nextInt(4) == 0 ? t.size() - 1 - r.nextInt(40) : r.nextInt(t.size());
                assertStreamingEqualsDecode(t, ids, false);
                assertStreamingEqualsDecode(t, ids, true);
            }
        }
    }

    @Test
    void streamingNeverSplitsACharacterAndEmitsEarly() {
        Tokenizer t = TestTokenizers.get(QWEN25);
        String text = "流式解码 emoji 👨‍👩‍👧‍👦 and 日本語テキスト, don't stop.";
        int[] ids = t.encode(text, false);
        IncrementalDecoder d = t.incrementalDecoder(true);
        List<String> parts = new ArrayList<>();
        for (int id : ids) parts.add(d.push(id));
        parts.add(d.finish());
        assertThat(String.join("", parts)).isEqualTo(text);
        assertThat(parts).noneMatch(p -> p.contains("\uFFFD"));
        assertThat(parts.get(parts.size() - 1)).isEmpty(); // byte-level text is final as soon as it is complete
        // InternLM2, skipping specials: words come out before the end of the stream
        Tokenizer il = TestTokenizers.get(INTERNLM2);
        int[] ids2 = il.encode("Please describe the image shortly, then stop. 你好", true);
        IncrementalDecoder d2 = il.incrementalDecoder(true);
        StringBuilder sb = new StringBuilder();
        int early = 0;
        for (int id : ids2) { String p = d2.push(id); sb.append(p); early += p.length(); }
        sb.append(d2.finish());
        assertThat(sb.toString()).isEqualTo(il.decode(ids2, true));
        assertThat(early).isGreaterThan(20);
    }

    @Test
    void factoryPicksImplementationPerModelDir() {
        assertThat(TestTokenizers.get(QWEN25)).isInstanceOf(ByteLevelBpeTokenizer.class);
        assertThat(TestTokenizers.get(INTERNLM2)).isInstanceOf(InternLM2Tokenizer.class);
        Tokenizer q = TestTokenizers.get(QWEN25);
        assertThat(q.size()).isEqualTo(151665);
        assertThat(q.tokenId("<|im_end|>")).isEqualTo(151645);
        assertThat(q.isSpecial(151645)).isTrue();
        assertThat(q.isSpecial(151657)).isFalse(); // <tool_call> is added but not special
        assertThat(q.token(151645)).isEqualTo("<|im_end|>");
        assertThat(q.tokenId("no such token")).isEqualTo(-1);
        Tokenizer il = TestTokenizers.get(INTERNLM2);
        assertThat(il.size()).isEqualTo(2012);
        assertThat(il.tokenId("<IMG_CONTEXT>")).isEqualTo(2002);
        assertThat(il.encode("", true)).containsExactly(1);
    }

    /** The hand-written Qwen2 splitter gives exactly the regex's pieces. */
    @Test
    void qwen2ScannerEqualsRegex() {
        PreTokenizer regex = new PreTokenizer.Split(PreTokenizer.compile(ByteLevelBpeTokenizer.QWEN2_REGEX), PreTokenizer.Behavior.ISOLATED, false);
        PreTokenizer scanner = new Qwen2PreTokenizer();
        RandomText gen = new RandomText(21, List.of("<|im_end|>", "'", "' ", "'\u017Fx", "\r\n \n", " \r", "\t\n\t"));
        for (int i = 0; i < 5000; i++) {
            String s = gen.next();
            List<String> a = new ArrayList<>(), b = new ArrayList<>();
            regex.split(s, a);
            scanner.split(s, b);
            assertThat(b).as(TokenizerDifferentialTest.escape(s)).isEqualTo(a);
        }
    }

    /** vocab.json + merges.txt only (slow Qwen2Tokenizer) gives the fixture's ids and texts too. */
    @Test
    void qwen2SlowFilesMatchTokenizerJson(@TempDir Path tmp) throws Exception {
        for (String f : new String[]{"vocab.json", "merges.txt", "tokenizer_config.json", "added_tokens.json", "special_tokens_map.json"})
            Files.copy(QWEN25.resolve(f), tmp.resolve(f));
        Tokenizer slow = Tokenizers.load(tmp), fast = TestTokenizers.get(QWEN25);
        assertThat(slow.size()).isEqualTo(fast.size());
        RandomText gen = new RandomText(8, TokenizerDifferentialTest.specials(fast));
        for (int i = 0; i < 400; i++) {
            String s = gen.next();
            int[] ids = fast.encode(s, true);
            assertThat(slow.encode(s, true)).as(s).containsExactly(ids);
            assertThat(slow.decode(ids, true)).isEqualTo(fast.decode(ids, true));
            assertThat(slow.decode(ids, false)).isEqualTo(fast.decode(ids, false));
        }
        try (dev.navil4j.verify.Fixture fx = new dev.navil4j.verify.Fixture(Path.of("fixtures/tokenizer-qwen2.5"))) {
            int n = 0;
            for (var c : fx.cases()) {
                if (!c.path("kind").asText().equals("tokenize")) continue;
                assertThat(slow.encode(c.get("text").asText(), c.path("add_special_tokens").asBoolean(true)))
                        .as(c.path("name").asText()).containsExactly(fx.intsOrLiteral(c.path("expect").get("ids")));
                n++;
            }
            assertThat(n).isEqualTo(403);
        }
        Files.writeString(tmp.resolve("merges.txt"), "#version: 0.2\na b c\n");
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(TokenizerException.class).hasMessageContaining("line 2");
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void missingFilesAreClearErrors(@TempDir Path tmp) {
        assertThatThrownBy(() -> Tokenizers.load(tmp.resolve("nope"))).isInstanceOf(TokenizerException.class).hasMessageContaining("not a directory");
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(TokenizerException.class).hasMessageContaining("no tokenizer.json, tokenizer.model or vocab.json + merges.txt");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(tmp.resolve("tokenizer.json"))).isInstanceOf(TokenizerException.class).hasMessageContaining("no such file");
    }

    @Test
    void internLM2NeedsItsFiles(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"InternLM2Tokenizer\"}");
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(TokenizerException.class).hasMessageContaining("needs tokenizer.model");
        Files.copy(INTERNLM2.resolve("tokenizer.model"), tmp.resolve("tokenizer.model"));
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"tokenizer_class\": ");
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(TokenizerException.class).hasMessageContaining("invalid JSON");
    }

    @Test
    void malformedTokenizerJsonIsAClearError(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("tokenizer.json");
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).isInstanceOf(TokenizerException.class).hasMessageContaining("invalid JSON");
        Files.writeString(f, "[1, 2]");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("not a JSON object");
        Files.writeString(f, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("model.type must be \"BPE\"");
        String pre = "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}";
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a c\"]}, " + pre + "}");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("missing from the vocab");
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b c\"]}, " + pre + "}");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("is not \"left right\"");
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}, \"merges\": []}, " + pre + "}");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("non-integer id");
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("unsupported pre_tokenizer \"Whitespace\"");
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("no ByteLevel step");
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, " + pre + ", \"normalizer\": {\"type\": \"Precompiled\"}}");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("unsupported normalizer \"Precompiled\"");
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, " + pre + ", \"added_tokens\": [{\"id\": 5}]}");
        assertThatThrownBy(() -> ByteLevelBpeTokenizer.load(f)).hasMessageContaining("added token without");
    }

    /** A minimal tokenizer.json written here: both merge encodings give the same tokenizer. */
    @Test
    void bothMergeEncodingsAndTemplateProcessing(@TempDir Path tmp) throws Exception {
        StringBuilder vocab = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            String c = String.valueOf(ByteLevel.BYTE_TO_CHAR[b]);
            vocab.append(b == 0 ? "" : ", ").append(com.fasterxml.jackson.databind.node.TextNode.valueOf(c)).append(": ").append(b);
        }
        vocab.append(", \"ab\": 256, \"abc\": 257, \"<s>\": 258");
        String tail = "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true},"
                + "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}},"
                + "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [258], \"tokens\": [\"<s>\"]}}},"
                + "\"added_tokens\": [{\"id\": 258, \"content\": \"<s>\", \"special\": true}], \"decoder\": {\"type\": \"ByteLevel\"}}";
        Path a = tmp.resolve("a.json"), b = tmp.resolve("b.json");
        Files.writeString(a, "{\"model\": {\"type\": \"BPE\", \"vocab\": {" + vocab + "}, \"merges\": [\"a b\", \"ab c\"]}, " + tail);
        Files.writeString(b, "{\"model\": {\"type\": \"BPE\", \"vocab\": {" + vocab + "}, \"merges\": [[\"a\", \"b\"], [\"ab\", \"c\"]]}, " + tail);
        Tokenizer ta = ByteLevelBpeTokenizer.load(a), tb = ByteLevelBpeTokenizer.load(b);
        assertThat(ta.encode("abc abx", true)).containsExactly(258, 257, 32, 256, 'x'); // <s>, abc, Ġ (byte 0x20), ab, x
        assertThat(tb.encode("abc abx", true)).containsExactly(ta.encode("abc abx", true));
        assertThat(ta.encode("abc", false)).containsExactly(257);
        assertThat(ta.decode(ta.encode("<s>abc abx", true), true)).isEqualTo("abc abx");
    }

    @Test
    void malformedSentencePieceModelIsAClearError(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("tokenizer.model");
        Files.write(f, new byte[]{0x0A, (byte) 0xFF, (byte) 0xFF, 0x7F}); // piece field claiming a huge length
        assertThatThrownBy(() -> SentencePieceModel.load(f)).isInstanceOf(TokenizerException.class).hasMessageContaining("malformed protobuf");
        Files.write(f, new byte[0]);
        assertThatThrownBy(() -> SentencePieceModel.load(f)).hasMessageContaining("no pieces");
        byte[] good = Files.readAllBytes(INTERNLM2.resolve("tokenizer.model"));
        Files.write(f, java.util.Arrays.copyOf(good, good.length / 2));
        assertThatThrownBy(() -> SentencePieceModel.load(f)).isInstanceOf(TokenizerException.class);
        assertThatThrownBy(() -> SentencePieceModel.load(tmp.resolve("missing.model"))).hasMessageContaining("no such file");
        SentencePieceModel sp = SentencePieceModel.load(INTERNLM2.resolve("tokenizer.model"));
        assertThatThrownBy(() -> sp.idToPiece(99999)).isInstanceOf(TokenizerException.class).hasMessageContaining("out of range");
        assertThatThrownBy(() -> TestTokenizers.get(INTERNLM2).decode(new int[]{5, -1}, false)).isInstanceOf(TokenizerException.class);
    }
}
