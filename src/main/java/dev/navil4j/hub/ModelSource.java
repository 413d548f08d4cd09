package dev.navil4j.hub;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** What {@code --model} names: a local checkpoint directory, or a Hugging Face repo id resolved through the HF cache. */
public final class ModelSource {
    private ModelSource() {}

    /** A directory as is; "org/name[@revision]" through {@link HfHub} with the environment's settings. */
    public static Path resolve(String model, PrintStream progress) {
        Path p = Path.of(model);
        if (Files.isDirectory(p)) return p;
        if (HfHub.isRepoId(model)) return new HfHub(HfHub.Settings.fromEnvironment(), progress).snapshot(model);
        throw new IllegalArgumentException(model + ": neither a model directory nor a hub repo id (org/name)");
    }
}
