package dev.navil4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.cli.Main;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static dev.navil4j.api.InternVLApiFixtureTest.find;
import static org.assertj.core.api.Assertions.assertThat;

/** The CLI's one-shot and interactive chat print the reference answers of the internvl3-tiny fixture. */
class InternVLCliFixtureTest {
    static Fixture tiny;

    @BeforeAll
    static void load() { tiny = new Fixture(Path.of("fixtures/internvl3-tiny")); }

    @AfterAll
    static void close() { tiny.close(); }

    @Test
    void cliPrintsTheReferenceAnswers() {
        JsonNode img = find(tiny, "gen_image");
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.run(new ByteArrayInputStream(new byte[0]), new PrintWriter(out, true), new PrintWriter(err, true),
                "chat", "--model", "fixtures/internvl3-tiny/model", "--image", tiny.resolve(img.path("images").get(0).asText()).toString(),
                "--max-tiles", "6", "--max-new-tokens", "20", img.path("question").asText());
        assertThat(rc).as(err.toString()).isZero();
        assertThat(out.toString()).isEqualTo(img.path("expect").path("response").asText() + System.lineSeparator());

        // the interactive chat: two rounds in one session = the reference's round 1 and round 2
        JsonNode t1 = find(tiny, "gen_text"), t2 = find(tiny, "gen_text_round2");
        String in = t1.path("question").asText() + "\n" + t2.path("question").asText() + "\n/quit\n";
        StringWriter out2 = new StringWriter();
        rc = Main.run(new ByteArrayInputStream(in.getBytes(StandardCharsets.UTF_8)), new PrintWriter(out2, true), new PrintWriter(err, true),
                "chat", "--model", "fixtures/internvl3-tiny/model", "--max-new-tokens", "20");
        assertThat(rc).as(err.toString()).isZero();
        assertThat(out2.toString()).isEqualTo(t1.path("expect").path("response").asText() + System.lineSeparator()
                + t2.path("expect").path("response").asText() + System.lineSeparator());
    }
}
