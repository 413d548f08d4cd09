package dev.navil4j.generate;

import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.Step;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.tokenizer.IncrementalDecoder;

import java.util.Arrays;

/**
 * One sequence being generated — the single generation loop of the engine, driven one forward step at a time by
 * whoever batches it ({@link Generator} for one sequence, the server's scheduler for many). It owns the
 * sampling state (sampler, ids the repetition penalty covers), streaming (incremental UTF-8 decode, stop
 * strings), the finish rule (stop id, stop string, max new tokens, cancellation) and usage counts.
 * <p>Use: {@code while (!s.finished()) s.accept(model.step(List.of(s.nextStep(chunk)))[0]);} — or put several
 * sequences' steps into one {@link VisionLanguageModel#step}. The state may already hold a prefix of the prompt
 * (reused KV); prefill starts after it.
 */
public final class Sequence {
    /** Why generation ended. */
    public enum Finish { STOP, LENGTH, CANCELLED }

    /** Receives text as soon as it is final (never a partial UTF-8 character, never part of a stop string). */
    public interface Listener {
        void onText(String text);

        /**
         * As {@link #onText(String)}, with the log-probabilities of the tokens generated since the last text (only
         * when the config asks for them; empty otherwise).
         */
        default void onText(String text, java.util.List<TokenLogprob> logprobs) { onText(text); }

        default boolean cancelled() { return false; }
    }

    private final VisionLanguageModel model;
    private final PreparedPrompt prompt;
    private final GenerationConfig config;
    private final InferenceState state;
    private final Listener listener;
    private final Sampler sampler;
    private final IncrementalDecoder decoder;
    private final StopMatcher stops;
    private final StringBuilder raw = new StringBuilder();
    private final int[] seen;
    private final int[] out;
    private final int reused;
    private final java.util.List<TokenLogprob> logprobs = new java.util.ArrayList<>();
    private int seenCount, generated, pending = -1, logprobsSent;
    private Finish finish;
    private TokenConstraint constraint;
    private final long startNanos = System.nanoTime();
    private long firstTokenNanos, endNanos;

    /**
     * @param state a fresh state, or one holding a prefix of this prompt's positions (reused KV); its length is
     *              where prefill starts
     */
    public Sequence(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config, InferenceState state, Listener listener) {
        this.model = model;
        this.prompt = prompt;
        this.config = config;
        this.state = state;
        this.listener = listener;
        if (prompt.length() == 0) throw new IllegalArgumentException("empty prompt");
        ContextLimitException.fitNewTokens(prompt.length(), config.maxNewTokens(), state.capacity(), true);
        if (state.length() >= prompt.length())
            throw new IllegalArgumentException("the state already holds " + state.length() + " of the " + prompt.length() + " prompt tokens");
        this.reused = state.length();
        this.sampler = new Sampler(config);
        this.decoder = model.tokenizer().incrementalDecoder(true);
        this.stops = new StopMatcher(config.stopStrings());
        int promptLen = prompt.length();
        this.seen = new int[(config.penalizePrompt() ? promptLen : 0) + config.maxNewTokens() + 1];
        if (config.penalizePrompt()) for (int t = 0; t < promptLen; t++) if (prompt.id(t) >= 0) seen[seenCount++] = prompt.id(t);
        this.out = new int[config.maxNewTokens()];
        if (config.maxNewTokens() == 0) end(Finish.LENGTH);
    }

    public boolean finished() { return finish != null; }

    /**
     * Constrains the tokens of this sequence (structured output): before each sample every id the constraint does
     * not allow gets logit -inf, ahead of the logits processors; stop ids only once it is complete (then forced when
     * nothing else may follow). Call before the first token is sampled.
     */
    public Sequence constrain(TokenConstraint c) {
        if (generated > 0) throw new IllegalStateException("the sequence has already generated tokens");
        this.constraint = c;
        return this;
    }

