package dev.navil4j.hub;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code --model} (and {@code Navil4j.load(String)}) names: a local checkpoint directory (or file), or a Hugging
 * Face repo id {@code org/name[@revision]} resolved through the HF cache — the same resolution for every command.
 */
public final class ModelSource {
    private ModelSource() {}

    /** A local path as is; "org/name[@revision]" through {@link HfHub} with the environment's settings. */
    public static Path resolve(String model, PrintStream progress) {
        return resolve(model, HfHub.Settings.fromEnvironment(), progress);
    }

    /**
     * The config.json of what {@code --model}-style {@code model} names: {@code DIR/config.json}, a JSON file as is, or
     * a repo id's config.json alone through the HF cache (no weights are downloaded).
     */
    public static Path resolveConfig(String model, PrintStream progress) {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("no config given (a directory, a config.json or org/name[@revision])");
        Path p = Path.of(model);
        if (Files.isDirectory(p)) return p.resolve("config.json");
        if (Files.exists(p)) return p;
        if (!HfHub.isRepoId(model))
            throw new IllegalArgumentException("config not found: " + model + " (nor is it a hub repo id org/name[@revision])");
        try {
            return new HfHub(HfHub.Settings.fromEnvironment(), progress).snapshot(model, f -> false).resolve("config.json");
        } catch (HubException e) {
            throw new HubException("no local directory or file " + model + ", and as a hub repo id: " + e.getMessage(), e);
        }
    }

    /**
     * A local path as is (an existing one always wins over a repo id of the same spelling); else a repo id through
     * {@link HfHub} with {@code settings} (cache, endpoint, token, offline), download progress on {@code progress}.
     */
    public static Path resolve(String model, HfHub.Settings settings, PrintStream progress) {
        return resolve(model, settings, progress, null);
    }

    /** As {@link #resolve(String, PrintStream)}, download progress also as events for {@code listener} (null = none). */
    public static Path resolve(String model, PrintStream progress, dev.navil4j.ProgressListener listener) {
        return resolve(model, HfHub.Settings.fromEnvironment(), progress, listener);
    }

    /** As {@link #resolve(String, HfHub.Settings, PrintStream)}, download progress also for {@code listener}. */
    public static Path resolve(String model, HfHub.Settings settings, PrintStream progress,
                               dev.navil4j.ProgressListener listener) {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("no model given (a directory or org/name[@revision])");
        Path p = Path.of(model);
        if (Files.exists(p)) return p;
        if (!HfHub.isRepoId(model))
            throw new IllegalArgumentException("model directory not found: " + model + " (nor is it a hub repo id org/name[@revision])");
        try {
            return new HfHub(settings, progress, listener, java.time.Duration.ofSeconds(60)).snapshot(model);
        } catch (HubException e) {
            throw new HubException("no local directory " + model + ", and as a hub repo id: " + e.getMessage(), e);
        }
    }
}
