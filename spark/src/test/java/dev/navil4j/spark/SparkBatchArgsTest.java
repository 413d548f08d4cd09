package dev.navil4j.spark;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The batch command's argument errors are one line and exit 2, before any Spark session starts. */
class SparkBatchArgsTest {
    private static String[] run(String... args) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc = SparkBatch.run(args, new PrintStream(buf, true, StandardCharsets.UTF_8));
        return new String[] {Integer.toString(rc), buf.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void usageErrorsAreOneLine() throws Exception {
        for (String[][] c : new String[][][] {
                {{"--model", "m", "--input", "in"}, {"--output are required"}},
                {{"--model", "m", "--input", "in", "--output", "out", "--cores", "0"}, {"--cores must be >= 1"}},
                {{"--model", "m", "--input", "in", "--output", "out", "--partitions-per-core", "0"}, {"--partitions-per-core must be >= 1"}},
                {{"--model", "m", "--input", "in", "--output", "out", "--max-tiles", "many"}, {"--max-tiles needs a whole number"}},
                {{"--bogus", "x"}, {"unknown option --bogus"}},
                {{"--model"}, {"--model needs a value"}}}) {
            String[] r = run(c[0]);
            assertThat(r[0]).isEqualTo("2");
            assertThat(r[1].lines().toList()).hasSize(1);
            assertThat(r[1]).startsWith("navil4j-spark-batch: ").contains(c[1][0]);
        }
        assertThat(run("--help")[0]).isEqualTo("0");
    }
}
