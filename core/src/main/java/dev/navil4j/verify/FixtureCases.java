package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The fixture cases a model family runs (preprocess, vision, forward, generate, ...: everything but the
 * tokenizer kinds, which are shared). A family's {@code ModelFamily} implements it next to its model code;
 * {@link Verify} finds it among the registered families, so nothing here names a family.
 */
public interface FixtureCases {
    /** Whether this runs the cases of fixtures whose cases.json {@code family} is this name. */
    boolean handlesFixture(String fixtureFamily);

    /** Runs one case; {@link CaseResult#skip} for kinds it does not implement. */
    CaseResult verify(Fixture fixture, JsonNode testCase) throws Exception;
}
