package dev.navil4j.cli;

import dev.navil4j.bench.Bench;
import dev.navil4j.bench.BenchShape;
import dev.navil4j.bench.BenchTable;
import dev.navil4j.bench.ConfigShape;
import dev.navil4j.hub.ModelSource;
import dev.navil4j.weights.Json;
import dev.navil4j.bench.NaViLBench;
import dev.navil4j.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures prefill and decode tokens/s like llama-bench (pp512 / tg128) on random weights of a real "
                + "model shape synthesized in memory, per weight format and thread count, with the memory-bandwidth bound "
                + "for decode and the fraction reached; seconds per 448px tile for shapes with a vision tower.",
                "Example: ./navil4j bench --shape qwen2.5-0.5b --format bf16,q8,q4 --threads 1,2",
                "         ./navil4j bench --config OpenGVLab/InternVL3-2B --format q8   (the shape of a hub checkpoint)",
                "         ./navil4j bench --table   (a markdown table: 3 shapes x 4 formats x 1,2 threads)"})
final class BenchCommand implements Callable<Integer> {
    /** What --table measures unless --shape / --format / --threads / --images say otherwise. */
    static final List<String> TABLE_SHAPES = List.of("internvl3-1b", "internvl3-2b", "navil-2b"),
            TABLE_FORMATS = List.of("f32", "bf16", "q8", "q4");
    static final List<Integer> TABLE_THREADS = List.of(1, 2);
    static final String TABLE_IMAGES = "448x448";

    @Option(names = "--shape", split = ",", paramLabel = "SHAPE",
            description = "qwen2.5-0.5b, internvl3-1b, internvl3-2b, navil-2b or navil-9b, comma separated (navil: real NaViL code "
                    + "on images, the visual prompt replaces -p; default: qwen2.5-0.5b, with --table: internvl3-1b,internvl3-2b,navil-2b)")
    List<String> shapes;

    @Option(names = "--config", split = ",", paramLabel = "MODEL",
            description = "also the shape of a checkpoint's config.json: a directory, a config.json, or a hub repo id "
                    + "org/name[@revision] (only its config.json is downloaded, through the HF cache), comma separated; "
                    + "InternVL (original or -hf layout) and bare Qwen2/Qwen3/InternLM2/Llama configs")
    List<String> configs;

    @Option(names = "--format", split = ",", paramLabel = "FORMAT",
            description = "weight formats: f32, bf16, f16, q8, q4, comma separated (default: bf16, with --table: f32,bf16,q8,q4)")
    List<String> formats;

    @Option(names = "--threads", split = ",", paramLabel = "N",
            description = "thread counts, comma separated (default: the number of cores, with --table: 1,2)")
    List<Integer> threads;

