package dev.navil4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --weights} / {@code --kv-cache} on the commands that load a model. */
class WeightOptionsTest {
    record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new ByteArrayInputStream(new byte[0]), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void chatRunsAQuantizedModelWithABf16Cache() {
        Run r = run("chat", "--model", "fixtures/internvl3-tiny/model", "--weights", "q4", "--kv-cache", "bf16", "--max-new-tokens", "3", "Hi");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isNotBlank();
    }

    @Test
    void badChoicesAreOneLineErrors() {
        Run kv = run("chat", "--model", "fixtures/internvl3-tiny/model", "--kv-cache", "fp8", "Hi");
        assertThat(kv.code()).isNotZero();
        assertThat(kv.err()).contains("--kv-cache must be f32 or bf16").doesNotContain("\tat ");
        Run w = run("chat", "--model", "fixtures/internvl3-tiny/model", "--weights", "q3", "Hi");
        assertThat(w.code()).isNotZero();
        assertThat(w.err()).contains("unknown --weights 'q3'").doesNotContain("\tat ");
    }

    @Test
    void verifyWithQ8ReportsTheQuantizationErrorAsFailures() {
        // (verify prints its table on System.out) full precision passes the case, q8 is off by its rounding
        assertThat(run("verify", "--case", "^forward_text$", "fixtures/vora-tiny").code()).isZero();
        assertThat(run("verify", "--weights", "q8", "--case", "^forward_text$", "fixtures/vora-tiny").code()).isEqualTo(1);
    }
}
