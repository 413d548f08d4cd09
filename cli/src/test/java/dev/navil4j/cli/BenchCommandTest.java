package dev.navil4j.cli;

import dev.navil4j.tensor.Parallel;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What `bench` runs for a command line: the single-run defaults, --table's reference set, and explicit options winning. */
class BenchCommandTest {
    private static BenchCommand parse(String... args) {
        BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs(args);
        return c;
    }

    @Test
    void defaultsWithAndWithoutTable() {
        BenchCommand plain = parse();
        assertEquals(List.of("qwen2.5-0.5b"), plain.shapeNames());
        assertEquals(List.of("bf16"), plain.formatNames());
        assertEquals(List.of(Parallel.threads()), plain.threadCounts());
        assertNull(plain.navilImages(null), "NaViLBench's own sizes");

        BenchCommand table = parse("--table");
        assertEquals(List.of("internvl3-1b", "internvl3-2b", "navil-2b"), table.shapeNames());
        assertEquals(List.of("f32", "bf16", "q8", "q4"), table.formatNames());
        assertEquals(List.of(1, 2), table.threadCounts());
        assertArrayEquals(new int[][]{{448, 448}}, table.navilImages(null));
        assertArrayEquals(new int[][]{{1024, 768}}, table.navilImages("1024x768"), "the environment variable wins over the table default");
    }

    @Test
    void helpRendersWithoutPicocliWarnings() {
        var err = new java.io.ByteArrayOutputStream();
        var saved = System.err;
        System.setErr(new java.io.PrintStream(err, true));
        String usage;
        try {
            usage = new CommandLine(new BenchCommand()).getUsageMessage();
        } finally {
            System.setErr(saved);
        }
        assertTrue(usage.contains("--table") && usage.contains("% of bound"), usage);
        assertEquals("", err.toString(), "picocli could not format a description");
    }

    @Test
    void explicitOptionsWin() {
        BenchCommand c = parse("--table", "--shape", "qwen2.5-0.5b,navil-2b", "--format", "bf16", "--threads", "2",
                "--images", "448x448,1024x768", "-p", "64", "-n", "16", "-r", "1", "--json");
        assertEquals(List.of("qwen2.5-0.5b", "navil-2b"), c.shapeNames());
        assertEquals(List.of("bf16"), c.formatNames());
        assertEquals(List.of(2), c.threadCounts());
        assertArrayEquals(new int[][]{{448, 448}, {1024, 768}}, c.navilImages("640x480"));
        assertEquals(64, c.prompt);
        assertEquals(16, c.gen);
        assertEquals(1, c.reps);
        assertTrue(c.json && c.table);
        assertThrows(IllegalArgumentException.class, () -> parse("--images", "448by448").navilImages(null));
        assertThrows(IllegalArgumentException.class, () -> parse("--table", "--kernels").call());
        assertThrows(IllegalArgumentException.class, () -> parse("--table", "--shape", "llama-70b").call());
    }
}
