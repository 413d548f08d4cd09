package dev.navil4j.cli;

import dev.navil4j.models.LoadOptions;
import picocli.CommandLine.Option;

import java.util.Locale;

/** {@code --weights} and {@code --kv-cache}, shared by the commands that load a model (a picocli mixin). */
final class WeightOptions {
    @Option(names = "--weights", defaultValue = "auto", paramLabel = "FORMAT",
            description = "LLM linear-layer weights: auto (stored), f32, bf16, f16, q8, q4; the lm_head stays >= q8, "
                    + "embeddings, norms and the vision encoder stay stored (default: ${DEFAULT-VALUE})")
    String weights = "auto";

    @Option(names = "--kv-cache", defaultValue = "f32", paramLabel = "TYPE",
            description = "KV cache storage: f32 or bf16 (half the memory; attention still computes in f32) (default: ${DEFAULT-VALUE})")
    String kvCache = "f32";

    /** {@code base} with these choices; an unknown --kv-cache is an error naming the choices. */
    LoadOptions apply(LoadOptions base) {
        boolean bf16 = switch (kvCache.toLowerCase(Locale.ROOT)) {
            case "f32" -> false;
            case "bf16" -> true;
            default -> throw new IllegalArgumentException("--kv-cache must be f32 or bf16, got '" + kvCache + "'");
        };
        return base.withWeights(weights).withKvCacheBf16(bf16);
    }
}
