package dev.navil4j.generate.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.generate.ByteGrammar;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The JSON automaton alone, byte by byte. Expected verdicts come from Jackson (strict RFC 8259 parsing) and from
 * networknt's json-schema-validator, never from the automaton itself.
 */
class JsonGrammarTest {
    static boolean accepts(JsonGrammar g, String text) {
        JsonGrammar.State s = g.start();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            s = g.step(s, b & 0xFF);
            if (s == null) return false;
        }
        return g.accepts(s);
    }

    static boolean jacksonObject(String text) {
        try {
            return SchemaValidator.JSON.readTree(text).isObject();
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void anyObjectAgreesWithJackson() {
        JsonGrammar g = JsonSchemaCompiler.anyObject();
        String[] docs = {"{}", "{\"a\":1}", " {\"a\" : [1, 2.5e-3, -0, 0.0E+7, \"x\\u00e9\\n\\\"\", true, false, null, {}, []]}",
                "{\"ключ\":\"值😀\",\"\":\"\\ud83d\\ude00\"}", "{\n  \"a\": {\n    \"b\": [\n      1\n    ]\n  }\n}",
                "{\"a\":\"\\/\\b\\f\\r\\t\"}",
                // rejected
                "[]", "\"s\"", "1", "{\"a\":01}", "{\"a\":1,}", "{'a':1}", "{\"a\":\"\u0001\"}", "{\"a\":tru}", "{\"a\":1}}",
                "{\"a\":-}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12g4\"}", "{\"a\" 1}", "{\"a\":1 \"b\":2}",
                "{,}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":NaN}", "{\"a\":\"x}", "{", "{\"a\":1} x"};
        for (String d : docs) assertThat(accepts(g, d)).as(d).isEqualTo(jacksonObject(d));
        // unfinished prefixes are alive but not complete
        JsonGrammar.State s = g.start();
        for (byte b : "{\"a\":[1".getBytes(StandardCharsets.UTF_8)) s = g.step(s, b);
        assertThat(s).isNotNull();
        assertThat(g.accepts(s)).isFalse();
        // "{\"a\":[1" needs "]}" at least: 2 bytes
        assertThat(g.minBytesToAccept(s)).isEqualTo(2);
    }

    @Test
    void invalidUtf8AndRunawayWhitespaceAreRefused() {
        JsonGrammar g = JsonSchemaCompiler.anyObject();
        // overlong "/" (C0 AF), a surrogate encoded in UTF-8 (ED A0 80), a lone continuation byte
        for (int[] bad : new int[][]{{0xC0, 0xAF}, {0xED, 0xA0, 0x80}, {0x80}, {0xF5, 0x80, 0x80, 0x80}}) {
            JsonGrammar.State s = g.start();
            for (byte b : "{\"a\":\"".getBytes(StandardCharsets.UTF_8)) s = g.step(s, b);
            for (int b : bad) if (s != null) s = g.step(s, b);
            assertThat(s).isNull();
        }
        assertThat(accepts(g, "{" + " ".repeat(JsonGrammar.MAX_WS) + "}")).isTrue();
        assertThat(accepts(g, "{" + " ".repeat(JsonGrammar.MAX_WS + 1) + "}")).isFalse();
        assertThat(accepts(g, "{\"a\":1" + "9".repeat(JsonGrammar.MAX_NUMBER_BYTES) + "}")).isFalse();
        assertThat(accepts(g, "{\"a\":" + "[".repeat(JsonGrammar.MAX_DEPTH) + "]".repeat(JsonGrammar.MAX_DEPTH) + "}")).isFalse();
    }

    @Test
    void schemaDecidesLikeTheValidator() {
        Map<String, JsonNode> schemas = StructuredSchemas.all();
        String[][] cases = {
                {"pydantic-math", "{\"steps\":[{\"explanation\":\"e\",\"output\":\"o\"}],\"final_answer\":\"42\"}"},
                {"pydantic-math", "{\"steps\":[],\"final_answer\":\"\"}"},
                {"pydantic-math", "{\"final_answer\":\"42\"}"},                         // missing required
                {"pydantic-math", "{\"steps\":[],\"final_answer\":\"x\",\"extra\":1}"},   // additionalProperties false
                {"pydantic-math", "{\"steps\":[{\"explanation\":\"e\"}],\"final_answer\":\"x\"}"},
                {"pydantic-math", "{\"steps\":[],\"final_answer\":7}"},
                {"pydantic-optional-enum-nested", "{\"name\":\"Ann\",\"age\":null,\"favorite\":\"red\",\"matrix\":[[1,2.5],[]],\"active\":true,\"kind\":\"person\"}"},
                {"pydantic-optional-enum-nested", "{\"name\":\"Ann\",\"age\":31,\"favorite\":\"blue\",\"matrix\":[],\"active\":false,\"kind\":\"person\"}"},
                {"pydantic-optional-enum-nested", "{\"name\":\"Ann\",\"age\":3.5,\"favorite\":\"blue\",\"matrix\":[],\"active\":false,\"kind\":\"person\"}"},
                {"pydantic-optional-enum-nested", "{\"name\":\"Ann\",\"age\":1,\"favorite\":\"pink\",\"matrix\":[],\"active\":false,\"kind\":\"person\"}"},
                {"pydantic-optional-enum-nested", "{\"name\":\"Ann\",\"age\":1,\"favorite\":\"red\",\"matrix\":[],\"active\":false,\"kind\":\"robot\"}"},
                {"pydantic-recursive", "{\"label\":\"root\",\"children\":[{\"label\":\"a\",\"children\":[]},{\"label\":\"b\",\"children\":[{\"label\":\"c\",\"children\":[]}]}]}"},
                {"pydantic-recursive", "{\"label\":\"root\",\"children\":[{\"label\":\"a\"}]}"},
                {"pydantic-union", "{\"pet\":{\"meows\":3}}"},
                {"pydantic-union", "{\"pet\":{\"barks\":1.5,\"good\":true}}"},
                {"pydantic-union", "{\"pet\":null}"},
                {"pydantic-union", "{\"pet\":{\"meows\":3,\"good\":true}}"},
                {"zod-weather", "{\"city\":\"Oslo\",\"temps\":[1,-2.5e1],\"note\":null,\"unit\":\"c\",\"tags\":[\"cold\",\"ä\"]}"},
                {"zod-weather", "{\"city\":\"Oslo\",\"temps\":[],\"note\":null,\"unit\":\"c\",\"tags\":[]}"},          // minItems 1
                {"zod-weather", "{\"city\":\"Oslo\",\"temps\":[1,2,3,4],\"note\":\"n\",\"unit\":\"f\",\"tags\":[]}"}, // maxItems 3
                {"zod-weather", "{\"city\":\"Oslo\",\"temps\":[1],\"note\":\"n\",\"unit\":\"f\",\"tags\":[\"waytoolong\"]}"}, // maxLength 8
                {"zod-weather", "{\"city\":\"Oslo\",\"temps\":[1],\"note\":\"n\",\"unit\":\"f\",\"tags\":[\"\"]}"},  // minLength 1
                {"zod-weather", "{\"city\":\"Oslo\",\"temps\":[1],\"note\":\"n\",\"unit\":\"f\",\"tags\":[\"ééééé😀😀😀\"]}"}, // 8 code points
                {"zod-definitions", "{\"home\":{\"street\":\"s\",\"zip\":\"1\"},\"work\":{\"street\":\"t\",\"zip\":\"2\"}}"},
                {"zod-definitions", "{\"home\":{\"street\":\"s\",\"zip\":\"1\"},\"work\":{\"street\":\"t\",\"zip\":\"2\"},\"nickname\":\"n\"}"},
                {"zod-definitions", "{\"home\":{\"street\":\"s\",\"zip\":\"1\"}}"},
        };
        for (String[] c : cases) {
            JsonNode schema = schemas.get(c[0]);
            JsonGrammar g = JsonSchemaCompiler.compile(schema, true);
            boolean valid = SchemaValidator.errors(schema, SchemaValidator.parse(c[1])).isEmpty();
            assertThat(accepts(g, c[1])).as(c[0] + ": " + c[1]).isEqualTo(valid);
        }
        // properties come in schema order (valid JSON for the validator, but not what the grammar writes)
        JsonGrammar g = JsonSchemaCompiler.compile(schemas.get("pydantic-math"), true);
        assertThat(accepts(g, "{\"final_answer\":\"42\",\"steps\":[]}")).isFalse();
        assertThat(accepts(g, "{ \"steps\" : [ ] , \"final_answer\" : \"42\" }")).isTrue();
    }

    @Test
    void strictRefusesWhatItCannotEnforce() {
        for (String[] c : new String[][]{{"{\"type\":\"string\",\"pattern\":\"^a\"}", "/pattern"},
                {"{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":0}},\"required\":[\"n\"]}", "/properties/n/minimum"},
                {"{\"oneOf\":[{\"type\":\"string\"}]}", "/oneOf"},
                {"{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"uniqueItems\":true}", "/uniqueItems"}}) {
            assertThatThrownBy(() -> JsonSchemaCompiler.compile(SchemaValidator.parse(c[0]), true))
                    .isInstanceOf(JsonSchemaException.class).matches(e -> ((JsonSchemaException) e).where().equals(c[1]), c[1]);
            JsonSchemaCompiler.compile(SchemaValidator.parse(c[0]), false); // not strict: ignored as an annotation
        }
        assertThatThrownBy(() -> JsonSchemaCompiler.compile(SchemaValidator.parse(
                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"b\"]}"), false))
                .isInstanceOf(JsonSchemaException.class).hasMessageContaining("'b'");
        // a schema whose every value is infinite (required recursion without a way out)
        assertThatThrownBy(() -> JsonSchemaCompiler.compile(SchemaValidator.parse(
                "{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#\"}},\"required\":[\"next\"]}"), true))
                .isInstanceOf(JsonSchemaException.class);
    }

    /**
     * Random walks of the automaton: each step takes a random byte the grammar allows whose completion still fits
     * in what is left of the byte budget; every walk must end complete, and the text must parse and validate.
     */
    @Test
    void randomWalksAlwaysFinishValid() {
        SplittableRandom rnd = new SplittableRandom(7);
        Map<String, JsonNode> schemas = new java.util.LinkedHashMap<>(StructuredSchemas.all());
        for (var e : schemas.entrySet()) walkMany(JsonSchemaCompiler.compile(e.getValue(), true), e.getValue(), rnd, 60);
        walkMany(JsonSchemaCompiler.anyObject(), SchemaValidator.parse("{\"type\":\"object\"}"), rnd, 60);
    }

    private static void walkMany(JsonGrammar g, JsonNode schema, SplittableRandom rnd, int walks) {
        for (int w = 0; w < walks; w++) {
            // at least the shortest value the schema allows (the guard cannot make a budget below it suffice)
            int budget = g.minBytesToAccept(g.start()) + rnd.nextInt(200);
            byte[] out = walk(g, rnd, budget);
            String text = new String(out, StandardCharsets.UTF_8);
            assertThat(out.length).as(text).isLessThanOrEqualTo(budget);
            JsonNode v = SchemaValidator.parse(text);
            assertThat(SchemaValidator.errors(schema, v)).as(text).isEmpty();
        }
    }

    static byte[] walk(JsonGrammar g, SplittableRandom rnd, int budget) {
        JsonGrammar.State s = g.start();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int left = budget; ; left--) {
            if (g.accepts(s) && (left == 0 || rnd.nextInt(4) == 0)) return out.toByteArray();
            List<Integer> ok = new ArrayList<>();
            List<JsonGrammar.State> next = new ArrayList<>();
            for (int b = 0; b < 256; b++) {
                JsonGrammar.State t = g.step(s, b);
                if (t != null && g.minBytesToAccept(t) <= left - 1) { ok.add(b); next.add(t); }
            }
            if (ok.isEmpty() && g.accepts(s)) return out.toByteArray(); // complete, nothing may follow
            assertThat(ok).as("stuck after " + out).isNotEmpty();
            // favour structure over long strings half the time, so walks reach every part of the schema
            int i = rnd.nextInt(ok.size());
            if (rnd.nextBoolean()) for (int k = 0; k < ok.size(); k++) if (ok.get(k) < 0x80 && "{}[],:\"0123456789-tfn".indexOf(ok.get(k)) >= 0 && rnd.nextInt(3) == 0) { i = k; break; }
            out.write(ok.get(i));
            s = next.get(i);
            assertThat(ByteGrammar.UNREACHABLE).isGreaterThan(g.minBytesToAccept(s));
        }
    }
}
