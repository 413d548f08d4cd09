package dev.navil4j.api;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's Maven snippets name real artifacts: every {@code dev.navil4j} artifact in an xml block of README.md is
 * a module of this build (its pom's own artifactId, at the root pom's version), and the BOM manages every library
 * module the README's module table lists.
 */
class ReadmeModulesTest {
    private static final Pattern XML_BLOCK = Pattern.compile("```xml\n(.*?)```", Pattern.DOTALL);
    private static final Pattern DEP = Pattern.compile(
            "<groupId>dev\\.navil4j</groupId>\\s*<artifactId>([^<]+)</artifactId>(?:\\s*<version>([^<]+)</version>)?");
    private static final Pattern OWN_ARTIFACT = Pattern.compile("</parent>\\s*<artifactId>([^<]+)</artifactId>"
            + "|<modelVersion>4\\.0\\.0</modelVersion>\\s*<groupId>dev\\.navil4j</groupId>\\s*<artifactId>([^<]+)</artifactId>");

    @Test
    void everySnippetArtifactIsAModuleOfThisBuild() throws IOException {
        String root = Files.readString(Path.of("pom.xml"));
        Matcher v = Pattern.compile("<artifactId>navil4j-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(root);
        assertThat(v.find()).isTrue();
        String version = v.group(1);
        Map<String, Path> modules = new HashMap<>();
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(root);
        while (m.find()) {
            String pom = Files.readString(Path.of(m.group(1), "pom.xml"));
            Matcher a = OWN_ARTIFACT.matcher(pom);
            assertThat(a.find()).as(m.group(1)).isTrue();
            modules.put(a.group(1) != null ? a.group(1) : a.group(2), Path.of(m.group(1)));
        }
        String readme = Files.readString(Path.of("README.md"));
        Set<String> named = new LinkedHashSet<>();
        Matcher block = XML_BLOCK.matcher(readme);
        while (block.find()) {
            Matcher d = DEP.matcher(block.group(1));
            while (d.find()) {
                named.add(d.group(1));
                if (d.group(2) != null) assertThat(d.group(2)).as(d.group(1) + " version").isEqualTo(version);
            }
        }
        assertThat(named).contains("navil4j-bom", "navil4j-core", "navil4j-video", "navil4j-langchain4j");
        assertThat(modules.keySet()).containsAll(named);

        String bom = Files.readString(modules.get("navil4j-bom").resolve("pom.xml"));
        for (String lib : Set.of("navil4j-core", "navil4j-video", "navil4j-server", "navil4j-langchain4j"))
            assertThat(bom).as("the BOM manages " + lib).contains("<artifactId>" + lib + "</artifactId>");
    }
}
