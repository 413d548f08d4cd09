package dev.navil4j.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Fixture;
import dev.navil4j.weights.Json;

import java.nio.file.Path;

/**
 * One model family (a package under {@code dev.navil4j.models}). Registered once in {@link ModelRegistry};
 * nothing else in the engine switches on the family.
 */
public interface ModelFamily {
    /** Short name: "internvl3", "vora", "navil". */
    String name();

    /** Whether this family runs the checkpoint whose config.json is given (by architectures / model_type). */
    boolean accepts(Json.Obj config);

    /** Loads the checkpoint directory. */
    VisionLanguageModel load(Path modelDir, LoadOptions options);

    /**
     * Runs a model-level fixture case of this family (kinds vision, forward, generate, batch_generate;
     * whatever the family's fixtures use). Returns SKIP for kinds it does not implement.
     */
    CaseResult verify(Fixture fixture, JsonNode testCase) throws Exception;
}
