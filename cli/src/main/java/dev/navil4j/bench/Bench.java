package dev.navil4j.bench;

import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.WeightTensor;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * What llama-bench measures, on synthesized weights of a real shape: prefill of {@code prompt} tokens
 * (pp512) and decode of {@code gen} tokens one at a time from an empty context (tg128), per weight format and
 * thread count; plus the decode bound (measured read bandwidth ÷ weight bytes read per token), the fraction
 * of it achieved, peak RSS, and (for shapes with a vision tower) the seconds to encode one tile.
 */
public final class Bench {
    /** One measured figure; {@code bound} and {@code fraction} are NaN when they do not apply. */
    public record Measurement(String shape, String format, int threads, String metric, double value, String unit,
                              double bound, double fraction, int concurrency) {
        public Measurement(String shape, String format, int threads, String metric, double value, String unit, double bound, double fraction) {
            this(shape, format, threads, metric, value, unit, bound, fraction, 0);
        }

        /** One JSON object; {@code concurrency} (sequences decoded as one batch) only on the batched-decode figures. */
        public String json() {
            return String.format(Locale.ROOT, "{\"shape\":\"%s\",\"format\":\"%s\",\"threads\":%d,%s\"metric\":\"%s\",\"value\":%s,\"unit\":\"%s\",\"bandwidth_bound\":%s,\"fraction_of_bound\":%s}",
                    shape, format, threads, concurrency > 0 ? "\"concurrency\":" + concurrency + "," : "", metric, num(value), unit, num(bound), num(fraction));
        }

        private static String num(double d) { return Double.isNaN(d) ? "null" : String.format(Locale.ROOT, "%.4g", d); }
    }

    /**
     * @param concurrency decode N sequences as one batch for each N (aggregate tok/s); empty = skip
     * @param engine      also the engine-level figures: second chat turn's time to first token (prefix reuse, media
     *                    cache) and inter-token latency of running streams while a long prompt is admitted
     */
    public record Options(BenchShape shape, List<String> formats, List<Integer> threads, int prompt, int gen, int reps,
                          boolean vision, boolean llm, List<Integer> concurrency, boolean engine, int batchTiles) {
        public Options(BenchShape shape, List<String> formats, List<Integer> threads, int prompt, int gen, int reps,
                       boolean vision, boolean llm, List<Integer> concurrency, boolean engine) {
            this(shape, formats, threads, prompt, gen, reps, vision, llm, concurrency, engine, 0);
        }

        public Options(BenchShape shape, List<String> formats, List<Integer> threads, int prompt, int gen, int reps,
                       boolean vision, boolean llm) {
            this(shape, formats, threads, prompt, gen, reps, vision, llm, List.of(), false);
        }
    }

    private Bench() {}

