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

    public static Sequence.Result generate(VisionLanguageModel model, PreparedPrompt prompt, GenerationConfig config) {
        return generate(model, prompt, config, (Sequence.Listener) null);
    }

    /** Adapts a text callback to a listener. */
    public static Sequence.Listener listener(Consumer<String> onText) { return onText::accept; }
}
