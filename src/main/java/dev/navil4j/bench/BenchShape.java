package dev.navil4j.bench;

import java.util.List;

/**
 * The real shapes of the models the engine targets, for benchmarks on synthesized weights.
 *
 * @param llmHidden    hidden size of the language model
 * @param layers       decoder layers
 * @param heads        query heads; {@code kvHeads} key/value heads; {@code headDim} per head
 * @param intermediate MLP width (SwiGLU gate/up)
 * @param vocab        vocabulary (embedding rows and lm_head rows)
 * @param tied         lm_head shares the embedding matrix (read once per token either way)
 * @param qkvBias      q/k/v projections carry biases (Qwen2) or not (InternLM2)
 * @param vision       InternViT-style vision tower, or null
 */
public record BenchShape(String name, int llmHidden, int layers, int heads, int kvHeads, int headDim, int intermediate,
                         int vocab, boolean tied, boolean qkvBias, double ropeTheta, Vision vision) {

    /**
     * A ViT with LayerNorm, qkv bias, GELU MLP and layer scale (InternViT-300M), then the InternVL mlp1
     * projector (pixel shuffle 0.5: 4·width → LayerNorm → Linear → GELU → Linear to the LLM width).
     *
     * @param tokens tokens per tile (448² / 14² patches + CLS = 1025)
     */
    public record Vision(String name, int width, int layers, int heads, int mlp, int tokens, int patchInputs) {
        /**
         * Multiply-adds ×2 of one tile through the tower: patch embedding, per layer qkv + proj + MLP and the two
         * attention products (T² · width each), and mlp1 on the pixel-shuffled quarter of the patches. Norms,
         * softmax and GELU are not counted (a few % of the total), so a GFLOP/s figure from this is a slight under-count.
         */
        public double tileFlops(int llmHidden) {
            double t = tokens, c = width, patches = tokens - 1;
            double perLayer = 2 * t * c * 3 * c + 2 * t * c * c + 2 * 2 * t * c * mlp + 2 * 2 * t * t * c;
            double mlp1 = 2 * (patches / 4) * (4 * c * llmHidden + (double) llmHidden * llmHidden);
            return 2 * patches * patchInputs * c + layers * perLayer + mlp1;
        }
    }

    /**
     * Multiply-adds ×2 of a prefill of n tokens from an empty cache: every decoder linear layer per token, causal
     * attention (QKᵀ and PV over n(n+1)/2 pairs per head dimension), and the lm_head for the last token only.
     */
    public double prefillFlops(int n) {
        double q = (double) heads * headDim, kv = (double) kvHeads * headDim, h = llmHidden;
        double linear = h * (q + 2 * kv) + q * h + 3 * h * intermediate;
        double attention = 2 * 2 * ((double) n * (n + 1) / 2) * q;
        return layers * (2 * linear * n + attention) + 2 * h * vocab;
    }

    /** InternViT-300M-448px-V2.5 for one 448² tile. */
    static final Vision INTERN_VIT_300M = new Vision("InternViT-300M", 1024, 24, 16, 4096, 1025, 3 * 14 * 14);

    /** Qwen2.5-0.5B (also the LLM of InternVL3-1B). */
    public static final BenchShape QWEN25_05B = new BenchShape("qwen2.5-0.5b", 896, 24, 14, 2, 64, 4864, 151936, true, true, 1e6, null);
    public static final BenchShape INTERNVL3_1B = new BenchShape("internvl3-1b", 896, 24, 14, 2, 64, 4864, 151936, true, true, 1e6, INTERN_VIT_300M);
    /** Qwen2.5-1.5B LLM. */
    public static final BenchShape INTERNVL3_2B = new BenchShape("internvl3-2b", 1536, 28, 12, 2, 128, 8960, 151936, true, true, 1e6, INTERN_VIT_300M);
    /**
     * NaViL-2B text path: InternLM2-1.8B shape (no q/k/v bias, untied output). A text token reads only the
     * text experts, so the visual experts are not part of the decode bandwidth. Its vision encoder
     * (windowed NaViL ViT) is not modelled here.
     */
    public static final BenchShape NAVIL_2B = new BenchShape("navil-2b", 2048, 24, 16, 8, 128, 8192, 92544, false, false, 1e6, null);

    public static final List<BenchShape> ALL = List.of(QWEN25_05B, INTERNVL3_1B, INTERNVL3_2B, NAVIL_2B);

    public static BenchShape named(String name) {
        for (BenchShape s : ALL) if (s.name.equalsIgnoreCase(name)) return s;
        throw new IllegalArgumentException("unknown shape '" + name + "'; known: " + ALL.stream().map(BenchShape::name).toList());
    }

    /** A tiny shape of the same structure (tests). */
    public static BenchShape tiny(boolean withVision) {
        return new BenchShape("tiny", 64, 2, 4, 2, 16, 96, 160, true, true, 1e6,
                withVision ? new Vision("tiny-vit", 64, 2, 4, 128, 17, 3 * 4 * 4) : null);
    }

    public int qDim() { return heads * headDim; }
    public int kvDim() { return kvHeads * headDim; }
}
