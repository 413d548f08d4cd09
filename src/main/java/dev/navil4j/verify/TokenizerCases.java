package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;

/** Fixture cases of kind(s) tokenize,decode. */
public final class TokenizerCases {
    private TokenizerCases() {}

    public static CaseResult tokenize(Fixture fx, JsonNode c) throws Exception {
        return CaseResult.skip("tokenize not implemented yet");
    }

    public static CaseResult decode(Fixture fx, JsonNode c) throws Exception {
        return CaseResult.skip("decode not implemented yet");
    }
}
