package dev.navil4j;

import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;

import java.util.List;

/**
 * Per-request settings that override the model's defaults (its reference {@code chat()} generation
 * config); every field is optional (null = not set). Immutable; build with the {@code with…} methods:
 * <pre>{@code RequestOptions.defaults().withMaxNewTokens(64).withTemperature(0.7f).withSeed(42)}</pre>
 * <p>Sampling is on when {@code doSample} is true, or, when it is not set, when a temperature above 0,
 * a top-p or a top-k is given; a temperature of 0 means greedy. With sampling on and no seed, the model's
 * default seed is used, so runs are reproducible.
 *
 * @param maxNewTokens      the most tokens to generate (the stop token counts)
 * @param doSample          sample instead of taking the argmax
 * @param temperature       softmax temperature (> 0 samples, 0 = greedy)
 * @param topP              nucleus sampling mass, in (0, 1]
 * @param topK              keep the k most likely tokens (0 = all)
 * @param seed              sampling seed
 * @param repetitionPenalty transformers' repetition penalty (1 = none)
 * @param maxTiles          the most tiles an image is split into (InternVL {@code max_num}); 0 = the family's default
 * @param maxMediaTokens    the most prompt positions the media of the conversation may fill; 0 = no cap
 * @param stop              stop strings: the answer ends right before the first one (not included, never streamed)
 */
public record RequestOptions(Integer maxNewTokens, Boolean doSample, Float temperature, Float topP, Integer topK,
                             Long seed, Float repetitionPenalty, Integer maxTiles, Integer maxMediaTokens, List<String> stop) {
    private static final RequestOptions DEFAULTS = new RequestOptions(null, null, null, null, null, null, null, null, null, null);

    /** Without stop strings. */
    public RequestOptions(Integer maxNewTokens, Boolean doSample, Float temperature, Float topP, Integer topK,
                          Long seed, Float repetitionPenalty, Integer maxTiles, Integer maxMediaTokens) {
        this(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, null);
    }

    /** Checks every value that is set (a clear message names the bad one). */
    public RequestOptions {
        if (maxNewTokens != null && maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        if (temperature != null && !(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topP != null && !(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (topK != null && topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (repetitionPenalty != null && !(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition penalty must be > 0, got " + repetitionPenalty);
        if (maxTiles != null && maxTiles < 0) throw new IllegalArgumentException("max tiles must be >= 0, got " + maxTiles);
        if (maxMediaTokens != null && maxMediaTokens < 0) throw new IllegalArgumentException("media token budget must be >= 0, got " + maxMediaTokens);
        if (stop != null) {
            stop = List.copyOf(stop);
            for (String x : stop) if (x.isEmpty()) throw new IllegalArgumentException("a stop string may not be empty");
        }
    }

    /** Nothing overridden. */
    public static RequestOptions defaults() { return DEFAULTS; }

    /** These options with this max new tokens. */
    public RequestOptions withMaxNewTokens(int n) { return new RequestOptions(n, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop); }

    /** These options with this sampling on or off. */
    public RequestOptions withDoSample(boolean sample) { return new RequestOptions(maxNewTokens, sample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop); }

    /** These options with this temperature. */
    public RequestOptions withTemperature(float t) { return new RequestOptions(maxNewTokens, doSample, t, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop); }

    /** These options with this top-p. */
    public RequestOptions withTopP(float p) { return new RequestOptions(maxNewTokens, doSample, temperature, p, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop); }

    /** These options with this top-k. */
    public RequestOptions withTopK(int k) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, k, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop); }

    /** These options with this seed. */
    public RequestOptions withSeed(long s) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, s, repetitionPenalty, maxTiles, maxMediaTokens, stop); }

    /** These options with this repetition penalty. */
    public RequestOptions withRepetitionPenalty(float p) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, p, maxTiles, maxMediaTokens, stop); }

    /** These options with this max tiles per image. */
    public RequestOptions withMaxTiles(int n) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, n, maxMediaTokens, stop); }

    /** These options with this media token budget. */
    public RequestOptions withMaxMediaTokens(int n) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, n, stop); }

    /** These options with these stop strings. */
    public RequestOptions withStop(List<String> strings) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, strings); }

    /** These options with every field that {@code over} sets replaced by its value. */
    public RequestOptions overriddenBy(RequestOptions over) {
        if (over == null) return this;
        return new RequestOptions(pick(over.maxNewTokens, maxNewTokens), pick(over.doSample, doSample),
                pick(over.temperature, temperature), pick(over.topP, topP), pick(over.topK, topK), pick(over.seed, seed),
                pick(over.repetitionPenalty, repetitionPenalty), pick(over.maxTiles, maxTiles), pick(over.maxMediaTokens, maxMediaTokens),
                pick(over.stop, stop));
    }

    /** The generation config: {@code base} (the model's defaults, stop ids included) with these overrides. */
    public GenerationConfig applyTo(GenerationConfig base) {
        GenerationConfig c = base;
        if (maxNewTokens != null) c = c.withMaxNewTokens(maxNewTokens);
        boolean sample = doSample != null ? doSample
                : temperature != null ? temperature > 0
                : topP != null || topK != null || base.doSample();
        float t = temperature != null && temperature > 0 ? temperature : base.temperature();
        c = c.withSampling(sample, t, topP != null ? topP : base.topP(), topK != null ? topK : base.topK(),
                seed != null ? seed : base.seed());
        if (repetitionPenalty != null) c = c.withRepetitionPenalty(repetitionPenalty);
        if (stop != null) c = c.withStopStrings(stop);
        return c;
    }

    /** The media limits the family's {@code prepare} receives. */
    public Conversation.Limits limits() {
        return new Conversation.Limits(maxTiles == null ? 0 : maxTiles, maxMediaTokens == null ? 0 : maxMediaTokens);
    }

    private static <T> T pick(T a, T b) { return a != null ? a : b; }
}