    /** The weight format for a --format name. */
    public static DType format(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            case "q8", "q8_0" -> DType.Q8;
            case "q4", "q4_0" -> DType.Q4;
            default -> throw new IllegalArgumentException("unknown format '" + name + "' (f32, bf16, f16, q8, q4)");
        };
    }

    /** Runs every measurement, handing each to {@code sink} as soon as it is known. */
    public static void run(Options o, Consumer<Measurement> sink, PrintStream log) {
        BenchShape s = o.shape();
        int restore = Parallel.threads();
        try {
            for (String fname : o.formats()) {
                DType f = format(fname);
                // llama.cpp's Q4_0 files keep the output matrix at higher precision (Q6_K); Q8 is our nearest
                DType head = f == DType.Q4 ? DType.Q8 : f;
                resetPeakRss(log); // the previous format's weights are freed: its peak must not carry over
                try (SyntheticInternVL m = new SyntheticInternVL(s, f, 42)) {
                    long t0 = System.nanoTime();
                    log.printf(Locale.ROOT, "# %s %s: InternVLChatModel on synthesized weights (LLM %.0f MiB read per token%s)%s%n", s.name(), fname,
                            m.bytesPerToken() / 1048576.0, head != f ? "; embedding/lm_head " + head.name().toLowerCase(Locale.ROOT) : "",
                            s.vision() == null ? "" : "; vision tower " + (f == DType.Q4 ? "q8" : fname));
                    boolean first = true;
                    for (int th : o.threads()) {
                        Parallel.setThreads(th);
                        if (!first) resetPeakRss(log); // peak_rss of this thread count: the weights + its own run
                        first = false;
                        double bw = Bandwidth.readGBs(m.segments(), 5);
                        sink.accept(new Measurement(s.name(), fname, th, "read_bandwidth", bw, "GB/s", Double.NaN, Double.NaN));
                        double fma = FmaPeak.gflops(th);
                        sink.accept(new Measurement(s.name(), fname, th, "fma_peak", fma, "GFLOP/s", Double.NaN, Double.NaN));
                        if (o.llm()) measureLlm(o, s, fname, th, m, bw, fma, sink);
                        if (o.llm() && !o.concurrency().isEmpty()) EngineBench.concurrency(o, s, fname, th, m, sink);
                        if (o.engine()) EngineBench.engine(o, s, fname, th, m, sink, log);
                        if (o.vision() && s.vision() != null) {
                            float[] tile0 = m.tile();
                            // the warm-up call is timed too: with --no-llm it is the first real-shape tile of the JVM
                            // (only the bandwidth and FMA probes ran before it), the cold-start figure
                            long w0 = System.nanoTime();
                            m.model.vision.extractFeature(tile0, 1);
                            sink.accept(new Measurement(s.name(), fname, th, "vision_first_tile_s", (System.nanoTime() - w0) * 1e-9, "s", Double.NaN, Double.NaN));
                            double[] secs = new double[o.reps()];
                            for (int r = 0; r < o.reps(); r++) {
                                long a = System.nanoTime();
                                m.model.vision.extractFeature(tile0, 1);
                                secs[r] = (System.nanoTime() - a) * 1e-9;
                            }
                            double tile = median(secs), tileGflops = s.vision().tileFlops(s.llmHidden()) / tile / 1e9;
                            sink.accept(new Measurement(s.name(), fname, th, "vision_tile_s", tile, "s", Double.NaN, Double.NaN));
                            sink.accept(new Measurement(s.name(), fname, th, "vision_tile_gflops", tileGflops, "GFLOP/s", fma, tileGflops / fma));
                            if (o.batchTiles() > 1) {
                                // the tiles of one photo (a 4:3 image at max_num 12: 12 tiles + the thumbnail) in one call:
                                // InternVLVisionEncoder runs them through the ViT TILES_PER_PASS at a time
                                float[] many = new float[o.batchTiles() * tile0.length];
                                for (int t = 0; t < o.batchTiles(); t++) System.arraycopy(tile0, 0, many, t * tile0.length, tile0.length);
                                long a = System.nanoTime();
                                m.model.vision.extractFeature(many, o.batchTiles());
                                double batch = (System.nanoTime() - a) * 1e-9;
                                sink.accept(new Measurement(s.name(), fname, th, "vision_" + o.batchTiles() + "_tiles_s", batch, "s",
                                        o.batchTiles() * tile, batch / (o.batchTiles() * tile)));
                            }
                        }
                        sink.accept(new Measurement(s.name(), fname, th, "peak_rss", Bandwidth.peakRssMiB(), "MiB", Double.NaN, Double.NaN));
                    }
                } catch (SyntheticWeights.NotEnoughMemory e) { // thrown while synthesizing, before anything is measured
                    skipped(s.name(), fname, o.threads(), e, sink, log);
                }
            }
        } finally {
            Parallel.setThreads(restore);
        }
    }

    private static volatile boolean rssWarned;

    /** False once resetting the peak RSS has failed (then peak_rss figures are process-wide maxima). */
    static boolean peakRssResettable() { return !rssWarned; }

    /** The metric that stands for every figure of a format whose weights did not fit in memory; value: MiB available. */
    public static final String SKIPPED = "skipped_not_enough_memory";

    /** Reports a format skipped because its weights did not fit (the rest of the run goes on). */
    static void skipped(String shape, String fname, List<Integer> threads, SyntheticWeights.NotEnoughMemory e,
                        Consumer<Measurement> sink, PrintStream log) {
        log.printf(Locale.ROOT, "# %s %s: skipped, %s%n", shape, fname, e.getMessage());
        for (int th : threads)
            sink.accept(new Measurement(shape, fname, th, SKIPPED, e.available / 1048576.0, "MiB", Double.NaN, Double.NaN));
    }

    /** Resets the peak RSS; says once on the log when the figures cannot be reset (then they are process-wide maxima). */
    static void resetPeakRss(PrintStream log) {
        if (!Bandwidth.resetPeakRss() && !rssWarned) {
            rssWarned = true;
            log.println("# peak RSS cannot be reset here (/proc/self/clear_refs): each peak_rss is the maximum since the process started");
        }
    }

    /** pp (prefill of {@code prompt} ids on a fresh sequence) and tg (one token at a time), through the model's step(). */
    private static void measureLlm(Options o, BenchShape s, String fname, int th, SyntheticInternVL m, double bw, double fma, Consumer<Measurement> sink) {
        var model = m.model;
        int[] prompt = ids(Math.max(o.prompt(), 64), s.vocab(), 0);
        // warm-up: JIT-compiles the GEMM, GEMV and attention paths (first calls are 60-400x slower, JAVA-NOTES)
        for (int r = 0; r < 2; r++) {
            var warm = model.newState();
            model.prefill(warm, PreparedPrompt.text(Arrays.copyOf(prompt, 64), null));
            for (int i = 0; i < 8; i++) model.decode(warm, i);
        }
        double[] pp = new double[o.reps()], tg = new double[o.reps()];
        for (int r = 0; r < o.reps(); r++) {
            if (o.prompt() > 0) {
                var st = model.newState();
                long a = System.nanoTime();
                model.prefill(st, PreparedPrompt.text(Arrays.copyOf(prompt, o.prompt()), null));
                pp[r] = o.prompt() / ((System.nanoTime() - a) * 1e-9);
            }
            if (o.gen() > 0) {
                var st = model.newState();
                int tok = 1;
                long a = System.nanoTime();
                for (int i = 0; i < o.gen(); i++) tok = textToken(argmax(model.decode(st, tok)), m);
                tg[r] = o.gen() / ((System.nanoTime() - a) * 1e-9);
            }
        }
        if (o.prompt() > 0) {
            double v = median(pp), gflops = s.prefillFlops(o.prompt()) / (o.prompt() / v) / 1e9;
            sink.accept(new Measurement(s.name(), fname, th, "pp" + o.prompt(), v, "tok/s", Double.NaN, Double.NaN));
            sink.accept(new Measurement(s.name(), fname, th, "pp" + o.prompt() + "_gflops", gflops, "GFLOP/s", fma, gflops / fma));
        }
        if (o.gen() > 0) {
            double bound = bw * 1e9 / m.bytesPerToken();
            double v = median(tg);
            sink.accept(new Measurement(s.name(), fname, th, "tg" + o.gen(), v, "tok/s", bound, v / bound));
        }
    }

    /** n pseudo-random text ids (never the image placeholder), different for each {@code salt}. */
    static int[] ids(int n, int vocab, int salt) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = (int) (((long) (i + 31L * salt) * 7919 + 13 + salt) % (vocab - 2));
        return ids;
    }

    /** A sampled id fed back as text (random weights may pick the image placeholder). */
    static int textToken(int id, SyntheticInternVL m) { return id >= m.imgContextId ? 1 : id; }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Kernel figures: GEMV GB/s of weights per format and GEMM GFLOP/s, at the current thread count. */
    public static List<Measurement> kernels(int threads, PrintStream log) {
        int restore = Parallel.threads();
        Parallel.setThreads(threads);
        List<Measurement> out = new ArrayList<>();
        try {
            // GEMV out of DRAM, as decode reads it: one matrix repeated would sit in the 32 MiB L3 and measure the
            // cache. Each format cycles through >= 512 MiB of distinct matrices, for square rows (4-row kernel) and
            // the 896-column rows of the 0.5B shape (one-row streaming kernel).
            for (int[] shape : new int[][]{{4096, 4096}, {4864, 896}}) {
                for (DType f : new DType[]{DType.F32, DType.BF16, DType.F16, DType.Q8, DType.Q4}) {
                    try (SyntheticWeights w = new SyntheticWeights(7)) {
                        WeightTensor first = w.matrix("gemv", f, shape[0], shape[1]);
                        int count = (int) Math.max(1, (512L << 20) / first.byteSize() + 1);
                        WeightTensor[] set = new WeightTensor[count];
                        set[0] = first;
                        for (int i = 1; i < count; i++) set[i] = w.matrix("gemv" + i, f, shape[0], shape[1]);
                        float[] x = new float[shape[1]], y = new float[shape[0]];
                        Arrays.fill(x, 0.5f);
                        for (int pass = 0; pass < 2; pass++) for (WeightTensor m : set) m.matmul(x, 1, y, null);
                        double[] gbs = new double[7];
                        for (int r = 0; r < gbs.length; r++) {
                            long a = System.nanoTime();
                            for (WeightTensor m : set) m.matmul(x, 1, y, null);
                            gbs[r] = (double) count * first.byteSize() / ((System.nanoTime() - a) * 1e-9) / 1e9;
                        }
                        out.add(new Measurement("gemv-" + shape[0] + "x" + shape[1] + "-dram", f.name().toLowerCase(Locale.ROOT), threads, "gemv_weight_bandwidth", median(gbs), "GB/s", Double.NaN, Double.NaN));
                    }
                }
            }
            try (SyntheticWeights w = new SyntheticWeights(7)) {
                int n = 1024;
                for (DType f : new DType[]{DType.F32, DType.BF16, DType.Q8}) {
                    WeightTensor m = w.matrix("gemm", f, n, n);
                    float[] a = new float[n * n], c = new float[n * n];
                    Arrays.fill(a, 0.25f);
                    m.matmul(a, n, c, null);
                    double[] gf = new double[5];
                    for (int r = 0; r < gf.length; r++) {
                        long t0 = System.nanoTime();
                        m.matmul(a, n, c, null);
                        gf[r] = 2.0 * n * n * n / ((System.nanoTime() - t0) * 1e-9) / 1e9;
                    }
                    out.add(new Measurement("gemm-1024^3", f.name().toLowerCase(Locale.ROOT), threads, "gemm", median(gf), "GFLOP/s", Double.NaN, Double.NaN));
                }
            }
        } finally {
            Parallel.setThreads(restore);
        }
        return out;
    }
}
