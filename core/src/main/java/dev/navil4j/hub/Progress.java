package dev.navil4j.hub;

import dev.navil4j.ProgressEvent;
import dev.navil4j.ProgressListener;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for long downloads (redrawn at most 5 times a second; nothing when out is null), and the
 * same progress as {@link ProgressEvent.Stage#DOWNLOAD} events for a listener (when the size is known).
 */
final class Progress {
    private final PrintStream out;
    private final ProgressListener listener;
    private final String label;
    private final long total;
    private final long start = System.nanoTime();
    private long done, lastDraw;

    Progress(PrintStream out, ProgressListener listener, String label, long total, long alreadyDone) {
        this.out = out;
        this.listener = ProgressListener.orNone(listener);
        this.label = label;
        this.total = total;
        this.done = alreadyDone;
        event(false);
    }

    void add(long n) {
        done += n;
        long now = System.nanoTime();
        if (now - lastDraw > 200_000_000L) { lastDraw = now; draw(false); }
    }

    void finish() { draw(true); }

    /**
     * The listener's view: done/total bytes of this file; done stays below total until the file is complete (a
     * server may send more than it announced, or cut the connection and be resumed). An unknown size is reported once,
     * at the end, as done == total.
     */
    private void event(boolean end) {
        if (listener == ProgressListener.NONE) return;
        if (total > 0) listener.report(ProgressEvent.Stage.DOWNLOAD, end ? total : Math.min(done, total - 1), total,
                ProgressEvent.Unit.BYTES, label);
        else if (end && done > 0) listener.report(ProgressEvent.Stage.DOWNLOAD, done, done, ProgressEvent.Unit.BYTES, label);
    }

    private void draw(boolean end) {
        event(end);
        if (out == null) return;
        double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
        StringBuilder sb = new StringBuilder("\r").append(label).append(' ');
        if (total > 0) {
            int width = 30, fill = (int) Math.min(width, width * done / total);
            sb.append('[').append("=".repeat(fill)).append(fill < width ? ">" : "").append(" ".repeat(Math.max(0, width - fill - 1)))
                    .append("] ").append(String.format(Locale.ROOT, "%3d%% ", 100 * done / total));
        }
        sb.append(String.format(Locale.ROOT, "%.1f/%s MB %.1f MB/s", done / 1e6,
                total > 0 ? String.format(Locale.ROOT, "%.1f", total / 1e6) : "?", done / 1e6 / secs));
        out.print(sb);
        if (end) out.println();
        out.flush();
    }
}
