package dev.navil4j.generate;

import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;

import java.util.List;
import java.util.function.Consumer;

/**
 * One sequence generated alone: a {@link Sequence} stepped until it finishes (prefill in one step, then one token
 * at a time). The stop id counts and is kept in the ids, as transformers does.
 */
public final class Generator {
    private Generator() {}

    /** Generates from a fresh state. */
    public static Sequence.Result generate(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config,
                                           Sequence.Listener listener) {
        return generate(model, prompt, config, model.newState(), listener);
    }

    /** Generates on {@code state}, which may hold a reused prefix of the prompt; the state is left holding the sequence. */
    public static Sequence.Result generate(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config,
                                           InferenceState state, Sequence.Listener listener) {
        Sequence s = new Sequence(model, prompt, config, state, listener);
        while (!s.finished()) s.accept(model.step(List.of(s.nextStep(Integer.MAX_VALUE)))[0]);
        return s.result();
    }

    /**
     * As {@link #generate(VisionLanguageModel, PreparedPrompt, GenerationConfig, InferenceState, Sequence.Listener)},
     * reporting PREFILL progress: with a listener the prompt runs in chunks of {@link Batch#DEFAULT_CHUNK} rows (chunked
     * prefill generates what one prefill does, as the batch path relies on) and each chunk is reported in prompt
     * tokens computed (a reused KV prefix is not counted). Decoding reports nothing.
     */
    public static Sequence.Result generate(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config,
                                           InferenceState state, Sequence.Listener listener, dev.navil4j.ProgressListener progress) {
        return generate(model, prompt, config, state, listener, progress, Batch.DEFAULT_CHUNK);
    }

    /** As above with prefill chunks of at most {@code prefillChunk} rows. */
    public static Sequence.Result generate(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config,
                                           InferenceState state, Sequence.Listener listener, dev.navil4j.ProgressListener progress,
                                           int prefillChunk) {
        if (progress == null || progress == dev.navil4j.ProgressListener.NONE) return generate(model, prompt, config, state, listener);
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be >= 1, got " + prefillChunk);
        Sequence s = new Sequence(model, prompt, config, state, listener);
        int from = state.length(), total = prompt.length() - from;
        while (!s.finished()) {
            boolean prefilling = s.promptRemaining() > 0;
            float[] logits = model.step(List.of(s.nextStep(prefilling ? prefillChunk : 1)))[0];
            // reported before accept(): the last chunk's event ends the stage before the first text is streamed
            if (prefilling)
                progress.report(dev.navil4j.ProgressEvent.Stage.PREFILL, Math.min(total, state.length() - from), total,
                        dev.navil4j.ProgressEvent.Unit.TOKENS, "prompt tokens");
            s.accept(logits);
        }
        return s.result();
    }

    public static Sequence.Result generate(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config) {
        return generate(model, prompt, config, (Sequence.Listener) null);
    }

    /** Adapts a text callback to a listener. */
    public static Sequence.Listener listener(Consumer<String> onText) { return onText::accept; }
}