    /** Prompt positions still to prefill. */
    public int promptRemaining() { return pending >= 0 || generated > 0 ? 0 : prompt.length() - state.length(); }

    public InferenceState state() { return state; }

    public PreparedPrompt prompt() { return prompt; }

    /**
     * The next forward step of this sequence: the next prompt chunk of at most {@code maxChunk} rows (never ending
     * inside a bidirectional image block), or the last sampled token fed back.
     */
    public Step nextStep(int maxChunk) {
        if (finish != null) throw new IllegalStateException("the sequence has finished");
        if (pending >= 0) return new Step.Decode(state, pending);
        int from = state.length(), to = (int) Math.min(prompt.length(), (long) from + Math.max(1, maxChunk));
        if (to < prompt.length() && model.flags().bidirectionalImageBlocks()) {
            int b = prompt.blockStart(to);
            if (b > from) to = b;                                  // end before the block
            else while (to < prompt.length() && prompt.imageBlock(to) >= 0 && prompt.imageBlock(to) == prompt.imageBlock(to - 1)) to++; // or take it whole
        }
        return new Step.Prompt(state, prompt, from, to);
    }

    /**
     * The logits after this sequence's last step: nothing to do while the prompt is unfinished; otherwise samples
     * the next token, streams its text and decides whether generation ends.
     */
    public void accept(float[] logits) {
        if (finish != null) throw new IllegalStateException("the sequence has finished");
        if (pending < 0 && state.length() < prompt.length()) return; // a prefill chunk
        if (listener != null && listener.cancelled()) { end(Finish.CANCELLED); return; }
        // raw model distribution: read before the sampler's processors change the logits in place
        float[] modelLogits = config.topLogprobs() >= 0 ? logits.clone() : null;
        if (constraint != null && !mask(logits)) { end(Finish.STOP); return; }
        int next = sampler.next(logits, seen, seenCount, out, generated);
        // the stop id is not part of the completion's content (OpenAI reports content tokens only)
        if (modelLogits != null && !config.stopIds().contains(next))
            logprobs.add(TokenLogprob.of(modelLogits, next, config.topLogprobs(), model.tokenizer()));
        if (generated == 0) firstTokenNanos = System.nanoTime();
        out[generated++] = next;
        seen[seenCount++] = next;
        if (constraint != null && !config.stopIds().contains(next)) constraint.advance(next);
        emit(stops.push(decoder.push(next)));
        if (stops.stopped() || config.stopIds().contains(next)) { end(Finish.STOP); return; }
        if (generated >= config.maxNewTokens()) { end(Finish.LENGTH); return; }
        pending = next;
    }

    /**
     * Another sequence for the same prompt (OpenAI's {@code n} > 1) that shares this one's prefill: a fresh state
     * gets a copy of this state's KV for all prompt positions but the last (which must run again to give the
     * sibling its own first-token logits; cut back to an image block's start where blocks attend bidirectionally).
     * Call once this sequence's prompt is prefilled ({@link #promptRemaining()} 0).
     */
    public Sequence sibling(GenerationConfig siblingConfig, Listener siblingListener) {
        if (promptRemaining() > 0 || state.length() < prompt.length() - 1)
            throw new IllegalStateException("the prompt is not prefilled yet");
        int n = prompt.length() - 1;
        if (model.flags().bidirectionalImageBlocks() && n > 0) n = prompt.blockStart(n);
        InferenceState fresh = model.newState();
        if (n > 0) state.copyPrefixTo(fresh, n);
        Sequence s = new Sequence(model, prompt, siblingConfig, fresh, siblingListener);
        return constraint == null ? s : s.constrain(constraint.restart());
    }

