package dev.navil4j.bench;

import dev.navil4j.models.navil.NaViLImageProcessor;
import dev.navil4j.image.RgbImage;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.navil.NaViL;
import dev.navil4j.models.navil.NaViLConfig;
import dev.navil4j.models.navil.NaViLVisionModelAnyRes;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.QuantPolicy;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorInfo;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The NaViL benchmark: the real model code ({@link NaViL}: NaViLVisionModelAnyRes, pixel_shuffle_v2 + mlp1,
 * InternLM2-VE / Qwen3-VE with per-token expert routing) on weights of a NaViL shape synthesized in memory
 * (nothing on disk: {@link SafeTensors#synthetic} hands the model exactly the tensors it asks for). For a
 * synthetic image at each size it measures what a user waits for: the multi-scale pyramid of the real
 * preprocessing ({@link NaViLImageProcessor}; its grids decide the work), the seconds to encode it (ViT +
 * projector), the visual token count, the prefill of the whole visual prompt (visual experts routed), and then
 * decode of text tokens (text experts) from that context; plus read bandwidth and peak RSS.
 * <p>Formats: the LLM's matrices (text and visual experts, lm_head) take the benchmark format; embeddings, norms,
 * the ViT and the projector stay bf16 (f32/f16 runs use that format everywhere). q8/q4 are synthesized as a
 * {@code navil4j quantize}d checkpoint holds them (Q8_0/Q4_0 blocks for the LLM linears whose columns are multiples
 * of 32, the lm_head never below Q8 as {@link QuantPolicy#headWeights} keeps it) and the model loads them with
 * {@code --weights} set to the format, through the family's load policy like a real checkpoint: stored blocks are
 * used as they are, so the result is what {@code --weights q8|q4} makes of a bf16 checkpoint. (Synthesizing bf16
 * and quantizing at load would build the same tensors at twice the memory and time: ~7 GB bf16 beside the Q8
 * copy for NaViL-2B.)
 * <p>When a shape's weights do not fit in memory (NaViL-9B: ~28 GB in bf16), the LLM is built with fewer layers,
 * twice (e.g. 2 and 4), and the per-token times are extrapolated linearly to the full depth
 * ({@code t(L) = a + b·L}); both the measured ({@code navil-9b[2/36L]}) and the extrapolated
 * ({@code navil-9b[36L-extrapolated]}) figures are printed, labelled.
 */
public final class NaViLBench {
    /**
     * A NaViL shape.
     *
     * @param runs   LLM depths actually built: one (= the config's) for a direct measurement, or two smaller ones
     *               to extrapolate to the config's depth
     * @param source where the numbers come from (printed)
     */
    public record Shape(String name, NaViLConfig config, int[] runs, String source) {}

    /** Image sizes measured (width, height). */
    static final int[][] IMAGES = {{448, 448}, {1024, 768}};

    /** IMAGES, or the sizes NAVIL4J_BENCH_IMAGES lists ("448x448,1024x768") to shorten a run on a slow machine. */
    static int[][] images() {
        String env = System.getenv("NAVIL4J_BENCH_IMAGES");
        return env == null || env.isBlank() ? IMAGES : parseImages(env, "NAVIL4J_BENCH_IMAGES");
    }

    /** Image sizes from "WIDTHxHEIGHT,WIDTHxHEIGHT..."; {@code what} names the source in the error message. */
    public static int[][] parseImages(String spec, String what) {
        List<int[]> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String[] wh = part.trim().toLowerCase(Locale.ROOT).split("x");
            try {
                if (wh.length != 2) throw new NumberFormatException();
                int w = Integer.parseInt(wh[0]), h = Integer.parseInt(wh[1]);
                if (w < 1 || h < 1) throw new NumberFormatException();
                out.add(new int[]{w, h});
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + ": '" + part + "' is not WIDTHxHEIGHT");
            }
        }
        return out.toArray(new int[0][]);
    }

    /** Text tokens around the image block: the template's system/user header before, the question + assistant header after. */
    static final int TEXT_BEFORE = 40, TEXT_AFTER = 12;

    private NaViLBench() {}

    /*
     * Shapes. LLM values are from the published config.json files (huggingface.co/OpenGVLab/NaViL-2B and -9B,
     * llm_config: hidden_size 2048 / intermediate 8192 (InternLM2-1.8B base); hidden_size 4096 / intermediate
     * 12288 / head_dim 128 (Qwen3-8B base)); the other LLM numbers are those of the base models the configs name
     * (./pretrained/internlm2-1_8b: 24 layers, 16 heads, 8 kv heads, rope_theta 1e6, dynamic rope factor 2.0 as in
     * the fixture config; ./pretrained/Qwen3-8B: 36 layers, 32 heads, 8 kv heads, vocab 151936, rope_theta 1e6).
     * NaViL-2B's vocabulary = InternLM2's 92544 + the 12 NaViL added tokens (ids 92544..92555, fixture README).
     * Pyramid: min/max_dynamic_patch 256 / 24576, scale_downsample_ratio 0.7071 (fixture README, "real" values).
     * ASSUMPTION: the vision_config values (width, depth, heads, MLP, window, full-attention layers) of the
     * published checkpoints could not be read here; the ViTs below are InternViT-300M-like (2B) and
     * ~630M Qwen2.5-VL-ViT-like (9B) sizes with the norm types of the fixture configs (rms_norm / layer_norm).
     * Set NAVIL4J_BENCH_CONFIG=/path/to/config.json (a real NaViL config) to benchmark the exact shape.
     */
    static final NaViLConfig.Vision VIT_2B = new NaViLConfig.Vision(1024, 16, 24, 4096, 16, "rms_norm", 1e-6, true, false,
            8, List.of(5, 11, 17, 23), 2);
    static final NaViLConfig.Vision VIT_9B = new NaViLConfig.Vision(1280, 16, 32, 5120, 16, "layer_norm", 1e-6, true, false,
            8, List.of(7, 15, 23, 31), 2);
    static final NaViLConfig.Llm LLM_2B = new NaViLConfig.Llm("InternLM2VEForCausalLM", 2048, 16, 8, 128, 24, 8192, 92556,
            1e6, 1e-5, 32768, 2.0, false);
    static final NaViLConfig.Llm LLM_9B = new NaViLConfig.Llm("Qwen3VEForCausalLM", 4096, 32, 8, 128, 36, 12288, 151936,
            1e6, 1e-6, 40960, 0, false);

    public static final Shape NAVIL_2B = new Shape("navil-2b",
            new NaViLConfig(VIT_2B, LLM_2B, "internlm2-chat", null, 0.5, 256, 24576, 0.7071), new int[]{24},
            "LLM: NaViL-2B config (InternLM2-1.8B + visual experts); ViT: assumed InternViT-300M-like size");
    /** bf16 weights of all 36 layers are ~28 GB: built with 2 and 4 layers and extrapolated to 36. */
    public static final Shape NAVIL_9B = new Shape("navil-9b",
            new NaViLConfig(VIT_9B, LLM_9B, "qwen3-chat", null, 0.5, 256, 24576, 0.7071), new int[]{2, 4},
            "LLM: NaViL-9B config (Qwen3-8B + visual experts), 2 and 4 of 36 layers built, extrapolated; ViT: assumed ~630M size");

    /** The NaViL shape of a bench shape name, or null. NAVIL4J_BENCH_CONFIG replaces its config by a real one. */
    public static Shape forName(String name) {
        Shape s = name.equalsIgnoreCase(NAVIL_2B.name()) ? NAVIL_2B : name.equalsIgnoreCase(NAVIL_9B.name()) ? NAVIL_9B : null;
        String override = System.getenv("NAVIL4J_BENCH_CONFIG");
        if (s != null && override != null && !override.isBlank()) {
            NaViLConfig c = NaViLConfig.parse(Json.Obj.of(Path.of(override)));
            s = new Shape(s.name(), c, s.runs().length == 1 ? new int[]{c.llm().layers()} : s.runs(), "config " + override);
        }
        return s;
    }

    /** A tiny shape of the same structure (tests): both LLM architectures, one or two depths. */
    public static Shape tiny(boolean qwen3, int[] runs) {
        NaViLConfig.Vision v = new NaViLConfig.Vision(64, 2, 2, 128, 16, qwen3 ? "layer_norm" : "rms_norm", 1e-6, true, false,
                8, List.of(1), 2);
        NaViLConfig.Llm l = qwen3
                ? new NaViLConfig.Llm("Qwen3VEForCausalLM", 64, 4, 2, 32, 3, 128, 320, 1e6, 1e-6, 4096, 0, false)
                : new NaViLConfig.Llm("InternLM2VEForCausalLM", 64, 4, 2, 16, 3, 128, 320, 1e6, 1e-5, 4096, 2.0, false);
        return new Shape("navil-tiny-" + (qwen3 ? "qwen3" : "internlm2"),
                new NaViLConfig(v, l, qwen3 ? "qwen3-chat" : "internlm2-chat", null, 0.5, 16, 256, 0.7071), runs, "tiny test shape");
    }

    /** What one image measured with one build. */
    record ImageResult(String label, int patches, int visualTokens, int scales, int promptTokens, double preprocessS,
                       double encodeS, double prefillS, double decodeS) {}

    /** One build's results at one thread count. */
    record Run(int layers, List<ImageResult> images, long decodeBytes) {}

    /** Runs every measurement of the shape on {@link #images()}, handing each to {@code sink}. */
    public static void run(Shape shape, Bench.Options o, Consumer<Bench.Measurement> sink, PrintStream log) {
        run(shape, o, images(), sink, log);
    }

    /** Runs every measurement of the shape on the given image sizes ({width, height}), handing each to {@code sink}. */
    public static void run(Shape shape, Bench.Options o, int[][] images, Consumer<Bench.Measurement> sink, PrintStream log) {
        if (images.length == 0) throw new IllegalArgumentException("no image sizes to benchmark");
        int restore = Parallel.threads();
        int full = shape.config().llm().layers();
        try {
            for (String fname : o.formats()) {
                DType f = Bench.format(fname);
                // results[thread index][run index]
                List<List<Run>> results = new ArrayList<>();
                for (int ignored : o.threads()) results.add(new ArrayList<>());
                for (int layers : shape.runs()) {
                    String label = layers == full ? shape.name() : shape.name() + "[" + layers + "/" + full + "L]";
                    Bench.resetPeakRss(log); // the previous build's weights are freed: its peak must not carry over
                    try (Built b = build(shape.config(), layers, f, log)) {
                        log.printf(Locale.ROOT, "# %s %s: %s; weights synthesized in %.1f s (%.0f MiB; LLM %.0f MiB read per decoded token)%n",
                                label, fname, shape.source(), b.synthSeconds, totalBytes(b.weights) / 1048576.0, b.decodeBytes / 1048576.0);
                        for (int ti = 0; ti < o.threads().size(); ti++) {
                            int th = o.threads().get(ti);
                            Parallel.setThreads(th);
                            if (ti > 0) Bench.resetPeakRss(log); // peak_rss of this thread count: the weights + its own run
                            double bw = Bandwidth.readGBs(b.weights.segments(), 3);
                            sink.accept(new Bench.Measurement(label, fname, th, "read_bandwidth", bw, "GB/s", Double.NaN, Double.NaN));
                            Run r = measure(b, shape.config(), layers, o, images, log);
                            results.get(ti).add(r);
                            emit(label, fname, th, r, bw * 1e9 / b.decodeBytes, o, sink);
                            sink.accept(new Bench.Measurement(label, fname, th, "peak_rss", Bandwidth.peakRssMiB(), "MiB", Double.NaN, Double.NaN));
                        }
                    } catch (RuntimeException e) { // the model code may wrap what the synthetic loader threw
                        SyntheticWeights.NotEnoughMemory n = SyntheticWeights.NotEnoughMemory.in(e);
                        if (n == null) throw e;
                        Bench.skipped(label, fname, o.threads(), n, sink, log);
                    }
                }
                if (shape.runs().length == 2 && results.stream().allMatch(runs -> runs.size() == 2))
                    for (int ti = 0; ti < o.threads().size(); ti++) {
                        int th = o.threads().get(ti);
                        Parallel.setThreads(th);
                        Run a = results.get(ti).get(0), c = results.get(ti).get(1);
                        emitExtrapolated(extrapolatedLabel(shape, full), fname, th, a, c, full, o, sink);
                    }
            }
        } finally {
            Parallel.setThreads(restore);
        }
    }

    /** The shape label of figures extrapolated to the full depth (not measured on a model of that depth). */
    static String extrapolatedLabel(Shape shape, int fullLayers) { return shape.name() + "[" + fullLayers + "L-extrapolated]"; }

    /** A NaViL built on synthesized weights, and those weights. */
    static final class Built implements AutoCloseable {
        final SyntheticWeights weights;
        final NaViL model;
        final Map<String, Integer> ids;
        final long decodeBytes;
        final double synthSeconds;

        Built(SyntheticWeights weights, NaViL model, Map<String, Integer> ids, long decodeBytes, double synthSeconds) {
            this.weights = weights;
            this.model = model;
            this.ids = ids;
            this.decodeBytes = decodeBytes;
            this.synthSeconds = synthSeconds;
        }

        @Override
        public void close() {
            model.close();
            weights.close();
        }
    }

    /** SPECIAL_TOKEN_LIST of the reference (NaViL needs an id for each) and the template separator. */
    static final List<String> SPECIAL_TOKENS = List.of("</box>", "<box>", "<IMG_CONTEXT>", "</img>", "<img>",
            "</quad>", "<quad>", "</ref>", "<ref>", "<img_uncond>", "<IMG_LINE_BREAK>", "<IMG_FRAME_BREAK>", "<|im_end|>");

    /** Builds NaViL with {@code layers} LLM layers, its LLM matrices in {@code f}. */
    static Built build(NaViLConfig cfg, int layers, DType f, PrintStream log) {
        NaViLConfig.Llm l = cfg.llm();
        NaViLConfig c = new NaViLConfig(cfg.vision(), new NaViLConfig.Llm(l.architecture(), l.hiddenSize(), l.heads(), l.kvHeads(),
                l.headDim(), layers, l.intermediateSize(), l.vocabSize(), l.ropeTheta(), l.rmsNormEps(), l.maxPositionEmbeddings(),
                l.ropeDynamicFactor(), l.tieWordEmbeddings()), cfg.template(), cfg.systemMessage(), cfg.downsampleRatio(),
                cfg.minDynamicPatch(), cfg.maxDynamicPatch(), cfg.scaleDownsampleRatio());
        DType llmFormat = f;
        DType otherFormat = f == DType.Q8 || f == DType.Q4 ? DType.BF16 : f;
        DType headFormat = DType.valueOf(QuantPolicy.headWeights(f.name()).toUpperCase(Locale.ROOT));
        SyntheticWeights w = new SyntheticWeights(2025);
        long[] decodeBytes = {0};
        long t0 = System.nanoTime();
        SafeTensors st = SafeTensors.synthetic("navil-bench", (name, shape) -> {
            if (shape.length == 1) return vector(w, name, shape[0]);
            int rows = Math.toIntExact(shape[0]);
            long colsL = 1;
            for (int i = 1; i < shape.length; i++) colsL *= shape[i];
            int cols = Math.toIntExact(colsL);
            boolean llm = name.startsWith("language_model.");
            boolean embedding = name.endsWith("tok_embeddings.weight") || name.endsWith("embed_tokens.weight");
            boolean small = name.equals("special_token_embedding.weight");
            boolean head = name.endsWith("output.weight") || name.endsWith("lm_head.weight");
            DType fmt = small ? DType.F32 : llm && !embedding && cols % 32 == 0 ? head ? headFormat : llmFormat : otherFormat;
            w.matrix(name, fmt, rows, cols);
            MemorySegment seg = w.segments().getLast();
            // a decoded token reads every text-expert matrix and the lm_head once (one embedding row: negligible)
            if (llm && !embedding && !name.contains("_ve")) decodeBytes[0] += seg.byteSize();
            return new TensorInfo(name, fmt, shape, seg, null);
        });
        Map<String, Integer> ids = new HashMap<>();
        // the special tokens sit at the top of the vocabulary, as NaViL's added tokens do
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) ids.put(SPECIAL_TOKENS.get(i), l.vocabSize() - SPECIAL_TOKENS.size() + i);
        NaViL model;
        try {
            // the family's --weights policy sees the format, as `bench` were `chat --weights q8` on a quantized checkpoint
            model = NaViL.of(c, st, ids, new LoadOptions(f.name().toLowerCase(Locale.ROOT), 16384, false, true, null));
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
        return new Built(w, model, ids, decodeBytes[0], (System.nanoTime() - t0) * 1e-9);
    }

    private static long totalBytes(SyntheticWeights w) {
        long n = 0;
        for (MemorySegment s : w.segments()) n += s.byteSize();
        return n;
    }

    /** Norm weights and layer scales: around 1 (norms) or 0.1 (ls1/ls2), biases around 0; stored f32. */
    private static TensorInfo vector(SyntheticWeights w, String name, long n) {
        float center = name.endsWith(".bias") ? 0f : name.matches(".*\\.ls[12]$") ? 0.1f : 1f;
        float[] v = w.vector(Math.toIntExact(n), center, 0.01f);
        return new TensorInfo(name, DType.F32, new long[]{n}, MemorySegment.ofArray(v), null);
    }

    /** Warm-up on a small image, then every image: preprocess, encode, prefill, decode. */
    static Run measure(Built b, NaViLConfig cfg, int layers, Bench.Options o, int[][] images, PrintStream log) {
        NaViLImageProcessor.Params params = NaViLImageProcessor.Params.of(cfg.minDynamicPatch(), cfg.maxDynamicPatch(),
                cfg.vision().patchSize(), cfg.scaleDownsampleRatio());
        // warm-up: JIT-compiles the ViT, GEMM, attention, routing and GEMV paths (first calls are much slower)
        one(b, cfg, params, 64, 64, 1, Math.min(4, o.gen()), null);
        List<ImageResult> out = new ArrayList<>();
        for (int[] wh : images) {
            ImageResult res = one(b, cfg, params, wh[0], wh[1], o.reps(), o.gen(), log);
            out.add(res);
        }
        return new Run(layers, out, b.decodeBytes);
    }

    /** One image: medians over reps of preprocess, encode and prefill; decode of gen tokens after the last prefill. */
    static ImageResult one(Built b, NaViLConfig cfg, NaViLImageProcessor.Params params, int width, int height, int reps, int gen,
                           PrintStream log) {
        RgbImage img = syntheticImage(width, height);
        double[] pre = new double[reps], enc = new double[reps], pf = new double[reps];
        NaViLImageProcessor.Result r = null;
        float[] features = null;
        int[] ids = null;
        InferenceState state = null;
        double decodeS = 0;
        for (int k = 0; k < reps; k++) {
            long t0 = System.nanoTime();
            r = NaViLImageProcessor.preprocess(List.of(img), params);
            pre[k] = (System.nanoTime() - t0) * 1e-9;
            List<NaViLVisionModelAnyRes.Grid> grids = new ArrayList<>();
            for (int[] g : r.gridThw()) grids.add(new NaViLVisionModelAnyRes.Grid(g[0], g[1], g[2]));
            t0 = System.nanoTime();
            features = b.model.extractFeature(r.pixelValues(), grids);
            enc[k] = (System.nanoTime() - t0) * 1e-9;
            ids = promptIds(b.ids, grids, cfg.vision().mergeSize(), cfg.llm().vocabSize());
            state = b.model.newState();
            t0 = System.nanoTime();
            float[] logits = b.model.prefill(state, b.model.prompt(ids, features));
            pf[k] = (System.nanoTime() - t0) * 1e-9;
            if (k == reps - 1 && gen > 0) {
                int tok = Bench.argmax(logits);
                t0 = System.nanoTime();
                for (int i = 0; i < gen; i++) tok = textToken(Bench.argmax(b.model.decode(state, tok)), cfg.llm().vocabSize());
                decodeS = (System.nanoTime() - t0) * 1e-9 / gen;
            }
        }
        int visual = features.length / cfg.llm().hiddenSize();
        if (log != null)
            log.printf(Locale.ROOT, "#   %dx%d: grids %s -> %d patches, %d visual tokens, prompt %d tokens%n", width, height,
                    java.util.Arrays.deepToString(r.gridThw()), r.numPatches(), visual, ids.length);
        return new ImageResult(width + "x" + height, r.numPatches(), visual, r.gridThw().length, ids.length,
                Bench.median(pre), Bench.median(enc), Bench.median(pf), decodeS);
    }

    /** Random weights may argmax to a special token; decode continues with an ordinary text id instead. */
    private static int textToken(int tok, int vocab) { return tok >= vocab - SPECIAL_TOKENS.size() ? 3 + tok % textRange(vocab) : tok; }

    /** Ordinary text ids used: [3, 3 + range), below the special tokens. */
    private static int textRange(int vocab) { return Math.max(1, Math.min(1000, vocab - SPECIAL_TOKENS.size() - 3)); }

    /**
     * The reference chat prompt's ids: text before, {@code <img>}, per scale (smallest first) h/m rows of w/m
     * {@code <IMG_CONTEXT>} each followed by {@code <IMG_LINE_BREAK>}, {@code <IMG_FRAME_BREAK>} per frame,
     * {@code </img>}, text after. Text ids are ordinary tokens below the specials.
     */
    static int[] promptIds(Map<String, Integer> sp, List<NaViLVisionModelAnyRes.Grid> grids, int m, int vocab) {
        List<Integer> ids = new ArrayList<>();
        int range = textRange(vocab);
        for (int i = 0; i < TEXT_BEFORE; i++) ids.add(3 + (i * 7919) % range);
        ids.add(sp.get("<img>"));
        for (NaViLVisionModelAnyRes.Grid g : grids)
            for (int t = 0; t < g.t(); t++) {
                for (int row = 0; row < g.h() / m; row++) {
                    for (int col = 0; col < g.w() / m; col++) ids.add(sp.get("<IMG_CONTEXT>"));
                    ids.add(sp.get("<IMG_LINE_BREAK>"));
                }
                ids.add(sp.get("<IMG_FRAME_BREAK>"));
            }
        ids.add(sp.get("</img>"));
        for (int i = 0; i < TEXT_AFTER; i++) ids.add(3 + (i * 104729) % range);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A deterministic textured RGB image (gradients + hash noise), so resizing does real work. */
    static RgbImage syntheticImage(int width, int height) {
        byte[] rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) {
                int h = (x * 73856093) ^ (y * 19349663);
                int o = (y * width + x) * 3;
                rgb[o] = (byte) (x * 255 / Math.max(1, width - 1));
                rgb[o + 1] = (byte) (y * 255 / Math.max(1, height - 1));
                rgb[o + 2] = (byte) (h >>> 24);
            }
        return new RgbImage(width, height, rgb);
    }

    private static void emit(String shape, String fmt, int th, Run r, double decodeBound, Bench.Options o, Consumer<Bench.Measurement> sink) {
        for (ImageResult i : r.images()) {
            String p = "img" + i.label() + "_";
            sink.accept(new Bench.Measurement(shape, fmt, th, p + "scales", i.scales(), "scales", Double.NaN, Double.NaN));
            sink.accept(new Bench.Measurement(shape, fmt, th, p + "patches", i.patches(), "patches", Double.NaN, Double.NaN));
            sink.accept(new Bench.Measurement(shape, fmt, th, p + "visual_tokens", i.visualTokens(), "tokens", Double.NaN, Double.NaN));
            sink.accept(new Bench.Measurement(shape, fmt, th, p + "preprocess", i.preprocessS(), "s", Double.NaN, Double.NaN));
            sink.accept(new Bench.Measurement(shape, fmt, th, p + "encode", i.encodeS(), "s", Double.NaN, Double.NaN));
            sink.accept(new Bench.Measurement(shape, fmt, th, p + "prefill_p" + i.promptTokens(), i.promptTokens() / i.prefillS(), "tok/s", Double.NaN, Double.NaN));
            if (o.gen() > 0) {
                double v = 1 / i.decodeS();
                sink.accept(new Bench.Measurement(shape, fmt, th, p + "decode_tg" + o.gen(), v, "tok/s", decodeBound, v / decodeBound));
            }
        }
    }

    /** Per-token times linear in the depth: t(full) = t(a) + (t(c) − t(a))·(full − a)/(c − a); the ViT does not depend on it. */
    private static void emitExtrapolated(String shape, String fmt, int th, Run a, Run c, int full, Bench.Options o,
                                         Consumer<Bench.Measurement> sink) {
        double k = (double) (full - a.layers()) / (c.layers() - a.layers());
        for (int i = 0; i < a.images().size(); i++) {
            ImageResult x = a.images().get(i), y = c.images().get(i);
            String p = "img" + x.label() + "_";
            double prefill = x.prefillS() + (y.prefillS() - x.prefillS()) * k;
            sink.accept(new Bench.Measurement(shape, fmt, th, p + "encode", y.encodeS(), "s", Double.NaN, Double.NaN));
            sink.accept(new Bench.Measurement(shape, fmt, th, p + "prefill_p" + x.promptTokens(), x.promptTokens() / prefill, "tok/s", Double.NaN, Double.NaN));
            if (o.gen() > 0) {
                double decode = x.decodeS() + (y.decodeS() - x.decodeS()) * k;
                sink.accept(new Bench.Measurement(shape, fmt, th, p + "decode_tg" + o.gen(), 1 / decode, "tok/s", Double.NaN, Double.NaN));
            }
        }
        double bytes = a.decodeBytes() + (c.decodeBytes() - a.decodeBytes()) * k;
        sink.accept(new Bench.Measurement(shape, fmt, th, "llm_bytes_per_decoded_token", bytes / 1048576.0, "MiB", Double.NaN, Double.NaN));
    }
}
