package dev.navil4j.models.internvl;

import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.weights.SafeTensors;

/**
 * InternVLChatModel.extract_feature(): the ViT ({@code vision_model.*}) up to select_layer, CLS dropped,
 * pixel_shuffle (ps_version v1/v2), then the projector {@code mlp1} = LayerNorm → Linear → GELU → Linear.
 * Output rows are the embeddings written at {@code <IMG_CONTEXT>} positions, tile after tile.
 */
public final class InternVLVisionEncoder {
    public final InternVLChatConfig config;
    public final InternVisionModel visionModel;
    private final float[] mlp1NormW, mlp1NormB;     // mlp1.0: LayerNorm(C·k², eps 1e-5 = nn.LayerNorm default)
    private final Linear mlp1Fc1, mlp1Fc2;          // mlp1.1: [llm, C·k²], mlp1.3: [llm, llm]

    private InternVLVisionEncoder(InternVLChatConfig config, InternVisionModel vm, float[] nw, float[] nb, Linear a, Linear b) {
        this.config = config;
        this.visionModel = vm;
        this.mlp1NormW = nw;
        this.mlp1NormB = nb;
        this.mlp1Fc1 = a;
        this.mlp1Fc2 = b;
    }

    public static InternVLVisionEncoder load(SafeTensors st, InternVLChatConfig c, int llmHidden) {
        return load(InternVLTensorNames.original(st), c, llmHidden);
    }

    /** The ViT and the projector from whichever layout {@code names} describes. */
    public static InternVLVisionEncoder load(InternVLTensorNames names, InternVLChatConfig c, int llmHidden) {
        SafeTensors st = names.st;
        InternVisionModel vm = InternVisionModel.load(names, c.vision());
        int k = c.shuffleFactor(), in = c.vision().hiddenSize() * k * k;
        return new InternVLVisionEncoder(c, vm, st.get(names.projectorNorm() + ".weight", in).toFloatArray(),
                st.get(names.projectorNorm() + ".bias", in).toFloatArray(),
                Linear.load(st, names.projectorFc1(), in, llmHidden, true), Linear.load(st, names.projectorFc2(), llmHidden, llmHidden, true));
    }

    /** An encoder without weights, for the pure pixel-shuffle logic. */
    static InternVLVisionEncoder forTest(InternVLChatConfig c) { return new InternVLVisionEncoder(c, null, null, null, null, null); }

    public int tileSize() { return config.forceImageSize(); }

    public int tokensPerTile() { return config.numImageToken(); }

    public int outputSize() { return mlp1Fc2.out(); }

    /** vision_model hidden state at select_layer, [tiles, 1 + P, C] incl. CLS. */
    public float[] vitEmbeds(float[] pixels, int tiles) {
        int s = tileSize();
        return visionModel.forward(pixels, tiles, s, s, config.visionDepth());
    }

    /** Tiles run through the ViT together: bounds activation memory (a 448² tile of InternViT-300M has 1025 tokens). */
    static final int TILES_PER_PASS = 4;

    /**
     * extract_feature(pixel_values [tiles, 3, s, s]) → [tiles · num_image_token, llm_hidden]. Tiles never interact,
     * so they run {@link #TILES_PER_PASS} at a time.
     */
    public float[] extractFeature(float[] pixels, int tiles) { return extractFeature(pixels, tiles, null); }

    /** As {@link #extractFeature(float[], int)}; {@code tilesDone} (may be null) hears the tiles encoded after each pass. */
    public float[] extractFeature(float[] pixels, int tiles, java.util.function.IntConsumer tilesDone) {
        int s = tileSize(), perTile = 3 * s * s;
        if ((long) tiles * perTile != pixels.length)
            throw new IllegalArgumentException(pixels.length + " pixel values for " + tiles + " tiles of 3x" + s + "x" + s);
        int rows = tokensPerTile() * outputSize();
        float[] out = new float[Math.multiplyExact(tiles, rows)];
        for (int t0 = 0; t0 < tiles; t0 += TILES_PER_PASS) {
            int n = Math.min(TILES_PER_PASS, tiles - t0);
            float[] part = java.util.Arrays.copyOfRange(pixels, t0 * perTile, (t0 + n) * perTile);
            System.arraycopy(project(vitEmbeds(part, n), n), 0, out, t0 * rows, n * rows);
            if (tilesDone != null) tilesDone.accept(t0 + n);
        }
        return out;
    }

    /** Drop CLS, pixel-shuffle, mlp1: [tiles, 1 + g², C] → [tiles · (g/k)², llm_hidden]. */
    public float[] project(float[] vit, int tiles) {
        int c = config.vision().hiddenSize(), g = tileSize() / config.vision().patchSize(), k = config.shuffleFactor();
        int tokens = (g / k) * (g / k), width = c * k * k;
        float[] x = new float[tiles * tokens * width];
        for (int t = 0; t < tiles; t++) pixelShuffle(vit, t * (1 + g * g) * c + c, g, c, k, x, t * tokens * width);
        Norms.layerNorm(x, x, tiles * tokens, width, mlp1NormW, mlp1NormB, 1e-5f);
        float[] h = mlp1Fc1.forward(x, tiles * tokens);
        InternVisionModel.gelu(h);
        return mlp1Fc2.forward(h, tiles * tokens);
    }

    /**
     * pixel_shuffle(x.reshape(h, w, C), scale 1/k) of one tile. The token built from patches rows k·i.., columns
     * k·j.. holds channels [x(k·i + a, k·j + b) for a, for b] (a outer). v2 orders tokens row-major (i, j);
     * v1 leaves the result transposed (the reference's warning), i.e. tokens ordered (j, i).
     */
    void pixelShuffle(float[] src, int so, int g, int c, int k, float[] dst, int dOff) {
        int m = g / k;
        boolean v1 = config.psVersion().equals("v1");
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                int token = v1 ? j * m + i : i * m + j;
                int o = dOff + token * c * k * k;
                for (int a = 0; a < k; a++)
                    for (int b = 0; b < k; b++) {
                        System.arraycopy(src, so + ((k * i + a) * g + (k * j + b)) * c, dst, o, c);
                        o += c;
                    }
            }
    }
}
