package dev.navil4j.models;

import dev.navil4j.weights.Json;

import java.nio.file.Path;

/**
 * One model family (a package under {@code dev.navil4j.models}). Registered once in {@link ModelRegistry};
 * nothing else in the engine switches on the family. A family that has fixture cases also implements
 * {@code dev.navil4j.verify.FixtureCases}.
 */
public interface ModelFamily {
    /** Short name: "internvl3", "vora", "navil". */
    String name();

    /** Whether this family runs the checkpoint whose config.json is given (by architectures / model_type). */
    boolean accepts(Json.Obj config);

    /** Loads the checkpoint directory. */
    VisionLanguageModel load(Path modelDir, LoadOptions options);
}
