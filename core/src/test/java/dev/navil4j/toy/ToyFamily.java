package dev.navil4j.toy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelFamily;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.weights.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Registers {@link ToyModel} for config.json files whose architectures name "ToyChatModel" (tests only). */
public final class ToyFamily implements ModelFamily {
    private static boolean registered;

    /** Registers the family once per JVM. */
    public static synchronized void register() {
        if (!registered) ModelRegistry.register(new ToyFamily());
        registered = true;
    }

    /** Writes a toy model directory. */
    public static Path writeModel(Path dir, int maxContext) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"ToyChatModel\"], \"max_context\": " + maxContext
                    + ", \"tokens_per_tile\": 2, \"default_tiles\": 3, \"max_new_tokens\": 200}");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public String name() { return "toy"; }

    @Override
    public boolean accepts(Json.Obj config) {
        for (JsonNode a : config.node().path("architectures")) if (a.asText().equals("ToyChatModel")) return true;
        return false;
    }

    @Override
    public VisionLanguageModel load(Path modelDir, LoadOptions options) {
        Json.Obj c = Json.Obj.of(modelDir.resolve("config.json"));
        int ctx = c.integer("max_context");
        if (options.maxContext() > 0) ctx = Math.min(ctx, options.maxContext());
        return new ToyModel(ctx, c.integer("tokens_per_tile"), c.integer("default_tiles"), c.integer("max_new_tokens"));
    }

}
