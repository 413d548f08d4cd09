package dev.navil4j.cli;

import dev.navil4j.ChatModel;
import dev.navil4j.Navil4j;
import dev.navil4j.hub.FakeHub;
import dev.navil4j.toy.ToyFamily;
import dev.navil4j.toy.ToyModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hub ids through the same HF cache resolution as {@code serve}, for {@code chat}, {@code quantize} and
 * {@code Navil4j.load(String)}, against a local fake hub; the settings come in as the HF_* system properties
 * (a test cannot set its own environment), which {@code HfHub.Settings.fromEnvironment} reads like the variables.
 */
class HubIdsTest {
    static final List<String> KEYS = List.of("HF_HUB_CACHE", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_TOKEN");
    @TempDir Path tmp;
    final Map<String, String> saved = new HashMap<>();
    FakeHub hub;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new ByteArrayInputStream(new byte[0]), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeEach
    void setUp() {
        ToyFamily.register();
        for (String k : KEYS) saved.put(k, System.getProperty(k));
        System.setProperty("HF_HUB_CACHE", tmp.resolve("cache").toString());
        System.setProperty("HF_HUB_OFFLINE", "0");
        System.setProperty("HF_TOKEN", "");
    }

    @AfterEach
    void restore() {
        if (hub != null) hub.close();
        saved.forEach((k, v) -> { if (v == null) System.clearProperty(k); else System.setProperty(k, v); });
    }

    FakeHub serve(String repo, Path dir) {
        hub = new FakeHub(repo, dir);
        System.setProperty("HF_ENDPOINT", hub.endpoint());
        return hub;
    }

    @Test
    void chatResolvesARepoIdThroughTheCacheThenWorksOffline() {
        serve("org/toy", ToyFamily.writeModel(tmp.resolve("toy"), 512));
        Run r = run("chat", "--model", "org/toy", "Hello");
        assertThat(r.err()).isEmpty();
        assertThat(r.code()).isZero();
        assertThat(r.out().strip()).isEqualTo(ToyModel.answerFor("Hello", 1, 0).strip());
        Path snap = tmp.resolve("cache/models--org--toy/snapshots/" + FakeHub.COMMIT);
        assertThat(snap.resolve("config.json")).exists();
        assertThat(Files.isSymbolicLink(snap.resolve("config.json"))).isTrue();
        // offline: the cache answers, the hub is never asked
        hub.requests.clear();
        System.setProperty("HF_HUB_OFFLINE", "1");
        assertThat(run("chat", "--model", "org/toy@main", "Hello").code()).isZero();
        assertThat(hub.requests).isEmpty();
    }

    /** The example: {@code chat --model OpenGVLab/InternVL3-1B}, here the fixture checkpoint behind that id. */
    @Test
    void chatOnAnInternVLRepoIdGivesTheReferenceAnswer() throws Exception {
        Path fixture = Path.of("fixtures/internvl3-tiny").toAbsolutePath();
        serve("OpenGVLab/InternVL3-1B", fixture.resolve("model"));
        com.fasterxml.jackson.databind.JsonNode gen = null;
        for (var c : dev.navil4j.weights.Json.read(fixture.resolve("cases.json")).path("cases"))
            if (c.path("name").asText().equals("gen_text")) gen = c;
        assertThat(gen).isNotNull();
        Run r = run("chat", "--model", "OpenGVLab/InternVL3-1B", "--max-new-tokens",
                gen.path("generation").path("max_new_tokens").asText(), gen.path("question").asText());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(gen.path("expect").path("response").asText() + System.lineSeparator());
        assertThat(tmp.resolve("cache/models--OpenGVLab--InternVL3-1B/snapshots/" + FakeHub.COMMIT + "/model.safetensors")).exists();
    }

    @Test
    void libraryLoadTakesARepoId() {
        serve("org/toy", ToyFamily.writeModel(tmp.resolve("toy"), 512));
        try (ChatModel m = Navil4j.load("org/toy")) {
            assertThat(m.family()).isEqualTo("toy");
        }
    }

    /** quantize downloads a real (fixture) checkpoint by repo id and writes the quantized copy. */
    @Test
    void quantizeResolvesARepoId() {
        serve("org/internvl3-tiny", Path.of("fixtures/internvl3-tiny/model").toAbsolutePath());
        Path out = tmp.resolve("q8");
        Run r = run("quantize", "org/internvl3-tiny", out.toString(), "--weights", "q8");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(out.resolve("config.json")).exists();
    }

    /** bench --config takes a repo id and downloads its config.json only: the shape's rows, no weights fetched. */
    @Test
    void benchConfigFetchesOnlyTheConfig() {
        serve("OpenGVLab/InternVL3-1B", Path.of("fixtures/internvl3-tiny/model").toAbsolutePath());
        // bench writes its measurements to System.out itself
        java.io.ByteArrayOutputStream stdout = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.out;
        Run r;
        try {
            System.setOut(new java.io.PrintStream(stdout, true, java.nio.charset.StandardCharsets.UTF_8));
            r = run("bench", "--config", "OpenGVLab/InternVL3-1B", "-p", "8", "-n", "4", "--reps", "1", "--threads", "1", "--json");
        } finally {
            System.setOut(saved);
        }
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(stdout.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("\"shape\":\"OpenGVLab/InternVL3-1B\"").contains("\"metric\":\"tg4\"").contains("vision_tile_s");
        assertThat(hub.requests).anyMatch(q -> q.endsWith("/config.json")).noneMatch(q -> q.contains(".safetensors"));
    }

    /** Not cached and offline / hub unreachable: one line saying which, and what to do (no "(null)"). */
    @Test
    void unresolvableIdsSayWhy() {
        System.setProperty("HF_HUB_OFFLINE", "1");
        Run off = run("chat", "--model", "org/absent", "Hi");
        assertThat(off.code()).isNotZero();
        assertThat(off.err().lines().toList()).hasSize(1);
        assertThat(off.err()).contains("org/absent@main is not in the Hugging Face cache").contains("HF_HUB_OFFLINE is set")
                .contains("unset HF_HUB_OFFLINE to download it");

        System.setProperty("HF_HUB_OFFLINE", "0");
        serve("org/toy", tmp.resolve("nothing"));
        String endpoint = hub.endpoint();
        hub.close();
        hub = null;
        Run down = run("quantize", "org/absent", tmp.resolve("o").toString(), "--weights", "q8");
        assertThat(down.code()).isNotZero();
        assertThat(down.err()).contains("the hub " + endpoint + " is unreachable (").contains("check the network connection or HF_ENDPOINT")
                .doesNotContain("(null)").doesNotContain("HF_HUB_OFFLINE");
    }
}
