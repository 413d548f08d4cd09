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

    @Test
    void downloadsAndQuantizingAreDrawnInTheirOwnWords() {
        // bytes as megabytes (decimal, as the hub's stderr bar): 12.5 MB of 50 MB fills a quarter of the 24 columns
        assertThat(ProgressPrinter.line(new ProgressEvent(Stage.DOWNLOAD, 12_500_000, 50_000_000, Unit.BYTES,
                "model.safetensors"), 1.0))
                .isEqualTo("downloading [======>                 ] 12.5/50.0 MB · model.safetensors  1.0 s");
        assertThat(ProgressPrinter.line(new ProgressEvent(Stage.QUANTIZE, 3, 12, Unit.TENSORS, "lm_head.weight"), 0.5))
                .isEqualTo("quantizing [======>                 ] 3/12 tensors · lm_head.weight  0.5 s");
    }
}
