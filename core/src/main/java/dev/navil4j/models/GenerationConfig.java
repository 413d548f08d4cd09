package dev.navil4j.models;

import java.util.List;
import java.util.Set;

/**
 * Decoding settings. {@code temperature} 0 (or doSample false) = greedy.
 *
 * @param penalizePrompt whether the repetition penalty also covers prompt ids (HF does when the prompt
 *                       is given as input_ids; not when it enters as embeddings, as in VoRA)
 * @param stopIds        token ids that end generation (kept in the output ids, as transformers does)
 * @param stopStrings    strings that end generation; the text stops right before the first one (never streamed)
 * @param presencePenalty  OpenAI's presence penalty: subtracted once from the logit of every token generated so far
 * @param frequencyPenalty OpenAI's frequency penalty: subtracted from a token's logit once per time it was generated
 * @param minP             min-p filter (sampling only): tokens whose probability is below minP × the top
 *                         probability are dropped; 0 = off
 * @param topLogprobs      log-probabilities to report per generated token: -1 = none, 0 = the chosen token's only,
 *                         k = also the k most likely alternatives (at most 20)
 */
public record GenerationConfig(int maxNewTokens, boolean doSample, float temperature, float topP, int topK,
                               long seed, float repetitionPenalty, boolean penalizePrompt, Set<Integer> stopIds,
                               List<String> stopStrings, float presencePenalty, float frequencyPenalty, float minP,
                               int topLogprobs) {
    /** The most alternatives {@code topLogprobs} may ask for (OpenAI's limit). */
    public static final int MAX_TOP_LOGPROBS = 20;

    public GenerationConfig {
        if (maxNewTokens < 0) throw new IllegalArgumentException("max_new_tokens must be >= 0, got " + maxNewTokens);
        if (!Float.isFinite(presencePenalty)) throw new IllegalArgumentException("presence penalty must be finite, got " + presencePenalty);
        if (!Float.isFinite(frequencyPenalty)) throw new IllegalArgumentException("frequency penalty must be finite, got " + frequencyPenalty);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        if (topLogprobs < -1 || topLogprobs > MAX_TOP_LOGPROBS)
            throw new IllegalArgumentException("top logprobs must be in -1.." + MAX_TOP_LOGPROBS + ", got " + topLogprobs);
        stopIds = stopIds == null ? Set.of() : Set.copyOf(stopIds);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("a stop string may not be empty");
    }

    /** Without the OpenAI penalties, min-p and log-probabilities. */
    public GenerationConfig(int maxNewTokens, boolean doSample, float temperature, float topP, int topK,
                            long seed, float repetitionPenalty, boolean penalizePrompt, Set<Integer> stopIds,
                            List<String> stopStrings) {
        this(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, stopStrings, 0f, 0f, 0f, -1);
    }

    public GenerationConfig(int maxNewTokens, boolean doSample, float temperature, float topP, int topK,
                            long seed, float repetitionPenalty, boolean penalizePrompt, Set<Integer> stopIds) {
        this(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, List.of());
    }

    public static GenerationConfig greedy(int maxNewTokens, Set<Integer> stopIds) {
        return new GenerationConfig(maxNewTokens, false, 1f, 1f, 0, 0, 1f, true, stopIds);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, stopStrings, presencePenalty, frequencyPenalty, minP, topLogprobs);
    }

    public GenerationConfig withSampling(boolean sample, float temp, float p, int k, long s) {
        return new GenerationConfig(maxNewTokens, sample, temp, p, k, s, repetitionPenalty, penalizePrompt, stopIds, stopStrings, presencePenalty, frequencyPenalty, minP, topLogprobs);
    }

    public GenerationConfig withRepetitionPenalty(float penalty) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topP, topK, seed, penalty, penalizePrompt, stopIds, stopStrings, presencePenalty, frequencyPenalty, minP, topLogprobs);
    }

    public GenerationConfig withStopStrings(List<String> stops) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, stops, presencePenalty, frequencyPenalty, minP, topLogprobs);
    }

    /** With OpenAI's presence and frequency penalties. */
    public GenerationConfig withPenalties(float presence, float frequency) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, stopStrings, presence, frequency, minP, topLogprobs);
    }

    public GenerationConfig withMinP(float p) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, stopStrings, presencePenalty, frequencyPenalty, p, topLogprobs);
    }

    /** -1 = no log-probabilities; 0..20 = the chosen token's plus this many alternatives. */
    public GenerationConfig withTopLogprobs(int k) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, stopStrings, presencePenalty, frequencyPenalty, minP, k);
    }
}
