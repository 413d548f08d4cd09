package dev.navil4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The benchmark as one markdown table, a row per shape × format × thread count (the layout of issue 7's reference
 * table), assembled from the {@link Bench.Measurement}s that {@link Bench} and {@link NaViLBench} emit: metrics
 * {@code pp<N>}, {@code tg<N>}, {@code vision_tile_s}, {@code peak_rss}, and for NaViL per image
 * {@code img<W>x<H>_prefill_p<N>}, {@code img<W>x<H>_decode_tg<N>}, {@code img<W>x<H>_encode}. Figures that are
 * not what the column header says at face value carry a note in the cell and a line under the table.
 */
public final class BenchTable implements Consumer<Bench.Measurement> {
    public static final String HEADER = "| shape | format | threads | prefill tok/s | decode tok/s | decode bound tok/s | % of bound "
            + "| vision encode s | peak RSS |";
    public static final String RULE = "|---|---|---:|---:|---:|---:|---:|---:|---:|";
    /** The image a NaViL row shows: one 448×448 image, as the reference table asks (else the first measured). */
    static final String PREFERRED_IMAGE = "448x448";
    static final String NONE = "–";

    private static final Pattern PP = Pattern.compile("pp(\\d+)"), TG = Pattern.compile("tg(\\d+)"),
            IMAGE = Pattern.compile("img(\\d+x\\d+)_(prefill_p|decode_tg|encode)(\\d*)");

    public record Key(String shape, String format, int threads) {}

    /** One image's figures (NaViL rows); NaN where not measured. */
    static final class Image {
        double prefill = Double.NaN, decode = Double.NaN, bound = Double.NaN, fraction = Double.NaN, encode = Double.NaN;
        int promptTokens;
    }

    /** One table row; NaN where not measured. */
    public static final class Row {
        public final Key key;
        double prefill = Double.NaN, decode = Double.NaN, bound = Double.NaN, fraction = Double.NaN, vision = Double.NaN,
                rss = Double.NaN, skippedAvailableMiB = Double.NaN;
        final Map<String, Image> images = new LinkedHashMap<>();
        boolean printed;

        Row(Key key) { this.key = key; }

        boolean navil() { return !images.isEmpty(); }

        boolean extrapolated() { return key.shape().endsWith("-extrapolated]"); }

        /** The image this row shows (NaViL), or null. */
        Map.Entry<String, Image> image() {
            if (images.containsKey(PREFERRED_IMAGE)) return Map.entry(PREFERRED_IMAGE, images.get(PREFERRED_IMAGE));
            return images.isEmpty() ? null : images.entrySet().iterator().next();
        }

        boolean skipped() { return !Double.isNaN(skippedAvailableMiB); }

        /** Both runners emit peak_rss last for a shape × format × thread count; a skipped format emits only its marker. */
        boolean complete() { return !Double.isNaN(rss) || skipped(); }

        /** The nine cells, in header order. */
        public List<String> cells() {
            String fmt = key.format().toLowerCase(Locale.ROOT);
            List<String> c = new ArrayList<>(List.of(key.shape(), key.format(), Integer.toString(key.threads())));
            if (skipped()) {
                c.add(String.format(Locale.ROOT, "skipped: weights do not fit (%.0f MiB available)", skippedAvailableMiB));
                while (c.size() < 9) c.add(NONE);
                return c;
            }
            Map.Entry<String, Image> img = image();
            if (img == null) {
                c.add(num(prefill, 1));
                c.add(num(decode, 2));
                c.add(num(bound, 1));
                c.add(percent(fraction));
                // the bench keeps the vision tower in Q8 for Q4 runs: say so where the cell would read as a Q4 ViT
                c.add(Double.isNaN(vision) ? NONE : num(vision, 2) + (fmt.startsWith("q4") ? " (q8 ViT)" : ""));
            } else {
                Image i = img.getValue();
                String size = img.getKey().replace('x', '×');
                c.add(Double.isNaN(i.prefill) ? NONE : num(i.prefill, 1) + " (" + size + " image prompt, " + i.promptTokens + " tok)");
                c.add(num(i.decode, 2));
                c.add(num(i.bound, 1));
                c.add(percent(i.fraction));
                // NaViLBench keeps the ViT and projector in bf16 when the LLM is quantized
                String vit = fmt.startsWith("q") ? ", bf16 ViT" : "";
                c.add(Double.isNaN(i.encode) ? NONE : num(i.encode, 2) + " (" + size + vit + ")");
            }
            c.add(Double.isNaN(rss) ? NONE : String.format(Locale.ROOT, "%.0f MiB", rss));
            return c;
        }

        public String markdown() { return "| " + String.join(" | ", cells()) + " |"; }
    }

    private final Map<Key, Row> rows = new LinkedHashMap<>();
    private final TreeSet<Integer> promptLengths = new TreeSet<>(), genLengths = new TreeSet<>();

