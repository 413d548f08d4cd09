package dev.navil4j.generate.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.generate.GrammarConstraint;
import dev.navil4j.generate.TokenConstraint;
import dev.navil4j.generate.VocabularyTrie;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Token masks over real vocabularies: the real Qwen2.5 tokenizer (151k ids, fixtures/tokenizer-qwen2.5), the
 * InternVL3 fixture's byte-level BPE and the NaViL-InternLM2 fixture's SentencePiece. A mask is checked against a
 * brute-force pass over every id; random "models" (random logits) must always write text that the tokenizer's
 * own decode turns into JSON that parses and validates.
 */
class VocabularyMaskTest {
    static final Path QWEN = Path.of("fixtures/tokenizer-qwen2.5/model");

    /** Every id, each walked byte by byte through the grammar on its own (no trie, no cache). */
    static int[] bruteForce(Tokenizer tok, JsonGrammar g, JsonGrammar.State from) {
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < tok.size(); id++) {
            byte[] b = tok.tokenBytes(id);
            if (b == null || b.length == 0) continue;
            JsonGrammar.State s = from;
            for (int i = 0; i < b.length && s != null; i++) s = g.step(s, b[i] & 0xFF);
            if (s != null) ids.add(id);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    static JsonGrammar.State after(JsonGrammar g, String prefix) {
        JsonGrammar.State s = g.start();
        for (byte b : prefix.getBytes(StandardCharsets.UTF_8)) s = g.step(s, b & 0xFF);
        return s;
    }

    @Test
    void masksEqualBruteForceOnTheQwenVocabulary() {
        Tokenizer tok = Tokenizers.load(QWEN);
        assertThat(tok.size()).isGreaterThan(150_000);
        // special tokens have no bytes: never allowed; the byte tokens cover every byte
        assertThat(tok.tokenBytes(tok.tokenId("<|im_end|>"))).isNull();
        assertThat(tok.tokenBytes(tok.tokenId("{"))).containsExactly('{');
        JsonGrammar any = JsonSchemaCompiler.anyObject();
        JsonGrammar math = JsonSchemaCompiler.compile(StructuredSchemas.all().get("pydantic-math"), true);
        Object[][] cases = {{any, ""}, {any, "{\"a\":\"text "}, {any, "{\"a\":[1"}, {any, "{\"a\":"}, {math, "{"}, {math, "{\"st"},
                {math, "{\"steps\":[{\"explanation\":\"x\",\"output\":\"y\"}"}, {math, "{\"steps\":[],\"final_answer\":\"\\u00"}};
        for (Object[] c : cases) {
            JsonGrammar g = (JsonGrammar) c[0];
            TokenConstraint con = GrammarConstraint.factory(g).start(tok);
            for (byte b : ((String) c[1]).getBytes(StandardCharsets.UTF_8)) ((GrammarConstraint<JsonGrammar.State>) con).advanceByte(b & 0xFF);
            long t0 = System.nanoTime();
            int[] got = con.allowed(Integer.MAX_VALUE);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(got).as(c[1].toString()).isEqualTo(bruteForce(tok, g, after(g, (String) c[1])));
            System.out.printf("mask after %-50s %6d ids allowed, %4d ms%n", "'" + c[1] + "'", got.length, ms);
        }
    }

    @Test
    void randomModelsAlwaysWriteValidJson() {
        for (String dir : List.of("fixtures/internvl3-tiny/model", "fixtures/navil-internlm2-tiny/model", QWEN.toString())) {
            Tokenizer tok = Tokenizers.load(Path.of(dir));
            SplittableRandom rnd = new SplittableRandom(11);
            Map<String, JsonNode> schemas = new java.util.LinkedHashMap<>(StructuredSchemas.all());
            schemas.put("json_object", null);
            int runs = dir.equals(QWEN.toString()) ? 3 : 12;
            for (var e : schemas.entrySet()) {
                JsonGrammar g = e.getValue() == null ? JsonSchemaCompiler.anyObject() : JsonSchemaCompiler.compile(e.getValue(), true);
                TokenConstraint.Factory f = GrammarConstraint.factory(g);
                for (int run = 0; run < runs; run++) {
                    int maxTokens = 120 + rnd.nextInt(120);
                    int[] ids = generate(f.start(tok), tok.size(), maxTokens, rnd);
                    String text = tok.decode(ids, true);
                    JsonNode v = SchemaValidator.parse(text);
                    if (e.getValue() == null) assertThat(v.isObject()).as(text).isTrue();
                    else assertThat(SchemaValidator.errors(e.getValue(), v)).as(dir + " " + e.getKey() + ": " + text).isEmpty();
                }
            }
        }
    }

    /**
     * What Sequence does with a constraint, with random logits for a model: sample among the allowed ids with the
     * budget left for a stop token, until the constraint is complete and nothing else may follow (or a coin says
     * stop where it may).
     */
    static int[] generate(TokenConstraint c, int vocab, int maxTokens, SplittableRandom rnd) {
        int[] out = new int[maxTokens];
        int n = 0;
        while (n < maxTokens - 1) {
            int[] allowed = c.allowed(maxTokens - n - 2);
            if (c.isComplete() && (allowed.length == 0 || rnd.nextInt(3) == 0)) break;
            assertThat(allowed).as("dead end").isNotEmpty();
            int best = -1;
            double bestLogit = Double.NEGATIVE_INFINITY;
            for (int id : allowed) {
                double l = rnd.nextGaussian() * 3;
                if (l > bestLogit) { bestLogit = l; best = id; }
            }
            c.advance(best);
            out[n++] = best;
        }
        assertThat(c.isComplete()).as("complete within " + maxTokens + " tokens").isTrue();
        return Arrays.copyOf(out, n);
    }
}
