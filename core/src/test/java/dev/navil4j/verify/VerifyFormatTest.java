package dev.navil4j.verify;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VerifyFormatTest {
    @TempDir
    Path tmp;

    @Test
    void printsOneLinePerCaseAndTotals() throws IOException {
        // an unknown kind on a directory without a model fails cleanly with a message, it does not throw
        Files.writeString(tmp.resolve("cases.json"), "{\"family\":\"x\",\"model_dir\":\"model\",\"cases\":[{\"name\":\"c1\",\"kind\":\"forward\",\"atol\":0.001}]}");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Verify.Totals t = Verify.run(List.of(tmp), c -> true, new PrintStream(out, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(t.failed()).isEqualTo(1);
        assertThat(text).contains("FAIL " + tmp.getFileName() + "/c1 forward max_abs_err=nan atol=0.00100 — ");
        assertThat(text).contains("not a directory");
        assertThat(text.strip()).endsWith("0 passed, 1 failed, 0 skipped");
    }

    @Test
    void aDirectoryThatIsNotAFixtureIsAClearError() {
        assertThatThrownBy(() -> new Fixture(tmp)).hasMessageContaining("not a fixture directory (no cases.json)");
    }
}
