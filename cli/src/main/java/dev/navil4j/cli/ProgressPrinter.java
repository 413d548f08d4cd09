package dev.navil4j.cli;

import dev.navil4j.ProgressEvent;
import dev.navil4j.ProgressListener;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The CLI's view of {@link ProgressEvent}s: one line redrawn in place with {@code \r} (at most 10 times a second, plus
 * each stage's first and last event) and wiped when a stage finishes, so that nothing is left between the answer's
 * lines. It draws only on an interactive terminal, and writes to the terminal itself ({@link java.io.Console}): the
 * launcher filters the JVM's stderr line by line, which would hold back a line that never ends. With the output piped
 * or redirected, a dumb terminal, or {@code --quiet}, it prints nothing at all.
 */
public final class ProgressPrinter implements ProgressListener {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR = 24;

    private final PrintWriter out;
    private final boolean enabled;
    private final LongSupplier clock;
    private ProgressEvent.Stage stage;
    private long stageStart, lastDraw;
    private int drawnWidth;

    /**
     * @param out     where the line goes (stderr)
     * @param enabled false: a printer that prints nothing
     * @param clock   nanosecond clock (tests pass their own)
     */
    ProgressPrinter(PrintWriter out, boolean enabled, LongSupplier clock) {
        this.out = out;
        this.enabled = enabled;
        this.clock = clock;
    }

    /** A printer on the terminal, drawing only when there is an interactive one and {@code quiet} is off. */
    public static ProgressPrinter forTerminal(boolean quiet) {
        java.io.Console c = System.console();
        boolean draw = !quiet && interactiveTerminal(c != null && c.isTerminal(), System.getenv("TERM"));
        return new ProgressPrinter(draw ? c.writer() : new PrintWriter(java.io.Writer.nullWriter()), draw, System::nanoTime);
    }

    /**
     * Whether progress lines make sense: the JVM's console is a terminal (false when any of stdin/stdout is
     * redirected, so piping the answer also silences the progress) and TERM is not "dumb" (Emacs shells, some CI logs).
     */
    static boolean interactiveTerminal(boolean consoleIsTerminal, String term) {
        return consoleIsTerminal && !"dumb".equals(term);
    }

    /** Whether this printer draws anything. */
    public boolean enabled() { return enabled; }

    @Override
    public synchronized void onProgress(ProgressEvent e) {
        if (!enabled) return;
        long now = clock.getAsLong();
        boolean first = e.stage() != stage;
        if (first) { stage = e.stage(); stageStart = now; }
        if (!first && !e.finished() && now - lastDraw < REDRAW_NANOS) return;
        lastDraw = now;
        if (e.finished()) { clear(); stage = null; return; }
        String line = line(e, (now - stageStart) / 1e9);
        StringBuilder sb = new StringBuilder("\r").append(line);
        for (int i = line.length(); i < drawnWidth; i++) sb.append(' ');  // wipe the rest of a longer previous line
        drawnWidth = line.length();
        out.print(sb);
        out.flush();
    }

    /** Wipes the line (a stage is over); the cursor is left at its start for whatever prints next. */
    private void clear() {
        if (drawnWidth == 0) return;
        out.print("\r" + " ".repeat(drawnWidth) + "\r");
        out.flush();
        drawnWidth = 0;
    }

    /** e.g. {@code "encoding image [============>           ]  4/7 tiles  1.2 s"}. */
    static String line(ProgressEvent e, double seconds) {
        int fill = (int) (BAR * e.done() / e.total());
        StringBuilder b = new StringBuilder(label(e.stage())).append(" [").append("=".repeat(fill));
        if (fill < BAR) b.append('>').append(" ".repeat(BAR - fill - 1));
        b.append("] ");
        if (e.unit() == ProgressEvent.Unit.BYTES)  // a download: megabytes, as the hub's own bar
            b.append(String.format(Locale.ROOT, "%.1f/%.1f MB", e.done() / 1e6, e.total() / 1e6));
        else b.append(e.done()).append('/').append(e.total()).append(' ').append(e.unit().name().toLowerCase(Locale.ROOT));
        if (!e.detail().isEmpty()) b.append(" · ").append(e.detail());
        return b.append(String.format(Locale.ROOT, "  %.1f s", seconds)).toString();
    }

    private static String label(ProgressEvent.Stage s) {
        return switch (s) {
            case DOWNLOAD -> "downloading";
            case LOAD -> "loading model";
            case MEDIA_DECODE -> "decoding media";
            case VISION_ENCODE -> "encoding images";
            case PREFILL -> "reading prompt";
            case QUANTIZE -> "quantizing";
        };
    }
}
