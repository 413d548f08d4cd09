package dev.navil4j.bench;

import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.*;

/** The markdown table holds, per shape × format × threads, exactly the figures the runners measured (no timing checks). */
class BenchTableTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    private static Bench.Measurement find(List<Bench.Measurement> ms, String format, int threads, String metric) {
        return ms.stream().filter(m -> m.format().equals(format) && m.threads() == threads && m.metric().equals(metric))
                .findFirst().orElseThrow(() -> new AssertionError("missing " + format + "/" + threads + "/" + metric));
    }

    @Test
    void tinyShapeRowsHoldTheMeasuredFigures() {
        List<Bench.Measurement> got = new ArrayList<>();
        BenchTable table = new BenchTable();
        List<String> streamed = new ArrayList<>();
        List<String> formats = List.of("f32", "bf16", "q8", "q4");
        Bench.run(new Bench.Options(BenchShape.tiny(true), formats, List.of(1, 2), 8, 4, 1, true, true), m -> {
            got.add(m);
            table.accept(m);
            streamed.addAll(table.takeRows(false)); // a row is handed out once its peak RSS (the last figure) is in
        }, QUIET);
        assertEquals(8, streamed.size(), streamed.toString());
        assertTrue(table.takeRows(true).isEmpty(), "every row was complete");

        List<BenchTable.Row> rows = table.rows();
        assertEquals(8, rows.size());
        int i = 0;
        for (String f : formats)
            for (int t : List.of(1, 2)) {
                BenchTable.Row r = rows.get(i);
                assertEquals(new BenchTable.Key("tiny", f, t), r.key);
                List<String> c = r.cells();
                assertEquals(9, c.size());
                assertEquals(List.of("tiny", f, Integer.toString(t)), c.subList(0, 3));
                Bench.Measurement tg = find(got, f, t, "tg4");
                assertEquals(fmt("%.1f", find(got, f, t, "pp8").value()), c.get(3));
                assertEquals(fmt("%.2f", tg.value()), c.get(4));
                assertEquals(fmt("%.1f", tg.bound()), c.get(5));
                assertEquals(fmt("%.0f %%", 100 * tg.fraction()), c.get(6));
                String vision = fmt("%.2f", find(got, f, t, "vision_tile_s").value());
                assertEquals(f.equals("q4") ? vision + " (q8 ViT)" : vision, c.get(7));
                assertEquals(fmt("%.0f MiB", find(got, f, t, "peak_rss").value()), c.get(8));
                assertEquals("| " + String.join(" | ", c) + " |", streamed.get(i));
                i++;
            }

        String md = table.markdown();
        String[] lines = md.split("\n");
        assertEquals(BenchTable.HEADER, lines[0]);
        assertEquals(BenchTable.RULE, lines[1]);
        long columns = BenchTable.HEADER.chars().filter(ch -> ch == '|').count();
        for (int l = 0; l < 10; l++) assertEquals(columns, lines[l].chars().filter(ch -> ch == '|').count(), lines[l]);
        assertEquals("", lines[10]);
        assertTrue(md.contains("pp8") && md.contains("tg4"), md);
        assertFalse(md.contains("NaViL rows"), "no NaViL note without NaViL rows");
    }

    @Test
    void navilRowsShowThe448ImageAndExtrapolatedRowsComeLast() {
        BenchTable table = new BenchTable();
        // measured NaViL-2B: the 1024x768 figures come first, the row must still show the 448x448 image
        for (String img : List.of("img1024x768_", "img448x448_")) {
            double k = img.startsWith("img448") ? 1 : 10;
            table.accept(m("navil-2b", "q8", 2, img + "encode", 0.5 * k, Double.NaN, Double.NaN));
            table.accept(m("navil-2b", "q8", 2, img + "prefill_p" + (int) (300 * k), 40.0 * k, Double.NaN, Double.NaN));
            table.accept(m("navil-2b", "q8", 2, img + "decode_tg16", 9.5 * k, 20.0, 0.475));
        }
        // an extrapolated row (no peak RSS, no bound) arrives before the measured row is complete
        String ex = NaViLBench.extrapolatedLabel(NaViLBench.NAVIL_9B, 36);
        table.accept(m(ex, "bf16", 1, "img448x448_encode", 2.25, Double.NaN, Double.NaN));
        table.accept(m(ex, "bf16", 1, "img448x448_decode_tg16", 1.5, Double.NaN, Double.NaN));
        assertTrue(table.takeRows(false).isEmpty(), "no row has its peak RSS yet");
        table.accept(m("navil-2b", "q8", 2, "peak_rss", 4321.4, Double.NaN, Double.NaN));

        List<String> first = table.takeRows(false);
        assertEquals(List.of("| navil-2b | q8 | 2 | 40.0 (448×448 image prompt, 300 tok) | 9.50 | 20.0 | 48 % | 0.50 (448×448, bf16 ViT) | 4321 MiB |"),
                first);
        List<String> rest = table.takeRows(true);
        assertEquals(List.of("| " + ex + " | bf16 | 1 | – | 1.50 | – | – | 2.25 (448×448) | – |"), rest);
        String md = table.markdown();
        assertTrue(md.contains("NaViL rows run the real NaViL code"), md);
        assertTrue(md.contains("-extrapolated] rows are not measured"), md);
        assertFalse(md.contains("pp?"), "no pp/tg note without LLM rows: " + md);
    }

    @Test
    void aFormatWhoseWeightsDoNotFitIsSkippedNotOomKilled() {
        long available = SyntheticWeights.availableBytes();
        org.junit.jupiter.api.Assumptions.assumeTrue(available > 0, "no /proc/meminfo here");
        // one q_proj of hidden² values, even in bf16, is twice the available memory: refused before anything is allocated
        long limit = 2 * (available + SyntheticWeights.RESERVE);
        int hidden = (int) Math.min(Integer.MAX_VALUE / 64, Math.ceil(Math.sqrt(limit / 2.0) / 64 + 1)) * 64;
        org.junit.jupiter.api.Assumptions.assumeTrue(2.0 * hidden * hidden >= limit);
        BenchShape huge = new BenchShape("huge", hidden, 1, 4, 2, hidden / 4, 128, 160, true, true, 1e6, null);
        List<Bench.Measurement> got = new ArrayList<>();
        BenchTable table = new BenchTable();
        Bench.run(new Bench.Options(huge, List.of("f32", "bf16"), List.of(1, 2), 8, 4, 1, false, true), m -> {
            got.add(m);
            table.accept(m);
        }, QUIET);
        assertEquals(4, got.size(), got.toString());
        for (Bench.Measurement m : got) assertEquals(Bench.SKIPPED, m.metric());
        List<String> rows = table.takeRows(false);
        assertEquals(4, rows.size(), "a skipped row is complete");
        assertTrue(rows.get(0).startsWith("| huge | f32 | 1 | skipped: weights do not fit ("), rows.get(0));
        assertTrue(table.markdown().contains("skipped rows:"));
        // the model code may wrap the loader's exception
        var e = new SyntheticWeights.NotEnoughMemory("w", 1, 0, 0);
        assertSame(e, SyntheticWeights.NotEnoughMemory.in(new IllegalArgumentException("loading w", e)));
        assertNull(SyntheticWeights.NotEnoughMemory.in(new IllegalArgumentException("other")));
    }

    private static Bench.Measurement m(String shape, String format, int threads, String metric, double v, double bound, double fraction) {
        return new Bench.Measurement(shape, format, threads, metric, v, "", bound, fraction);
    }

    private static String fmt(String f, double v) { return String.format(Locale.ROOT, f, v); }
}
