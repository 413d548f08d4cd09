package dev.navil4j.cli;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The interactive chat at a terminal, through JLine: line editing (arrows, Home/End, Ctrl-A/E/W/U, ...), history
 * (arrow up/down, Ctrl-R; kept in {@link #historyFile}), Ctrl-C at the prompt reported to the caller, Ctrl-C while
 * an answer is generated turned into a cancel of that answer (the JVM would otherwise end at SIGINT), and status
 * lines printed above the prompt. Everything goes through the terminal's own writer, so answer text, stats and
 * the prompt cannot overtake each other (stderr goes through the launcher's filter pipe, stdout does not).
 */
final class JLineReplConsole implements ReplConsole {
    /** JLine reports a history file it cannot write through java.util.logging (a stack trace on stderr); we say it once ourselves. */
    private static final Logger JLINE_LOG = Logger.getLogger("org.jline");

    private final Terminal terminal;
    private final LineReader reader;

    private JLineReplConsole(Terminal terminal, LineReader reader) {
        this.terminal = terminal;
        this.reader = reader;
    }

    /** The system terminal with history in {@code historyFile} (null = in memory only). */
    static JLineReplConsole open(Path historyFile) throws IOException {
        JLINE_LOG.setLevel(Level.OFF);
        Terminal terminal = TerminalBuilder.builder().system(true).nativeSignals(true).build();
        LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("navil4j")
                // the question text is sent as typed: no '!' history expansion, no backslash escapes
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .variable(LineReader.HISTORY_SIZE, 1000).variable(LineReader.HISTORY_FILE_SIZE, 1000);
        if (historyFile != null) b.variable(LineReader.HISTORY_FILE, historyFile);
        return new JLineReplConsole(terminal, b.build());
    }

    /**
     * Where the history is kept: {@code $NAVIL4J_HISTORY} ("off" = nowhere), else {@code ~/.navil4j/history}; null
     * (in memory only) when that directory cannot be created or written, with the reason in {@code why[0]}.
     */
    static Path historyFile(String env, String home, String[] why) {
        if (env != null && !env.isBlank()) {
            if (env.strip().equalsIgnoreCase("off")) return null;
            return usable(Path.of(env.strip()), why);
        }
        if (home == null || home.isBlank()) {
            why[0] = "no home directory";
            return null;
        }
        return usable(Path.of(home, ".navil4j", "history"), why);
    }

    private static Path usable(Path file, String[] why) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            if (!Files.isWritable(dir) || (Files.exists(file) && (!Files.isWritable(file) || !Files.isReadable(file)))) {
                why[0] = file + " is not writable";
                return null;
            }
            return file;
        } catch (IOException | RuntimeException e) {
            why[0] = "cannot create " + file.toAbsolutePath().getParent() + " (" + e.getMessage() + ")";
            return null;
        }
    }

    @Override
    public String readLine(String prompt) throws Interrupted {
        try {
            return reader.readLine(prompt);
        } catch (UserInterruptException e) {
            throw new Interrupted(e.getPartialLine());
        } catch (EndOfFileException e) {
            return null;
        }
    }

    @Override
    public PrintWriter answerOut() { return terminal.writer(); }

    @Override
    public void message(String line) { reader.printAbove(line); }

    @Override
    public <T> T whileCancellable(Runnable cancel, Supplier<T> work) {
        // outside readLine the terminal is in its normal mode, so Ctrl-C raises SIGINT, which JLine hands to this handler
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> cancel.run());
        try {
            return work.get();
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
        }
    }

    @Override
    public boolean interactive() { return true; }

    @Override
    public void close() {
        try {
            reader.getHistory().save();
        } catch (IOException | RuntimeException e) {
            // the history is a convenience: a full disk must not turn a clean exit into an error
        }
        try {
            terminal.close();
        } catch (IOException e) {
            // the terminal is being released at exit anyway
        }
    }
}
