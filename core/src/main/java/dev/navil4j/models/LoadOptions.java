package dev.navil4j.models;

/**
 * How to load a checkpoint.
 *
 * @param weights      "auto" (stored precision), "f32", "bf16", "q8", "q4" for the LLM's linear layers
 * @param maxContext   cap on the context length (0 = the model's own maximum)
 * @param kvCacheBf16  keep the KV cache in bf16 instead of f32
 * @param mergeLora    merge LoRA weights at load (false = apply them on the fly)
 * @param configOverride JSON object merged over config.json (fixtures use it for ablations); may be null
 * @param progress     receives {@link dev.navil4j.ProgressEvent.Stage#LOAD} events while the checkpoint loads; null = none
 */
public record LoadOptions(String weights, int maxContext, boolean kvCacheBf16, boolean mergeLora,
                          com.fasterxml.jackson.databind.JsonNode configOverride, dev.navil4j.ProgressListener progress) {
    public static LoadOptions defaults() { return new LoadOptions("auto", 0, false, true, null); }

    /** Without a progress listener. */
    public LoadOptions(String weights, int maxContext, boolean kvCacheBf16, boolean mergeLora,
                       com.fasterxml.jackson.databind.JsonNode configOverride) {
        this(weights, maxContext, kvCacheBf16, mergeLora, configOverride, null);
    }

    /** These options reporting load progress to {@code listener} (null = none). */
    public LoadOptions withProgress(dev.navil4j.ProgressListener listener) {
        return new LoadOptions(weights, maxContext, kvCacheBf16, mergeLora, configOverride, listener);
    }

    /** The progress listener, {@link dev.navil4j.ProgressListener#NONE} when none is set. */
    public dev.navil4j.ProgressListener progressOrNone() { return dev.navil4j.ProgressListener.orNone(progress); }

    public LoadOptions withConfigOverride(com.fasterxml.jackson.databind.JsonNode o) {
        return new LoadOptions(weights, maxContext, kvCacheBf16, mergeLora, o, progress);
    }

    public LoadOptions withMergeLora(boolean merge) {
        return new LoadOptions(weights, maxContext, kvCacheBf16, merge, configOverride, progress);
    }

    public LoadOptions withWeights(String w) {
        return new LoadOptions(w, maxContext, kvCacheBf16, mergeLora, configOverride, progress);
    }

    public LoadOptions withKvCacheBf16(boolean bf16) {
        return new LoadOptions(weights, maxContext, bf16, mergeLora, configOverride, progress);
    }
}
