package dev.navil4j.generate;

import dev.navil4j.tokenizer.Tokenizer;

/**
 * A rule on which tokens may come next (constrained decoding, e.g. JSON that follows a schema). {@link Sequence}
 * asks it before sampling each token and masks every other id to -inf before the logits processors run, then
 * feeds it the chosen id. Stop ids are the sequence's business: it allows them only once the constraint
 * {@link #isComplete() is complete}, and forces one when nothing else may follow. One instance per sequence
 * (it holds the position in the grammar); {@link #restart()} gives another at the start, sharing its caches.
 */
public interface TokenConstraint {
    /**
     * Ids (ascending, never a stop id) that may come next. {@code byteBudget} is how many bytes may follow the
     * chosen token and still reach completion in the tokens left (each later token brings at least one byte);
     * ids after which completion would need more are left out, unless that leaves none while the constraint is
     * not complete (then the output cannot be finished in time anyway and every id the grammar allows is returned).
     */
    int[] allowed(int byteBudget);

    /** The sequence chose {@code id} (one of {@link #allowed}'s). */
    void advance(int id);

    /** Whether the output so far is a complete match (a stop id may end it here). */
    boolean isComplete();

    /** A constraint at the start state, sharing this one's grammar and caches (OpenAI's {@code n} > 1). */
    TokenConstraint restart();

    /** Makes the per-sequence constraint for a model's tokenizer (the vocabulary whose bytes are matched). */
    interface Factory {
        TokenConstraint start(Tokenizer tokenizer);
    }
}
