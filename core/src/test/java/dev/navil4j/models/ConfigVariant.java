package dev.navil4j.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Fixture;
import dev.navil4j.verify.Verify;
import dev.navil4j.weights.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fixture whose checkpoint has an edited config.json (or generation_config.json): every other file is a
 * symbolic link to the original, so the fixture's expected outputs stay the reference's. A config rule whose
 * reference behaviour leaves the output unchanged (a flag the reference ignores or overrides) is then tested by
 * the original cases passing on the variant; breaking the rule changes the output and fails them.
 */
public final class ConfigVariant {
    private static final Path FIXTURES = Path.of("fixtures").toAbsolutePath();

    private static final List<Path> CREATED = new java.util.concurrent.CopyOnWriteArrayList<>();

    static {
        // the variants are links and small JSON files; remove them when the test JVM ends (links are not followed)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> CREATED.forEach(ConfigVariant::deleteTree)));
    }

    private ConfigVariant() {}

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: target/ is build output
        }
    }

    /** fixtures/{fixture} with {@code file} of its model/ directory edited; returned path is the variant fixture dir. */
    public static Path of(String fixture, String file, Consumer<ObjectNode> edit) {
        try {
            Path root = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "config-variant-");
            CREATED.add(root);
            Files.createSymbolicLink(root.resolve("images"), FIXTURES.resolve("images")); // cases name ../images/...
            Path src = FIXTURES.resolve(fixture), dst = root.resolve(fixture);
            Files.createDirectories(dst);
            try (Stream<Path> s = Files.list(src)) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (n.equals("model")) copyModel(p, dst.resolve("model"), file, edit);
                    else Files.createSymbolicLink(dst.resolve(n), p);
                }
            }
            return dst;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** As {@link #of(String, String, Consumer)} for config.json. */
    public static Path of(String fixture, Consumer<ObjectNode> edit) { return of(fixture, "config.json", edit); }

    private static void copyModel(Path src, Path dst, String file, Consumer<ObjectNode> edit) throws IOException {
        Files.createDirectories(dst);
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : s.toList())
                if (!p.getFileName().toString().equals(file)) Files.createSymbolicLink(dst.resolve(p.getFileName()), p);
        }
        Path f = src.resolve(file);
        ObjectNode node = Files.exists(f) ? (ObjectNode) Json.read(f) : Json.MAPPER.createObjectNode();
        edit.accept(node);
        Files.writeString(dst.resolve(file), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    }

    /** Runs the variant's cases of the given kinds through the verify runner; every one must PASS. Returns how many ran. */
    public static int assertCasesPass(Path variant, Set<String> kinds) {
        List<String> lines = new ArrayList<>();
        int ran = 0;
        try (Fixture fx = new Fixture(variant)) {
            for (JsonNode c : fx.cases()) {
                if (!kinds.contains(c.path("kind").asText())) continue;
                CaseResult r = Verify.runCase(fx, c);
                ran++;
                if (r.status() != CaseResult.Status.PASS) lines.add(c.path("name").asText() + ": " + r);
            }
        }
        assertThat(lines).as("cases of the variant that do not reproduce the reference").isEmpty();
        assertThat(ran).as("cases run").isPositive();
        return ran;
    }

    /** The llm_config object of an InternVL / NaViL config. */
    public static ObjectNode llm(ObjectNode config) { return (ObjectNode) config.get("llm_config"); }
}
