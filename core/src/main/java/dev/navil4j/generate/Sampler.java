package dev.navil4j.generate;

import dev.navil4j.models.GenerationConfig;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Next-token choice with the logits processors of transformers' generate(), applied in its order:
 * repetition penalty, then temperature, top-k, top-p, then sampling (or argmax when greedy). OpenAI's presence and
 * frequency penalties apply with the repetition penalty, before temperature, and min-p after temperature before
 * top-k (vLLM's order: vllm/v1/sample/sampler.py applies penalties, temperature, min-p, then top-k/top-p).
 */
public final class Sampler {
    private final GenerationConfig config;
    private final SplittableRandom random;

    public Sampler(GenerationConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    /**
     * Picks the next id. {@code seen} lists the ids the penalty covers (prompt ids when the config penalizes
     * them, plus generated ids); logits are modified in place.
     */
    public int next(float[] logits, int[] seen, int seenCount) {
        return next(logits, seen, seenCount, seen, 0);
    }

    /**
     * As {@link #next(float[], int[], int)}; {@code generated} (the first {@code generatedCount}) are the ids
     * generated so far, which the presence and frequency penalties cover (OpenAI: the completion so far, not the prompt).
     */
    public int next(float[] logits, int[] seen, int seenCount, int[] generated, int generatedCount) {
        float penalty = config.repetitionPenalty();
        if (penalty != 1f) applyRepetitionPenalty(logits, seen, seenCount, penalty);
        if (config.presencePenalty() != 0f || config.frequencyPenalty() != 0f)
            applyPresenceFrequency(logits, generated, generatedCount, config.presencePenalty(), config.frequencyPenalty());
        if (!config.doSample() || config.temperature() <= 0f) return argmax(logits);
        int n = logits.length;
        float invT = 1f / config.temperature();
        Integer[] order = null;
        float[] scaled = new float[n];
        for (int i = 0; i < n; i++) scaled[i] = logits[i] * invT;
        if (config.minP() > 0f) applyMinP(scaled, config.minP());
        // top-k: keep the k largest (ties at the threshold kept, as torch.topk + '<' masking does)
        if (config.topK() > 0 && config.topK() < n) {
            float[] sorted = scaled.clone();
            Arrays.sort(sorted);
            float kth = sorted[n - config.topK()];
            for (int i = 0; i < n; i++) if (scaled[i] < kth) scaled[i] = Float.NEGATIVE_INFINITY;
        }
        double[] probs = softmax(scaled);
        if (config.topP() < 1f) {
            order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            final double[] p = probs;
            Arrays.sort(order, (a, b) -> Double.compare(p[a], p[b])); // ascending, as HF TopPLogitsWarper
            double cum = 0;
            boolean[] drop = new boolean[n];
            for (int r = 0; r < n; r++) {
                cum += p[order[r]];
                // HF removes tokens whose ascending cumulative prob <= 1 - top_p, always keeping the last one
                if (cum <= 1 - config.topP() && r < n - 1) drop[order[r]] = true;
            }
            for (int i = 0; i < n; i++) if (drop[i]) scaled[i] = Float.NEGATIVE_INFINITY;
            probs = softmax(scaled);
        }
        double u = random.nextDouble(), acc = 0;
        int last = -1;
        for (int i = 0; i < n; i++) {
            if (probs[i] <= 0) continue;
            acc += probs[i];
            last = i;
            if (u < acc) return i;
        }
        return last >= 0 ? last : argmax(logits);
    }

    /** transformers RepetitionPenaltyLogitsProcessor: negative logits × p, positive ÷ p, once per distinct id. */
    public static void applyRepetitionPenalty(float[] logits, int[] seen, int count, float penalty) {
        boolean[] done = new boolean[logits.length];
        for (int i = 0; i < count; i++) {
            int id = seen[i];
            if (id < 0 || id >= logits.length || done[id]) continue;
            done[id] = true;
            float l = logits[id];
            logits[id] = l < 0 ? l * penalty : l / penalty;
        }
    }

    /**
     * OpenAI's penalties: {@code logit[j] -= count[j] * frequency + (count[j] > 0 ? presence : 0)}, count[j] being
     * how often j was generated (platform.openai.com/docs/advanced-usage, "frequency and presence penalties").
     */
    public static void applyPresenceFrequency(float[] logits, int[] generated, int count, float presence, float frequency) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < count; i++) {
            int id = generated[i];
            if (id >= 0 && id < logits.length) counts[id]++;
        }
        for (int j = 0; j < logits.length; j++)
            if (counts[j] > 0) logits[j] -= counts[j] * frequency + presence;
    }

    /**
     * min-p on temperature-scaled logits: drops (to -inf) every token whose probability is below
     * {@code minP × max probability}; p_j / p_max = exp(l_j - l_max), so no softmax is needed.
     */
    public static void applyMinP(float[] scaled, float minP) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : scaled) if (v > max) max = v;
        double logThreshold = Math.log(minP);
        for (int i = 0; i < scaled.length; i++)
            if (scaled[i] - (double) max < logThreshold) scaled[i] = Float.NEGATIVE_INFINITY;
    }

    /** First index of the maximum (torch.argmax picks the first on ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private static double[] softmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) if (v > max) max = v;
        double[] p = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            p[i] = x[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(x[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < x.length; i++) p[i] /= sum;
        return p;
    }
}
