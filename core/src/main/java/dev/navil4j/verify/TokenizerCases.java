package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.tokenizer.IncrementalDecoder;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.tokenizer.Tokenizers;

import java.nio.file.Path;

/** Fixture cases of kind(s) tokenize,decode. */
public final class TokenizerCases {
    private TokenizerCases() {}

    static Tokenizer tokenizer(Fixture fx, JsonNode c) {
        Path dir = fx.modelDir(c);
        return fx.cached("tokenizer:" + dir, k -> Tokenizers.load(dir));
    }

    /** {@code text}, {@code add_special_tokens} → {@code expect.ids}. */
    public static CaseResult tokenize(Fixture fx, JsonNode c) throws Exception {
        if (!c.has("text")) return CaseResult.fail(Double.NaN, 0, "case has no \"text\"");
        int[] got = tokenizer(fx, c).encode(c.get("text").asText(), c.path("add_special_tokens").asBoolean(true));
        int[] want = fx.intsOrLiteral(c.path("expect").get("ids"));
        String diff = dev.navil4j.verify.Compare.ids(got, want);
        return CaseResult.of(diff == null ? 0 : 1, c.path("atol").asDouble(0), diff);
    }

    /**
     * {@code ids}, {@code skip_special_tokens} → {@code expect.text}; the streaming decoder's concatenated
     * output must equal it too.
     */
    public static CaseResult decode(Fixture fx, JsonNode c) throws Exception {
        if (!c.has("ids")) return CaseResult.fail(Double.NaN, 0, "case has no \"ids\"");
        Tokenizer tok = tokenizer(fx, c);
        int[] ids = fx.intsOrLiteral(c.get("ids"));
        boolean skip = c.path("skip_special_tokens").asBoolean(false);
        String want = c.path("expect").path("text").asText();
        String diff = Compare.text(tok.decode(ids, skip), want);
        if (diff == null) {
            IncrementalDecoder d = tok.incrementalDecoder(skip);
            StringBuilder sb = new StringBuilder();
            for (int id : ids) sb.append(d.push(id));
            sb.append(d.finish());
            String sd = Compare.text(sb.toString(), want);
            if (sd != null) diff = "incremental decoder: " + sd;
        }
        return CaseResult.of(diff == null ? 0 : 1, c.path("atol").asDouble(0), diff);
    }
}
