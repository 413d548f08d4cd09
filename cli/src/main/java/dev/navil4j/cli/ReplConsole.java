package dev.navil4j.cli;

import java.io.PrintWriter;
import java.util.function.Supplier;

/**
 * Where the interactive chat reads questions and writes answers: a terminal with line editing, history and
 * Ctrl-C handling ({@link JLineReplConsole}), or plain line-by-line streams for piped input
 * ({@link PlainReplConsole}: no prompt, no escape codes, as a script expects).
 */
interface ReplConsole extends AutoCloseable {
    /** Thrown by {@link #readLine} when Ctrl-C is pressed at the prompt; {@code partialLine} is what was typed. */
    final class Interrupted extends Exception {
        final String partialLine;

        Interrupted(String partialLine) {
            super(null, null, false, false);
            this.partialLine = partialLine == null ? "" : partialLine;
        }
    }

    /** The next line, or null at the end of input (Ctrl-D, end of the pipe). */
    String readLine(String prompt) throws Interrupted;

    /** The answer's text goes here, piece by piece. */
    PrintWriter answerOut();

    /** A status line (attachment notes, errors, stats): above the prompt, never inside the line being edited. */
    void message(String line);

    /** Runs {@code work}; Ctrl-C meanwhile calls {@code cancel} (on another thread) instead of ending the process. */
    <T> T whileCancellable(Runnable cancel, Supplier<T> work);

    /** Whether a person types at a terminal (prompts and Ctrl-C hints make sense). */
    boolean interactive();

    @Override
    void close();
}
