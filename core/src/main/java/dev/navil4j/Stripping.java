package dev.navil4j;

import java.util.function.Consumer;

/**
 * Wraps a streaming callback so that it receives exactly {@link Response#text()} rather than
 * {@link Response#rawText()} for the families whose cleanup is Python's {@code str.strip()} (InternVL3,
 * NaViL, VoRA): leading whitespace is dropped, and whitespace is held back until something other than
 * whitespace follows it, so trailing whitespace never reaches the callback. Whitespace is Python's
 * ({@code str.isspace}: Java's {@link Character#isWhitespace} plus U+0085, U+00A0, U+2007 and U+202F).
 * <p>Not thread-safe; one instance per answer.
 */
public final class Stripping implements Consumer<String> {
    private final Consumer<String> downstream;
    private final StringBuilder pending = new StringBuilder();
    private boolean started;

    private Stripping(Consumer<String> downstream) { this.downstream = downstream; }

    /** A stripping wrapper around {@code downstream}. */
    public static Stripping of(Consumer<String> downstream) {
        if (downstream == null) throw new IllegalArgumentException("downstream is null");
        return new Stripping(downstream);
    }

    @Override
    public void accept(String piece) {
        StringBuilder out = new StringBuilder();
        piece.codePoints().forEach(cp -> {
            if (isPythonSpace(cp)) {
                if (started) pending.appendCodePoint(cp);
            } else {
                started = true;
                out.append(pending).appendCodePoint(cp);
                pending.setLength(0);
            }
        });
        if (!out.isEmpty()) downstream.accept(out.toString());
    }

    /** Python's {@code str.isspace()} for one code point. */
    public static boolean isPythonSpace(int cp) {
        return Character.isWhitespace(cp) || cp == 0x85 || cp == 0xA0 || cp == 0x2007 || cp == 0x202F;
    }
}
