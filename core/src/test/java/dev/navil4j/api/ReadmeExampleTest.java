package dev.navil4j.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's Java example compiles against this build's API (so the README cannot drift from it). */
class ReadmeExampleTest {
    @TempDir
    Path tmp;

    static String example() throws IOException {
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(Path.of("README.md")));
        assertThat(m.find()).as("README has a ```java block").isTrue();
        return m.group(1);
    }

    @Test
    void theJavaExampleCompiles() throws IOException {
        Path src = Files.writeString(tmp.resolve("Example.java"), example());
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diag = new ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, "-classpath", System.getProperty("java.class.path"), "-d", tmp.toString(), src.toString());
        assertThat(rc).as(diag.toString()).isZero();
        assertThat(tmp.resolve("Example.class")).exists();
    }
}
