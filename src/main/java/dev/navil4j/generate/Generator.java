package dev.navil4j.generate;

import dev.navil4j.models.InferenceState;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.tokenizer.IncrementalDecoder;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The decode loop shared by every family: prefill, then one token at a time until a stop id or
 * max_new_tokens (the stop id counts and is kept in the ids, as transformers does).
 */
public final class Generator {
    /** Why generation ended. */
    public enum Finish { STOP, LENGTH, CANCELLED }

    /**
     * @param ids          generated ids (including the stop id when it stopped on one)
     * @param text         decoded with special tokens skipped, then cleaned as the family's chat() does
     * @param promptTokens prompt length
     */
    public record Result(int[] ids, String text, Finish finish, int promptTokens, long prefillNanos, long decodeNanos) {
        public double prefillTokensPerSecond() { return promptTokens / (prefillNanos / 1e9); }
        public double decodeTokensPerSecond() { return ids.length <= 1 ? Double.NaN : (ids.length - 1) / (decodeNanos / 1e9); }
    }

    /** Receives text as soon as it is final (never a partial UTF-8 character). */
    public interface Listener {
        void onText(String text);
        default boolean cancelled() { return false; }
    }

    private Generator() {}

    public static Result generate(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config, Listener listener) {
        if (config.maxNewTokens() < 0) throw new IllegalArgumentException("max_new_tokens must be >= 0");
        int promptLen = prompt.ids().length;
        if (promptLen + Math.max(1, config.maxNewTokens()) > model.maxContext() + 1)
            throw new IllegalArgumentException("prompt of " + promptLen + " tokens plus " + config.maxNewTokens()
                    + " new tokens exceeds the context of " + model.maxContext() + " tokens");
        InferenceState state = model.newState();
        Sampler sampler = new Sampler(config);
        int[] seen = new int[(config.penalizePrompt() ? promptLen : 0) + config.maxNewTokens() + 1];
        int seenCount = 0;
        if (config.penalizePrompt()) for (int id : prompt.ids()) if (id >= 0) seen[seenCount++] = id;
        IncrementalDecoder dec = listener == null ? null : model.tokenizer().incrementalDecoder(true);
        long t0 = System.nanoTime();
        float[] logits = config.maxNewTokens() == 0 ? null : model.prefill(state, prompt);
        long t1 = System.nanoTime();
        int[] out = new int[config.maxNewTokens()];
        int n = 0;
        Finish finish = Finish.LENGTH;
        while (n < config.maxNewTokens()) {
            if (listener != null && listener.cancelled()) { finish = Finish.CANCELLED; break; }
            int next = sampler.next(logits, seen, seenCount);
            out[n++] = next;
            seen[seenCount++] = next;
            boolean stop = config.stopIds().contains(next);
            if (dec != null) {
                String piece = dec.push(next);
                if (!piece.isEmpty()) listener.onText(piece);
            }
            if (stop) { finish = Finish.STOP; break; }
            if (n < config.maxNewTokens()) logits = model.decode(state, next);
        }
        if (dec != null) {
            String rest = dec.finish();
            if (!rest.isEmpty()) listener.onText(rest);
        }
        long t2 = System.nanoTime();
        int[] ids = Arrays.copyOf(out, n);
        String text = model.cleanResponse(model.tokenizer().decode(ids, true));
        return new Result(ids, text, finish, promptLen, t1 - t0, t2 - t1);
    }

    public static Result generate(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config) {
        return generate(model, prompt, config, null);
    }

    /** Adapts a text callback to a listener. */
    public static Listener listener(Consumer<String> onText) { return onText::accept; }
}
