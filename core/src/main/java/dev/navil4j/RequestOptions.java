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
 * @param presencePenalty   OpenAI's presence penalty over the generated tokens (0 = none)
 * @param frequencyPenalty  OpenAI's frequency penalty over the generated tokens (0 = none)
 * @param minP              min-p filter when sampling, in [0, 1] (0 = off)
 * @param topLogprobs       report log-probabilities: -1 or null = no, 0 = the chosen token's, 1..20 = also that
 *                          many alternatives (see {@link dev.navil4j.generate.TokenLogprob})
 * @param progress          receives the request's {@link ProgressEvent}s (media decode, vision encode, prefill);
 *                          null = none
 */
public record RequestOptions(Integer maxNewTokens, Boolean doSample, Float temperature, Float topP, Integer topK,
                             Long seed, Float repetitionPenalty, Integer maxTiles, Integer maxMediaTokens, List<String> stop,
                             Float presencePenalty, Float frequencyPenalty, Float minP, Integer topLogprobs,
                             ProgressListener progress) {
    private static final RequestOptions DEFAULTS = new RequestOptions(null, null, null, null, null, null, null, null, null, null);

    /** Without a progress listener. */
    public RequestOptions(Integer maxNewTokens, Boolean doSample, Float temperature, Float topP, Integer topK,
                          Long seed, Float repetitionPenalty, Integer maxTiles, Integer maxMediaTokens, List<String> stop,
                          Float presencePenalty, Float frequencyPenalty, Float minP, Integer topLogprobs) {
        this(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop,
                presencePenalty, frequencyPenalty, minP, topLogprobs, null);
    }

    /** Without the OpenAI penalties, min-p and log-probabilities. */
    public RequestOptions(Integer maxNewTokens, Boolean doSample, Float temperature, Float topP, Integer topK,
                          Long seed, Float repetitionPenalty, Integer maxTiles, Integer maxMediaTokens, List<String> stop) {
        this(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, null, null, null, null);
    }

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
        if (presencePenalty != null && !(presencePenalty >= -2 && presencePenalty <= 2)) throw new IllegalArgumentException("presence penalty must be in [-2, 2], got " + presencePenalty);
        if (frequencyPenalty != null && !(frequencyPenalty >= -2 && frequencyPenalty <= 2)) throw new IllegalArgumentException("frequency penalty must be in [-2, 2], got " + frequencyPenalty);
        if (minP != null && !(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        if (topLogprobs != null && (topLogprobs < -1 || topLogprobs > GenerationConfig.MAX_TOP_LOGPROBS))
            throw new IllegalArgumentException("top logprobs must be in -1.." + GenerationConfig.MAX_TOP_LOGPROBS + ", got " + topLogprobs);
        if (stop != null) {
            stop = List.copyOf(stop);
            for (String x : stop) if (x.isEmpty()) throw new IllegalArgumentException("a stop string may not be empty");
        }
    }

    /** Nothing overridden. */
    public static RequestOptions defaults() { return DEFAULTS; }

    /** These options with this max new tokens. */
    public RequestOptions withMaxNewTokens(int n) { return new RequestOptions(n, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with this sampling on or off. */
    public RequestOptions withDoSample(boolean sample) { return new RequestOptions(maxNewTokens, sample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with this temperature. */
    public RequestOptions withTemperature(float t) { return new RequestOptions(maxNewTokens, doSample, t, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with this top-p. */
    public RequestOptions withTopP(float p) { return new RequestOptions(maxNewTokens, doSample, temperature, p, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with this top-k. */
    public RequestOptions withTopK(int k) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, k, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with this seed. */
    public RequestOptions withSeed(long s) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, s, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with this repetition penalty. */
    public RequestOptions withRepetitionPenalty(float p) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, p, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with this max tiles per image. */
    public RequestOptions withMaxTiles(int n) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, n, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with this media token budget. */
    public RequestOptions withMaxMediaTokens(int n) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, n, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with these stop strings. */
    public RequestOptions withStop(List<String> strings) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, strings, presencePenalty, frequencyPenalty, minP, topLogprobs, progress); }

    /** These options with OpenAI's presence and frequency penalties. */
    public RequestOptions withPenalties(float presence, float frequency) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presence, frequency, minP, topLogprobs, progress); }

    /** These options with this min-p. */
    public RequestOptions withMinP(float p) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, p, topLogprobs, progress); }

    /** These options reporting log-probabilities with {@code k} alternatives per token (-1 = none). */
    public RequestOptions withTopLogprobs(int k) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, k, progress); }

    /** These options reporting the request's progress to {@code listener} (null = none). */
    public RequestOptions withProgress(ProgressListener listener) { return new RequestOptions(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens, stop, presencePenalty, frequencyPenalty, minP, topLogprobs, listener); }

    /** These options with every field that {@code over} sets replaced by its value. */
    public RequestOptions overriddenBy(RequestOptions over) {
        if (over == null) return this;
        return new RequestOptions(pick(over.maxNewTokens, maxNewTokens), pick(over.doSample, doSample),
                pick(over.temperature, temperature), pick(over.topP, topP), pick(over.topK, topK), pick(over.seed, seed),
                pick(over.repetitionPenalty, repetitionPenalty), pick(over.maxTiles, maxTiles), pick(over.maxMediaTokens, maxMediaTokens),
                pick(over.stop, stop), pick(over.presencePenalty, presencePenalty), pick(over.frequencyPenalty, frequencyPenalty),
                pick(over.minP, minP), pick(over.topLogprobs, topLogprobs), pick(over.progress, progress));
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
        if (presencePenalty != null || frequencyPenalty != null)
            c = c.withPenalties(presencePenalty != null ? presencePenalty : base.presencePenalty(),
                    frequencyPenalty != null ? frequencyPenalty : base.frequencyPenalty());
        if (minP != null) c = c.withMinP(minP);
        if (topLogprobs != null) c = c.withTopLogprobs(topLogprobs);
        return c;
    }

    /** The media limits the family's {@code prepare} receives. */
    public Conversation.Limits limits() {
        return new Conversation.Limits(maxTiles == null ? 0 : maxTiles, maxMediaTokens == null ? 0 : maxMediaTokens);
    }

    private static <T> T pick(T a, T b) { return a != null ? a : b; }
}