    /**
     * Sets every logit the constraint rules out to -inf. The byte budget leaves room for a stop id after the
     * completed text, so the output closes before max new tokens ends it. False: complete, nothing may follow and no
     * stop id to write (the sequence ends here).
     */
    private boolean mask(float[] logits) {
        boolean eos = !config.stopIds().isEmpty();
        int tokensAfter = config.maxNewTokens() - generated - 1;
        int[] ids = constraint.allowed(tokensAfter - (eos ? 1 : 0));
        boolean complete = constraint.isComplete();
        if (ids.length == 0 && complete && !eos) return false;
        float[] kept = new float[ids.length];
        int n = 0;
        for (int id : ids) if (id < logits.length) kept[n++] = logits[id];
        float[] stopLogits = new float[config.stopIds().size()];
        int[] stopIds = config.stopIds().stream().mapToInt(Integer::intValue).toArray();
        for (int i = 0; i < stopIds.length; i++) stopLogits[i] = stopIds[i] < logits.length ? logits[stopIds[i]] : 0f;
        Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        n = 0;
        for (int id : ids) if (id < logits.length) logits[id] = kept[n++];
        // a stop id once the text is complete; also at a dead end (nothing allowed), rather than an arbitrary id
        boolean stopAllowed = complete || ids.length == 0;
        for (int i = 0; i < stopIds.length; i++)
            if (stopIds[i] < logits.length)
                logits[stopIds[i]] = !stopAllowed ? Float.NEGATIVE_INFINITY : Float.isFinite(stopLogits[i]) ? stopLogits[i] : 0f;
        return true;
    }

    /** Stops now (client gone, deadline): the sequence finishes as cancelled. */
    public void cancel() { if (finish == null) end(Finish.CANCELLED); }

    private void emit(String s) {
        if (s.isEmpty()) return;
        raw.append(s);
        java.util.List<TokenLogprob> lp = java.util.List.copyOf(logprobs.subList(logprobsSent, logprobs.size()));
        logprobsSent = logprobs.size();
        if (listener != null) listener.onText(s, lp);
    }

    private void end(Finish f) {
        finish = f;
        if (!stops.stopped()) emit(stops.push(decoder.finish()));
        if (!stops.stopped()) emit(stops.flush());
        endNanos = System.nanoTime();
        if (firstTokenNanos == 0) firstTokenNanos = endNanos;
    }

    /** The generated ids so far (with the stop id when it stopped on one). */
    public int[] ids() { return Arrays.copyOf(out, generated); }

    public int generated() { return generated; }

    public Finish finish() { return finish; }

    /** The finished sequence's result. */
    public Result result() {
        if (finish == null) throw new IllegalStateException("the sequence has not finished");
        int[] ids = ids();
        String text = stops.stopped() ? model.cleanResponse(raw.toString()) : model.cleanResponse(model.tokenizer().decode(ids, true));
        return new Result(ids, text, raw.toString(), finish, prompt.length(), reused, firstTokenNanos - startNanos, endNanos - firstTokenNanos,
                config.topLogprobs() >= 0 ? java.util.List.copyOf(logprobs) : null);
    }

    /**
     * @param ids          generated ids (including the stop id when it stopped on one)
     * @param text         decoded with special tokens skipped (cut at a stop string), then cleaned as the family's chat() does
     * @param rawText      the streamed text (before the cleanup)
     * @param promptTokens prompt length
     * @param reusedTokens prompt positions taken from a cached KV prefix (not recomputed)
     * @param prefillNanos start to the first token (prefill of the positions not reused)
     * @param decodeNanos  first to last token
     * @param logprobs     per generated token (a final stop id left out), when the config asked for them; else null
     */
    public record Result(int[] ids, String text, String rawText, Finish finish, int promptTokens, int reusedTokens,
                         long prefillNanos, long decodeNanos, java.util.List<TokenLogprob> logprobs) {
        public double prefillTokensPerSecond() { return (promptTokens - reusedTokens) / (prefillNanos / 1e9); }

        public double decodeTokensPerSecond() { return ids.length <= 1 ? Double.NaN : (ids.length - 1) / (decodeNanos / 1e9); }
    }
}
