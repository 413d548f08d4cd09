package dev.navil4j;

import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.VisionLanguageModel;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Entry point of the library: loads a Hugging Face checkpoint directory (config.json, *.safetensors and
 * the tokenizer files) as a {@link ChatModel}. The family (InternVL3, VoRA, NaViL) is detected from
 * config.json; nothing else needs to be told.
 * <pre>{@code
 * try (ChatModel model = Navil4j.load(Path.of("InternVL3-1B"))) {
 *     ChatSession chat = model.newSession();
 *     System.out.println(chat.ask("Describe the image.", Media.image(Path.of("cat.jpg"))).text());
 * }
 * }</pre>
 */
public final class Navil4j {
    private Navil4j() {}

    /** Loads a checkpoint directory with default options (weights in their stored precision, full context). */
    public static ChatModel load(Path modelDir) {
        return load(modelDir, LoadOptions.defaults());
    }

    /**
     * Loads a checkpoint directory. Weights are memory-mapped, so loading is fast and the heap holds only
     * activations and the KV caches.
     *
     * @throws IllegalArgumentException when the directory does not exist
     * @throws dev.navil4j.weights.WeightsException when it is not a model directory, the architecture is not
     *         supported, or a weight file is missing or malformed (the message names the file)
     */
    public static ChatModel load(Path modelDir, LoadOptions options) {
        if (modelDir == null) throw new IllegalArgumentException("model directory is null");
        if (!Files.exists(modelDir)) throw new IllegalArgumentException("model directory not found: " + modelDir);
        long t0 = System.nanoTime();
        VisionLanguageModel m = ModelRegistry.load(modelDir, options == null ? LoadOptions.defaults() : options);
        return new ChatModel(m, System.nanoTime() - t0);
    }

    /**
     * Loads a checkpoint named as on the command line: a local directory, or a Hugging Face repo id
     * {@code "org/name"} / {@code "org/name@revision"} resolved through the HF cache (downloaded when missing, with
     * progress on stderr; HF_HUB_CACHE / HF_HOME, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE are honoured, also as
     * Java system properties of the same names).
     *
     * @throws dev.navil4j.hub.HubException when the repo cannot be resolved (the message says why and what to do)
     */
    public static ChatModel load(String model) { return load(model, LoadOptions.defaults()); }

    /**
     * As {@link #load(String)} with load options. With a progress listener in {@code options} a download reports
     * {@link ProgressEvent.Stage#DOWNLOAD} events to it (per file) instead of drawing its bar on stderr.
     */
    public static ChatModel load(String model, LoadOptions options) {
        ProgressListener listener = options == null ? ProgressListener.NONE : options.progressOrNone();
        java.io.PrintStream bar = listener == ProgressListener.NONE ? System.err : null;
        return load(dev.navil4j.hub.ModelSource.resolve(model, bar, listener), options);
    }

    /** Wraps a model that is already loaded (e.g. one built in code); closing the result closes it. */
    public static ChatModel wrap(VisionLanguageModel model) {
        if (model == null) throw new IllegalArgumentException("model is null");
        return new ChatModel(model, 0);
    }
}