    @Override
    public void accept(Bench.Measurement m) {
        Row r = rows.computeIfAbsent(new Key(m.shape(), m.format(), m.threads()), Row::new);
        String metric = m.metric();
        Matcher x;
        if ((x = PP.matcher(metric)).matches()) {
            r.prefill = m.value();
            promptLengths.add(Integer.parseInt(x.group(1)));
        } else if ((x = TG.matcher(metric)).matches()) {
            r.decode = m.value();
            r.bound = m.bound();
            r.fraction = m.fraction();
            genLengths.add(Integer.parseInt(x.group(1)));
        } else if (metric.equals("vision_tile_s")) {
            r.vision = m.value();
        } else if (metric.equals("peak_rss")) {
            r.rss = m.value();
        } else if (metric.equals(Bench.SKIPPED)) {
            r.skippedAvailableMiB = m.value();
        } else if ((x = IMAGE.matcher(metric)).matches()) {
            Image i = r.images.computeIfAbsent(x.group(1), k -> new Image());
            switch (x.group(2)) {
                case "prefill_p" -> {
                    i.prefill = m.value();
                    i.promptTokens = Integer.parseInt(x.group(3));
                }
                case "decode_tg" -> {
                    i.decode = m.value();
                    i.bound = m.bound();
                    i.fraction = m.fraction();
                    genLengths.add(Integer.parseInt(x.group(3)));
                }
                default -> i.encode = m.value();
            }
        }
        // other metrics (read_bandwidth, image scales/patches/tokens, preprocess, bytes per token) are not columns
    }

    /** The rows in the order their first measurement came. */
    public List<Row> rows() { return List.copyOf(rows.values()); }

    /**
     * Rows not yet handed out that are complete ({@link Row#complete}). {@code all} hands out the rest too (at the
     * end: extrapolated rows have no peak_rss).
     */
    public List<String> takeRows(boolean all) {
        List<String> out = new ArrayList<>();
        for (Row r : rows.values())
            if (!r.printed && (all || r.complete())) {
                r.printed = true;
                out.add(r.markdown());
            }
        return out;
    }

    /** What the figures are, for the lines under the table (only the notes that apply to its rows). */
    public List<String> notes() {
        List<String> n = new ArrayList<>();
        boolean llm = rows.values().stream().anyMatch(r -> !r.navil() && !(Double.isNaN(r.prefill) && Double.isNaN(r.decode)));
        if (llm)
            n.add("prefill = pp" + lengths(promptLengths) + " (a prompt of that many tokens), decode = tg" + lengths(genLengths)
                    + " (tokens generated one at a time from an empty context), like llama-bench; medians over the repetitions.");
        n.add("decode bound = read bandwidth measured over the weights themselves ÷ weight bytes read per decoded token; "
                + "% of bound = decode ÷ bound.");
        if (rows.values().stream().anyMatch(r -> !r.navil() && !Double.isNaN(r.vision)))
            n.add("vision encode (InternVL shapes) = one 448² tile through InternViT-300M + the mlp1 projector.");
        if (rows.values().stream().anyMatch(r -> !r.navil() && r.key.format().toLowerCase(Locale.ROOT).startsWith("q4")))
            n.add("q4 rows (InternVL/Qwen shapes) keep embedding/lm_head in q8, as llama.cpp's Q4_0 files keep the output "
                    + "matrix above 4 bits, and the vision tower in q8 (4-bit ruins InternViT).");
        if (rows.values().stream().anyMatch(Row::navil))
            n.add("NaViL rows run the real NaViL code: prefill = the whole chat prompt of one image (text + visual tokens "
                    + "through the visual experts), decode = tg" + lengths(genLengths) + ": text tokens after it, vision encode = that image's pyramid through "
                    + "the ViT + projector (ViT, projector and embeddings stay bf16 when the LLM is q8/q4, the lm_head q8 in q4 "
                    + "runs; the ViT size is assumed, see bench/NaViLBench).");
        if (rows.values().stream().anyMatch(Row::extrapolated))
            n.add("[NL-extrapolated] rows are not measured at that depth: per-token times are extrapolated linearly from the "
                    + "two smaller depths measured (rows [a/NL], [b/NL]); no bound or peak RSS.");
        if (rows.values().stream().anyMatch(Row::skipped))
            n.add("skipped rows: synthesizing that format's weights would have left less than 1 GiB of the machine's available "
                    + "memory (MemAvailable); run that shape alone, on a machine with more free memory.");
        n.add(Bench.peakRssResettable()
                ? "peak RSS = the process's high-water mark for that format and thread count (reset before each), including the JVM."
                : "peak RSS = the process's high-water mark since it started (it could not be reset here): a row shows the largest "
                  + "peak of every row above it too.");
        return n;
    }

    /** The whole table with its notes. */
    public String markdown() {
        StringBuilder b = new StringBuilder(HEADER).append('\n').append(RULE).append('\n');
        for (Row r : rows.values()) b.append(r.markdown()).append('\n');
        b.append('\n');
        for (String note : notes()) b.append("- ").append(note).append('\n');
        return b.toString();
    }

    private static String lengths(TreeSet<Integer> s) {
        if (s.isEmpty()) return "?";
        return s.size() == 1 ? s.first().toString() : s.toString().replace(" ", "");
    }

    private static String num(double v, int decimals) {
        return Double.isNaN(v) ? NONE : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static String percent(double f) {
        return Double.isNaN(f) ? NONE : String.format(Locale.ROOT, "%.0f %%", 100 * f);
    }
}
