package dev.navil4j.generate;

import dev.navil4j.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The log-probability of one generated token and of its most likely alternatives, as OpenAI's {@code logprobs}
 * reports them. The distribution is the model's own: log-softmax of the raw logits of that step, before the
 * repetition/presence/frequency penalties, temperature, min-p, top-k and top-p (vLLM's default
 * {@code logprobs_mode=raw_logprobs}); so the numbers do not depend on the sampling settings.
 *
 * @param token the token's text on its own (a token holding part of a UTF-8 character shows U+FFFD)
 * @param top   the {@code k} most likely tokens, most likely first (ties: lower id first)
 */
public record TokenLogprob(int id, String token, double logprob, List<Alternative> top) {
    public record Alternative(int id, String token, double logprob) {}

    /** Log-softmax of {@code logits} at {@code chosen}, plus the {@code k} most likely ids. Reads logits only. */
    public static TokenLogprob of(float[] logits, int chosen, int k, Tokenizer tokenizer) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) if (v > max) max = v;
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        double logZ = max + Math.log(sum);
        List<Alternative> top = new ArrayList<>(k);
        if (k > 0) {
            // k <= 20: a small insertion-sorted list of the best indices, one pass over the vocabulary
            int[] best = new int[Math.min(k, logits.length)];
            int n = 0;
            for (int i = 0; i < logits.length; i++) {
                float v = logits[i];
                if (n == best.length && !(v > logits[best[n - 1]])) continue;
                int j = n == best.length ? n - 1 : n++;
                while (j > 0 && v > logits[best[j - 1]]) { best[j] = best[j - 1]; j--; }
                best[j] = i;
            }
            for (int r = 0; r < n; r++) top.add(new Alternative(best[r], text(tokenizer, best[r]), logits[best[r]] - logZ));
        }
        return new TokenLogprob(chosen, text(tokenizer, chosen), logits[chosen] - logZ, List.copyOf(top));
    }

    private static String text(Tokenizer tokenizer, int id) {
        return tokenizer == null ? String.valueOf(id) : tokenizer.decode(new int[]{id}, false);
    }
}
