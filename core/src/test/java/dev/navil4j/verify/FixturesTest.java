package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.video.Videos;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every case of every fixture directory in the repository's own {@code fixtures/}, through the same
 * runner as {@code ./navil4j verify}: a FAIL fails the build. A SKIP (a kind whose runner is not
 * implemented yet) is reported as an aborted test, never as a pass; the kinds listed in
 * {@link #MUST_PASS} may not be skipped at all.
 */
class FixturesTest {
    private static final List<Fixture> OPEN = new ArrayList<>();
    /** Kinds whose runners exist; grows as the family issues land. */
    static final Set<String> MUST_PASS = Set.of("tokenize", "decode", "preprocess", "video", "vision", "forward",
            "generate", "batch_generate");
    /** Fixture families (cases.json "family") whose every case must pass, whatever its kind. */
    static final Set<String> MUST_PASS_FAMILIES = Set.of("internvl3", "vora-train");

    @TestFactory
    Stream<DynamicNode> allFixtureCases() throws IOException {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(Path.of("fixtures"))) {
            dirs = s.filter(d -> Files.exists(d.resolve("cases.json"))).sorted().toList();
        }
        assertThat(dirs).hasSizeGreaterThanOrEqualTo(7);
        // navil4j-video's build runs this class again for the directories with video cases only (video/pom.xml)
        String only = System.getProperty("navil4j.fixtures.only", "");
        if (!only.isEmpty()) {
            Set<String> names = Set.of(only.split(","));
            dirs = dirs.stream().filter(d -> names.contains(d.getFileName().toString())).toList();
            assertThat(dirs).as("fixture directories " + only).hasSize(names.size());
        }
        return dirs.stream().map(d -> {
            Fixture fx = new Fixture(d);
            OPEN.add(fx);
            return DynamicContainer.dynamicContainer(fx.name, fx.cases().stream().map(c -> caseTest(fx, c)));
        });
    }

    private static DynamicTest caseTest(Fixture fx, JsonNode c) {
        String name = c.path("name").asText() + " [" + c.path("kind").asText() + "]";
        return DynamicTest.dynamicTest(name, () -> {
            // a case that decodes a video file needs the optional decoder module: it runs in navil4j-video's build
            if (c.has("video") && !Videos.available()) Assumptions.abort("no video decoder here (runs in navil4j-video): " + name);
            CaseResult r = Verify.runCase(fx, c);
            String line = Verify.format(fx, c, r);
            String kind = c.path("kind").asText();
            if (r.status() == CaseResult.Status.SKIP && !MUST_PASS.contains(kind) && !MUST_PASS_FAMILIES.contains(fx.family()))
                Assumptions.abort(line);
            assertThat(r.status()).as(line).isEqualTo(CaseResult.Status.PASS);
        });
    }

    @AfterAll
    static void close() {
        OPEN.forEach(Fixture::close);
        OPEN.clear();
    }
}
