package dev.navil4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/** Questions read line by line from a stream (a pipe, a file, a test): answers to {@code out}, messages to {@code err}. */
final class PlainReplConsole implements ReplConsole {
    private final BufferedReader reader;
    private final PrintWriter out, err;

    PlainReplConsole(InputStream in, PrintWriter out, PrintWriter err) {
        this.reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        this.out = out;
        this.err = err;
    }

    @Override
    public String readLine(String prompt) {
        try {
            return reader.readLine();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the next question: " + e.getMessage(), e);
        }
    }

    @Override
    public PrintWriter answerOut() { return out; }

    @Override
    public void message(String line) {
        err.println(line);
        err.flush();
    }

    /** No terminal, so no Ctrl-C to catch: an interrupt ends the process as for any filter program. */
    @Override
    public <T> T whileCancellable(Runnable cancel, Supplier<T> work) { return work.get(); }

    @Override
    public boolean interactive() { return false; }

    @Override
    public void close() {}
}
