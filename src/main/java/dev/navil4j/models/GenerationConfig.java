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
 */
public record GenerationConfig(int maxNewTokens, boolean doSample, float temperature, float topP, int topK,
                               long seed, float repetitionPenalty, boolean penalizePrompt, Set<Integer> stopIds,
                               List<String> stopStrings) {
    public GenerationConfig {
        if (maxNewTokens < 0) throw new IllegalArgumentException("max_new_tokens must be >= 0, got " + maxNewTokens);
        stopIds = stopIds == null ? Set.of() : Set.copyOf(stopIds);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("a stop string may not be empty");
    }

    public GenerationConfig(int maxNewTokens, boolean doSample, float temperature, float topP, int topK,
                            long seed, float repetitionPenalty, boolean penalizePrompt, Set<Integer> stopIds) {
        this(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, List.of());
    }

    public static GenerationConfig greedy(int maxNewTokens, Set<Integer> stopIds) {
        return new GenerationConfig(maxNewTokens, false, 1f, 1f, 0, 0, 1f, true, stopIds);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, stopStrings);
    }

    public GenerationConfig withSampling(boolean sample, float temp, float p, int k, long s) {
        return new GenerationConfig(maxNewTokens, sample, temp, p, k, s, repetitionPenalty, penalizePrompt, stopIds, stopStrings);
    }

    public GenerationConfig withRepetitionPenalty(float penalty) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topP, topK, seed, penalty, penalizePrompt, stopIds, stopStrings);
    }

    public GenerationConfig withStopStrings(List<String> stops) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds, stops);
    }
}
