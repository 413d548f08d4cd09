package dev.navil4j.models;

import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** config.json → family. Adding a family adds one line to {@link #FAMILIES}. */
public final class ModelRegistry {
    private static final List<ModelFamily> FAMILIES = new CopyOnWriteArrayList<>();

    static {
        // one line per family, e.g. FAMILIES.add(new dev.navil4j.models.internvl.InternVLFamily());
        register("dev.navil4j.models.internvl.InternVLFamily");
        register("dev.navil4j.models.vora.VoRAFamily");
        register("dev.navil4j.models.navil.NaViLFamily");
    }

    private ModelRegistry() {}

    /** Families are found by class name so that a family package can be added without touching others. */
    private static void register(String className) {
        try {
            FAMILIES.add((ModelFamily) Class.forName(className).getDeclaredConstructor().newInstance());
        } catch (ClassNotFoundException e) {
            // family not built into this jar
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create model family " + className, e);
        }
    }

    /**
     * Adds a family at run time (a family outside this jar, or a test double); families registered later are
     * asked after the built-in ones.
     */
    public static void register(ModelFamily family) {
        if (family == null) throw new IllegalArgumentException("family is null");
        FAMILIES.add(family);
    }

    public static List<ModelFamily> families() { return List.copyOf(FAMILIES); }

    /** The family that runs this checkpoint directory; a clear error when none does. */
    public static ModelFamily detect(Path modelDir) {
        Path cfg = modelDir.resolve("config.json");
        if (!Files.isDirectory(modelDir)) throw new WeightsException(modelDir + ": not a directory");
        if (!Files.isRegularFile(cfg)) throw new WeightsException(modelDir + ": not a model directory (no config.json)");
        Json.Obj config = Json.Obj.of(cfg);
        for (ModelFamily f : FAMILIES) if (f.accepts(config)) return f;
        throw new UnsupportedModelException(cfg + ": unsupported model (architectures " + config.node().path("architectures")
                + ", model_type \"" + config.node().path("model_type").asText("") + "\"); navil4j runs "
                + FAMILIES.stream().map(ModelFamily::name).toList());
    }

    /** A well-formed model directory whose architecture no family of this build runs. */
    public static final class UnsupportedModelException extends WeightsException {
        public UnsupportedModelException(String message) { super(message); }
    }

    public static VisionLanguageModel load(Path modelDir, LoadOptions options) {
        ModelFamily f = detect(modelDir);
        dev.navil4j.weights.Json.checkConfigFiles(modelDir);   // a broken config file is a load error naming it
        if (options.progress() == null) return f.load(modelDir, options);
        LastEvent last = new LastEvent(options.progress());
        VisionLanguageModel m = f.load(modelDir, options.withProgress(last));
        last.finish();
        return m;
    }

    /**
     * Forwards LOAD events and closes the stage: a checkpoint may hold tensors the model never takes (or a family may
     * report nothing), so the last event is made {@code done == total} here, once the model is built.
     */
    private static final class LastEvent implements dev.navil4j.ProgressListener {
        private final dev.navil4j.ProgressListener to;
        private dev.navil4j.ProgressEvent last;

        LastEvent(dev.navil4j.ProgressListener to) { this.to = to; }

        @Override
        public void onProgress(dev.navil4j.ProgressEvent e) {
            last = e;
            to.onProgress(e);
        }

        void finish() {
            if (last == null) to.report(dev.navil4j.ProgressEvent.Stage.LOAD, 1, 1, dev.navil4j.ProgressEvent.Unit.TENSORS, "loaded");
            else if (!last.finished()) to.report(last.stage(), last.total(), last.total(), last.unit(), "loaded");
        }
    }
}
