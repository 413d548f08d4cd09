package dev.navil4j.cli;

import dev.navil4j.ProgressEvent;
import dev.navil4j.ProgressEvent.Stage;
import dev.navil4j.ProgressEvent.Unit;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI's progress line: drawn in place on a terminal, throttled, wiped at a stage's end; nothing otherwise. */
class ProgressPrinterTest {
    final StringWriter sink = new StringWriter();
    final AtomicLong now = new AtomicLong();

    ProgressPrinter printer(boolean enabled) { return new ProgressPrinter(new PrintWriter(sink), enabled, now::get); }

    @Test
    void notATerminalPrintsNothing() {
        ProgressPrinter p = printer(false);
        p.onProgress(new ProgressEvent(Stage.LOAD, 1, 10, Unit.TENSORS, "checking weights"));
        p.onProgress(new ProgressEvent(Stage.LOAD, 10, 10, Unit.TENSORS, "loaded"));
        assertThat(sink.toString()).isEmpty();
        assertThat(p.enabled()).isFalse();
    }

    @Test
    void terminalDetection() {
        assertThat(ProgressPrinter.interactiveTerminal(true, "xterm-256color")).isTrue();
        assertThat(ProgressPrinter.interactiveTerminal(true, null)).isTrue();
        assertThat(ProgressPrinter.interactiveTerminal(true, "dumb")).isFalse();
        assertThat(ProgressPrinter.interactiveTerminal(false, "xterm")).isFalse();
        // --quiet wins even on a terminal (under the test runner there is no terminal anyway)
        assertThat(ProgressPrinter.forTerminal(true).enabled()).isFalse();
    }

    @Test
    void terminalRendersOneLineInPlaceAndWipesIt() {
        ProgressPrinter p = printer(true);
        p.onProgress(new ProgressEvent(Stage.VISION_ENCODE, 4, 7, Unit.TILES, "image tiles"));
        now.addAndGet(50_000_000L);   // 50 ms later: throttled
        p.onProgress(new ProgressEvent(Stage.VISION_ENCODE, 5, 7, Unit.TILES, "image tiles"));
        now.addAndGet(100_000_000L);  // 150 ms after the first: drawn
        p.onProgress(new ProgressEvent(Stage.VISION_ENCODE, 6, 7, Unit.TILES, "image tiles"));
        String drawn = sink.toString();
        // 24-column bar: 4/7 fills 13, 6/7 fills 20 ("=" then ">" then spaces)
        String first = "\rencoding images [" + "=".repeat(13) + ">" + " ".repeat(10) + "] 4/7 tiles · image tiles  0.0 s";
        String second = "\rencoding images [" + "=".repeat(20) + ">" + " ".repeat(3) + "] 6/7 tiles · image tiles  0.2 s";
        assertThat(drawn).isEqualTo(first + second);
        p.onProgress(new ProgressEvent(Stage.VISION_ENCODE, 7, 7, Unit.TILES, "image tiles"));
        assertThat(sink.toString().substring(drawn.length())).isEqualTo("\r" + " ".repeat(second.length() - 1) + "\r");
        // a new stage draws its first event at once, without a newline
        p.onProgress(new ProgressEvent(Stage.PREFILL, 512, 1800, Unit.TOKENS, "prompt tokens"));
        assertThat(sink.toString()).endsWith("\rreading prompt [======>                 ] 512/1800 tokens · prompt tokens  0.0 s").doesNotContain("\n");
    }
}
