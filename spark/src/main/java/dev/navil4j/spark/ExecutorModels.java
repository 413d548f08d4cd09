package dev.navil4j.spark;

import dev.navil4j.ChatModel;
import dev.navil4j.Navil4j;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.tensor.Parallel;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models of this executor JVM: each checkpoint is loaded once, on the first task that needs it, and shared by
 * every later task of the executor (a {@link ChatModel} is thread-safe; its weights are memory-mapped and its
 * image-feature cache is shared, so a photo that recurs in the job is encoded once per executor). Models stay loaded
 * until the JVM ends, as a broadcast variable would.
 */
public final class ExecutorModels {
    private static final ConcurrentHashMap<String, ChatModel> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ExecutorModels() {}

    /**
     * The model for these options, loaded on first use. {@code threads} sizes the engine's compute team when the
     * model is loaded (the team is per JVM; a task that finds it busy computes on its own thread).
     */
    static ChatModel get(BatchOptions o, int threads, BatchMetrics metrics) {
        String key = o.model() + "|" + o.weights();
        return MODELS.computeIfAbsent(key, k -> {
            if (threads != Parallel.threads()) Parallel.setThreads(threads);
            LOADS.incrementAndGet();
            long t0 = System.nanoTime();
            ChatModel m = Navil4j.load(ModelLocator.localize(o.model()), LoadOptions.defaults().withWeights(o.weights()));
            metrics.loaded((System.nanoTime() - t0) / 1_000_000);
            return m;
        });
    }

    /** How many times a model was loaded in this JVM (tests: a lost executor's retry loads again). */
    public static int loads() { return LOADS.get(); }

    /**
     * Forgets every model, as a lost executor does: the next task loads again. Models are not closed here, since a
     * task still running on another thread may be using one; they are released when no task holds them.
     */
    static void forgetAll() { MODELS.clear(); }
}
