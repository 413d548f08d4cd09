package dev.navil4j.cli;

import dev.navil4j.bench.Bench;
import dev.navil4j.bench.BenchShape;
import dev.navil4j.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures prefill and decode tokens/s like llama-bench (pp512 / tg128) on random weights of a real "
                + "model shape synthesized in memory, per weight format and thread count, with the memory-bandwidth bound "
                + "for decode and the fraction reached; seconds per 448px tile for shapes with a vision tower.",
                "Example: ./navil4j bench --shape qwen2.5-0.5b --format bf16,q8,q4 --threads 1,2"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--shape", defaultValue = "qwen2.5-0.5b",
            description = "qwen2.5-0.5b, internvl3-1b, internvl3-2b, navil-2b or navil-9b (navil: 448x448 and 1024x768 images, the visual prompt replaces -p; default: ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--format", split = ",", defaultValue = "bf16", description = "weight formats: f32, bf16, f16, q8, q4 (comma separated)")
    List<String> formats;

    @Option(names = "--threads", split = ",", description = "thread counts (comma separated; default: the number of cores)")
    List<Integer> threads;

    @Option(names = {"-p", "--prompt"}, defaultValue = "512", description = "prefill length (0 = skip; default ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = {"-n", "--gen"}, defaultValue = "128", description = "decoded tokens (0 = skip; default ${DEFAULT-VALUE})")
    int gen;

    @Option(names = {"-r", "--reps"}, defaultValue = "2", description = "repetitions, the median is reported (default ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--vision", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "also time one vision tile for shapes that have a vision tower (default: true)")
    boolean vision;

    @Option(names = "--no-llm", description = "skip the language model (vision tile only)")
    boolean noLlm;

    @Option(names = "--kernels", description = "instead: GEMV GB/s per format out of DRAM (4096x4096 and 4864x896 rows, 512 MiB of distinct matrices) and GEMM GFLOP/s (1024^3)")
    boolean kernels;

    @Option(names = "--json", description = "one JSON object per measurement")
    boolean json;

    @Override
    public Integer call() {
        if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1");
        if (prompt < 0 || gen < 0) throw new IllegalArgumentException("--prompt and --gen must be >= 0");
        List<Integer> th = threads == null ? List.of(Parallel.threads()) : threads;
        for (int t : th) if (t < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + t);
        if (!json) System.out.printf("%-14s %-6s %7s %-22s %12s %-8s %12s %8s%n", "shape", "format", "threads", "test", "value", "unit", "bound", "fraction");
        if (kernels) {
            for (int t : th) Bench.kernels(t, System.err).forEach(this::print);
            return 0;
        }
        for (String f : formats) Bench.format(f); // fail before the slow part on a typo
        // navil-2b / navil-9b: the real NaViL model code on synthesized weights, images through the pyramid (bench/NaViLBench)
        var navil = dev.navil4j.bench.NaViLBench.forName(shape);
        if (navil != null) { dev.navil4j.bench.NaViLBench.run(navil, new Bench.Options(null, formats, th, prompt, gen, reps, vision, !noLlm), this::print, System.err); return 0; }
        BenchShape s = BenchShape.named(shape);
        Bench.run(new Bench.Options(s, formats, th, prompt, gen, reps, vision, !noLlm), this::print, System.err);
        return 0;
    }

    private void print(Bench.Measurement m) {
        if (json) System.out.println(m.json());
        else System.out.printf(Locale.ROOT, "%-14s %-6s %7d %-22s %12.2f %-8s %12s %8s%n", m.shape(), m.format(), m.threads(), m.metric(), m.value(), m.unit(),
                Double.isNaN(m.bound()) ? "" : String.format(Locale.ROOT, "%.2f", m.bound()),
                Double.isNaN(m.fraction()) ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * m.fraction()));
        System.out.flush();
    }
}
