package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;

/** Runs one kind of fixture case (see fixtures/README.md for the format). */
@FunctionalInterface
public interface CaseRunner {
    CaseResult run(Fixture fixture, JsonNode testCase) throws Exception;
}
