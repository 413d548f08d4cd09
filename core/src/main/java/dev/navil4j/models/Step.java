package dev.navil4j.models;

/**
 * One sequence's share of a batched forward step ({@link VisionLanguageModel#step}): either a chunk of its prompt
 * (rows {@code [from, to)}, appended at the state's current length, which must equal {@code from}) or one generated
 * token. A step's rows of every sequence run through the linear layers as one matrix product; attention runs per
 * sequence over its own KV cache.
 */
public sealed interface Step {
    InferenceState state();

    /** Rows this step adds to its sequence. */
    int rows();

    /** Prompt rows [from, to) of {@code prompt}. */
    record Prompt(InferenceState state, PreparedPrompt prompt, int from, int to) implements Step {
        public Prompt {
            if (state == null || prompt == null) throw new IllegalArgumentException("state and prompt are required");
            if (from < 0 || to > prompt.length() || from >= to)
                throw new IllegalArgumentException("prompt chunk [" + from + ", " + to + ") of a " + prompt.length() + "-token prompt");
        }

        @Override public int rows() { return to - from; }
    }

    /** A generated token fed back (embedded as decode embeds it: plain token row, text modality). */
    record Decode(InferenceState state, int token) implements Step {
        public Decode {
            if (state == null) throw new IllegalArgumentException("state is required");
        }

        @Override public int rows() { return 1; }
    }
}