    @Option(names = {"-p", "--prompt"}, defaultValue = "512", description = "prefill length (0 = skip; default ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = {"-n", "--gen"}, defaultValue = "128", description = "decoded tokens (0 = skip; default ${DEFAULT-VALUE})")
    int gen;

    @Option(names = {"-r", "--reps"}, defaultValue = "2", description = "repetitions, the median is reported (default ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--images", paramLabel = "WxH[,WxH...]",
            description = "navil shapes: image sizes (default: $NAVIL4J_BENCH_IMAGES or 448x448,1024x768, with --table: 448x448)")
    String images;

    @Option(names = "--vision", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "also time one vision tile for shapes that have a vision tower (default: true)")
    boolean vision;

    @Option(names = "--no-llm", description = "skip the language model (vision tile only)")
    boolean noLlm;

    @Option(names = "--concurrency", split = ",", paramLabel = "N",
            description = "also decode N sequences as one batch (one forward per token for all N): aggregate tok/s "
                    + "(metric decode_aggregate; with --json each line carries \"concurrency\") and the speed-up over N = 1")
    List<Integer> concurrency;

    @Option(names = "--engine", description = "also the engine figures: a 2nd image-chat turn's time to first token vs the "
            + "1st (prefix reuse + media cache), and inter-token latency p50/p99 of 4 streams while a 2000-token prompt is "
            + "admitted by the server's scheduler, chunked and in one piece")
    boolean engine;

    @Option(names = "--kernels", description = "instead: GEMV GB/s per format out of DRAM (4096x4096 and 4864x896 rows, 512 MiB of "
            + "distinct matrices) and GEMM GFLOP/s (1024^3); JMH microbenchmarks: docs/KERNELS.md")
    boolean kernels;

    @Option(names = "--table", description = "print one markdown table, a row per shape x format x threads (prefill, decode, "
            + "bound, %% of bound, vision encode s, peak RSS) with notes; each measurement also goes to stderr as it comes")
    boolean table;

    @Option(names = "--json", description = "one JSON object per measurement (with --table: on stdout, and the table on stderr at the end)")
    boolean json;

    @Option(names = "--batch-tiles", paramLabel = "N", description = "shapes with a vision tower: also encode N tiles in one call "
            + "(13 = a 4:3 photo at max_num 12 with its thumbnail) and report its time against N single tiles")
    int batchTiles;

    @Override
    public Integer call() {
        if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1");
        if (batchTiles < 0) throw new IllegalArgumentException("--batch-tiles must be >= 0");
        if (prompt < 0 || gen < 0) throw new IllegalArgumentException("--prompt and --gen must be >= 0");
        if (table && kernels) throw new IllegalArgumentException("--table and --kernels cannot be combined");
        List<Integer> th = threadCounts();
        dev.navil4j.tensor.Simd.logOnce();
        if (concurrency != null) for (int n : concurrency) if (n < 1) throw new IllegalArgumentException("--concurrency must be >= 1, got " + n);
        for (int t : th) if (t < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + t);
        if (kernels) {
            printHeader();
            for (int t : th) Bench.kernels(t, System.err).forEach(this::print);
            return 0;
        }
        List<String> fs = formatNames();
        for (String f : fs) Bench.format(f); // fail before the slow part on a typo
        // resolve every shape first, for the same reason
        List<Object> resolved = new ArrayList<>();
        for (String name : shapeNames()) {
            NaViLBench.Shape navil = NaViLBench.forName(name);
            resolved.add(navil != null ? navil : BenchShape.named(name));
        }
        if (configs != null) for (String c : configs) {
            ConfigShape cs = ConfigShape.of(c, Json.Obj.of(ModelSource.resolveConfig(c, System.err)));
            for (String note : cs.notes()) System.err.println("# " + c + ": " + note);
            resolved.add(cs.shape());
        }
        int[][] navilImages = navilImages(System.getenv("NAVIL4J_BENCH_IMAGES"));

        BenchTable tab = table ? new BenchTable() : null;
        Consumer<Bench.Measurement> sink = this::print;
        if (tab != null) {
            if (!json) {
                System.out.println(BenchTable.HEADER);
                System.out.println(BenchTable.RULE);
                System.out.flush();
            }
            sink = m -> {
                print(m);
                tab.accept(m);
                if (!json) printRows(tab.takeRows(false));
            };
        } else printHeader();
        for (Object shape : resolved) {
            // navil-2b / navil-9b: the real NaViL model code on synthesized weights, images through the pyramid
            if (shape instanceof NaViLBench.Shape navil) {
                Bench.Options o = new Bench.Options(null, fs, th, prompt, gen, reps, vision, !noLlm);
                if (navilImages != null) NaViLBench.run(navil, o, navilImages, sink, System.err);
                else NaViLBench.run(navil, o, sink, System.err);
            } else {
                Bench.run(new Bench.Options((BenchShape) shape, fs, th, prompt, gen, reps, vision, !noLlm,
                        concurrency == null ? List.of() : concurrency, engine, batchTiles), sink, System.err);
            }
        }
        if (tab != null) {
            if (json) System.err.print("\n" + tab.markdown());
            else {
                printRows(tab.takeRows(true));
                System.out.println();
                for (String note : tab.notes()) System.out.println("- " + note);
            }
        }
        return 0;
    }

    // what runs when an option is not given: the single-run defaults, or the reference table's set with --table
    List<String> shapeNames() {
        return shapes != null ? shapes : table ? TABLE_SHAPES : configs != null ? List.of() : List.of("qwen2.5-0.5b");
    }

    List<String> formatNames() { return formats != null ? formats : table ? TABLE_FORMATS : List.of("bf16"); }

    List<Integer> threadCounts() { return threads != null ? threads : table ? TABLE_THREADS : List.of(Parallel.threads()); }

    /** NaViL image sizes: --images, else NAVIL4J_BENCH_IMAGES ({@code env}), else with --table one 448×448 image; null = NaViLBench's own. */
    int[][] navilImages(String env) {
        if (images != null) return NaViLBench.parseImages(images, "--images");
        boolean envSet = env != null && !env.isBlank();
        if (envSet) return NaViLBench.parseImages(env, "NAVIL4J_BENCH_IMAGES");
        return table ? NaViLBench.parseImages(TABLE_IMAGES, "--images") : null;
    }

    private static void printRows(List<String> rows) {
        for (String r : rows) System.out.println(r);
        System.out.flush();
    }

    private static final String PLAIN_HEADER = "%-14s %-6s %7s %-22s %12s %-8s %12s %8s%n",
            PLAIN_ROW = "%-14s %-6s %7d %-22s %12.2f %-8s %12s %8s%n";

    private void printHeader() {
        if (!json) System.out.printf(PLAIN_HEADER, "shape", "format", "threads", "test", "value", "unit", "bound", "fraction");
    }

    /** One measurement: a JSON line or a plain line on stdout; with --table (no --json) a plain line on stderr as progress. */
    private void print(Bench.Measurement m) {
        if (json) {
            System.out.println(m.json());
            System.out.flush();
            return;
        }
        PrintStream out = table ? System.err : System.out;
        out.printf(Locale.ROOT, (table ? "# " : "") + PLAIN_ROW, m.shape(), m.format(),
                m.threads(), m.metric(), m.value(), m.unit(),
                Double.isNaN(m.bound()) ? "" : String.format(Locale.ROOT, "%.2f", m.bound()),
                Double.isNaN(m.fraction()) ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * m.fraction()));
        out.flush();
    }
}
