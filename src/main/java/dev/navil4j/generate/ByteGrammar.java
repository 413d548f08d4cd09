package dev.navil4j.generate;

/**
 * A language over bytes, fed one byte at a time ({@link GrammarConstraint} walks tokens' bytes through it).
 * States are immutable values: equal states must mean equal futures, since allowed-token masks are cached by state.
 *
 * @param <S> the state type (with value equality)
 */
public interface ByteGrammar<S> {
    S start();

    /** The state after byte {@code b} (0..255), or null when the byte cannot come here. */
    S step(S state, int b);

    /** Whether the bytes so far form a complete match. */
    boolean accepts(S state);

    /**
     * The fewest bytes that lead from {@code state} to a complete match ({@link #UNREACHABLE} when none do): the
     * length guard that makes the output close before the token budget ends.
     */
    int minBytesToAccept(S state);

    int UNREACHABLE = Integer.MAX_VALUE / 4;
}
