package dev.navil4j.cli;

import dev.navil4j.models.LoadOptions;
import picocli.CommandLine.Option;

import java.util.Locale;

/** {@code --weights}, {@code --kv-cache} and {@code --quiet}, shared by the commands that load a model (a picocli mixin). */
final class WeightOptions {
    @Option(names = "--weights", defaultValue = "auto", paramLabel = "FORMAT",
            description = "LLM linear-layer weights: auto (stored), f32, bf16, f16, q8, q4; the lm_head stays >= q8, "
                    + "embeddings, norms and the vision encoder stay stored (default: ${DEFAULT-VALUE})")
    String weights = "auto";

    @Option(names = "--kv-cache", defaultValue = "f32", paramLabel = "TYPE",
            description = "KV cache storage: f32 or bf16 (half the memory; attention still computes in f32) (default: ${DEFAULT-VALUE})")
    String kvCache = "f32";

    @Option(names = "--quiet", description = "no progress lines and no download bar (progress is drawn only on an interactive terminal anyway)")
    boolean quiet;

    /**
     * The progress line renderer on the terminal, or null when it would draw nothing (--quiet, or no interactive
     * terminal): then no listener is set at all and loading and prefill run exactly as without progress.
     */
    dev.navil4j.ProgressListener progress() {
        ProgressPrinter p = ProgressPrinter.forTerminal(quiet);
        return p.enabled() ? p : null;
    }

    /** Where download progress goes: stderr, or nowhere with --quiet. */
    java.io.PrintStream downloadProgress() { return quiet ? null : System.err; }

    /**
     * {@code model} as a local directory or a hub id, downloaded when missing: on an interactive terminal the download
     * is drawn by the progress line (DOWNLOAD events), else (piped, a log) as the hub's plain bar on stderr, and with
     * --quiet not at all.
     */
    java.nio.file.Path resolveModel(String model) {
        dev.navil4j.ProgressListener line = progress();
        return dev.navil4j.hub.ModelSource.resolve(model, line != null ? null : downloadProgress(), line);
    }

    /**
     * {@code base} with these choices and load progress on the terminal; an unknown --kv-cache is an error naming the
     * choices.
     */
    LoadOptions apply(LoadOptions base) {
        boolean bf16 = switch (kvCache.toLowerCase(Locale.ROOT)) {
            case "f32" -> false;
            case "bf16" -> true;
            default -> throw new IllegalArgumentException("--kv-cache must be f32 or bf16, got '" + kvCache + "'");
        };
        return base.withWeights(weights).withKvCacheBf16(bf16)
                .withProgress(progress());
    }
}
