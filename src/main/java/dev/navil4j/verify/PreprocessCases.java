package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;

/** Fixture cases of kind(s) preprocess. */
public final class PreprocessCases {
    private PreprocessCases() {}

    public static CaseResult preprocess(Fixture fx, JsonNode c) throws Exception {
        return CaseResult.skip("preprocess not implemented yet");
    }
}
