package dev.navil4j.hub;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** What {@code --model} names: a local checkpoint directory, or a Hugging Face repo id. */
public final class ModelSource {
    private ModelSource() {}

    public static Path resolve(String model, PrintStream progress) {
        Path p = Path.of(model);
        if (Files.isDirectory(p)) return p;
        throw new IllegalArgumentException(model + ": no such model directory");
    }
}
