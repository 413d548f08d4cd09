package dev.navil4j.generate;

import java.util.Set;

/**
 * Decoding settings. {@code temperature} 0 (or doSample false) = greedy.
 *
 * @param penalizePrompt whether the repetition penalty also covers prompt ids (HF does when the prompt
 *                       is given as input_ids; not when it enters as embeddings, as in VoRA)
 */
public record GenerationConfig(int maxNewTokens, boolean doSample, float temperature, float topP, int topK,
                               long seed, float repetitionPenalty, boolean penalizePrompt, Set<Integer> stopIds) {
    public static GenerationConfig greedy(int maxNewTokens, Set<Integer> stopIds) {
        return new GenerationConfig(maxNewTokens, false, 1f, 1f, 0, 0, 1f, true, stopIds);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, doSample, temperature, topP, topK, seed, repetitionPenalty, penalizePrompt, stopIds);
    }

    public GenerationConfig withSampling(boolean sample, float temp, float p, int k, long s) {
        return new GenerationConfig(maxNewTokens, sample, temp, p, k, s, repetitionPenalty, penalizePrompt, stopIds);
    }

    public GenerationConfig withRepetitionPenalty(float penalty) {
        return new GenerationConfig(maxNewTokens, doSample, temperature, topP, topK, seed, penalty, penalizePrompt, stopIds);
    }
}
