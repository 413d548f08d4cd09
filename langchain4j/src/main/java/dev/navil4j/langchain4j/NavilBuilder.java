package dev.navil4j.langchain4j;

import dev.navil4j.Navil4j;
import dev.navil4j.ProgressListener;
import dev.navil4j.RequestOptions;
import dev.navil4j.models.LoadOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The settings both adapters are built from ({@link NavilChatModel#builder()}, {@link NavilStreamingChatModel#builder()}):
 * which model (a checkpoint directory, a Hugging Face repo id, or an already loaded {@code dev.navil4j.ChatModel}), how
 * to load it, and the request defaults (a LangChain4j request's own parameters override them).
 *
 * @param <B> the concrete builder (for chaining)
 */
public abstract class NavilBuilder<B extends NavilBuilder<B>> {
    private Path modelPath;
    private String model;
    private dev.navil4j.ChatModel loaded;
    private String modelName;
    private LoadOptions load = LoadOptions.defaults();
    private RequestOptions request = RequestOptions.defaults();
    private ProgressListener progress;
    private boolean allowRemoteImages;
    private long maxImageBytes = ImageResolver.DEFAULT_MAX_BYTES;

    NavilBuilder() {}

    @SuppressWarnings("unchecked")
    private B self() { return (B) this; }

    /** A checkpoint directory (config.json, *.safetensors, tokenizer files); the adapter loads it and closes it. */
    public B modelPath(Path dir) { this.modelPath = dir; return self(); }

    /**
     * A local directory or a Hugging Face repo id {@code "org/name"} / {@code "org/name@revision"} (downloaded into the
     * HF cache when missing, with progress on stderr); the adapter loads it and closes it.
     */
    public B model(String dirOrHubId) { this.model = dirOrHubId; return self(); }

    /** A model the application loaded itself ({@code Navil4j.load}); the adapter uses it and never closes it. */
    public B chatModel(dev.navil4j.ChatModel model) { this.loaded = model; return self(); }

    /** The name reported in responses and request parameters (default: the directory name, the repo id, or the family). */
    public B modelName(String name) { this.modelName = name; return self(); }

    /** LLM linear-layer weights: "auto" (stored), "f32", "bf16", "f16", "q8", "q4" (as {@code --weights}). */
    public B weights(String format) { load = load.withWeights(format); return self(); }

    /** Caps the context length (0 = the model's own). */
    public B maxContext(int tokens) {
        load = new LoadOptions(load.weights(), tokens, load.kvCacheBf16(), load.mergeLora(), load.configOverride(), load.progress());
        return self();
    }

    /** Keeps the KV cache in bf16 (half the memory; attention still computes in f32). */
    public B kvCacheBf16(boolean bf16) { load = load.withKvCacheBf16(bf16); return self(); }

    /** The most tiles an image is split into (InternVL's {@code max_num}; default the model's). */
    public B maxTiles(int tiles) { request = request.withMaxTiles(tiles); return self(); }

    /** Refuses requests whose images take more than this many prompt positions. */
    public B maxMediaTokens(int tokens) { request = request.withMaxMediaTokens(tokens); return self(); }

    /** Default max output tokens (a request's maxOutputTokens overrides it). */
    public B maxNewTokens(int tokens) { request = request.withMaxNewTokens(tokens); return self(); }

    /** Default temperature (0 = greedy; unset = the model's reference decoding, greedy for InternVL3 and NaViL). */
    public B temperature(double t) { request = request.withTemperature((float) t); return self(); }

    public B topP(double p) { request = request.withTopP((float) p); return self(); }

    public B topK(int k) { request = request.withTopK(k); return self(); }

    /** Sampling seed (with sampling on and no seed, the model's default seed keeps runs reproducible). */
    public B seed(long seed) { request = request.withSeed(seed); return self(); }

    public B repetitionPenalty(double p) { request = request.withRepetitionPenalty((float) p); return self(); }

    public B stopSequences(List<String> stop) { request = request.withStop(stop); return self(); }

    /** Receives load progress (when the adapter loads the model) and each request's media/prefill progress. */
    public B progress(ProgressListener listener) { this.progress = listener; return self(); }

    /** Lets {@code http(s)} image URLs be fetched (off by default: only {@code data:} and {@code file:} URLs and base64 data). */
    public B allowRemoteImages(boolean allow) { this.allowRemoteImages = allow; return self(); }

    /** The largest image accepted, in bytes (default 20 MiB). */
    public B maxImageBytes(long bytes) { this.maxImageBytes = bytes; return self(); }

    /** Loads the model (unless one was given) and the request settings shared by both adapters. */
    NavilEngine engine() {
        int sources = (modelPath != null ? 1 : 0) + (model != null ? 1 : 0) + (loaded != null ? 1 : 0);
        if (sources != 1) throw new IllegalArgumentException("set exactly one of modelPath(...), model(...) or chatModel(...)");
        RequestOptions defaults = progress == null ? request : request.withProgress(progress);
        ImageResolver images = new ImageResolver(allowRemoteImages, maxImageBytes);
        if (loaded != null) return new NavilEngine(loaded, false, modelName != null ? modelName : loaded.family(), defaults, images);
        LoadOptions lo = progress == null ? load : load.withProgress(progress);
        dev.navil4j.ChatModel m;
        String name;
        if (modelPath != null) {
            m = Navil4j.load(modelPath, lo);
            name = String.valueOf(modelPath.toAbsolutePath().normalize().getFileName());
        } else {
            m = Files.isDirectory(Path.of(model)) ? Navil4j.load(Path.of(model), lo) : Navil4j.load(model, lo);
            name = Files.isDirectory(Path.of(model)) ? String.valueOf(Path.of(model).toAbsolutePath().normalize().getFileName()) : model;
        }
        return new NavilEngine(m, true, modelName != null ? modelName : name, defaults, images);
    }
}
