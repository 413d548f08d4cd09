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
        // the ```java block that is a whole program (the others are fragments); scripts/readme-check.sh also runs it
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(Path.of("README.md")));
        while (m.find()) if (m.group(1).contains("public class Example")) return m.group(1);
        throw new AssertionError("README has no ```java block with public class Example");
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
