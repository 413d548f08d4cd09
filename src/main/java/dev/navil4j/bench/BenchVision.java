package dev.navil4j.bench;

import dev.navil4j.nn.Activations;
import dev.navil4j.nn.Attention;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.tensor.DType;

/**
 * An InternViT-shaped vision tower on synthesized weights, for the seconds-per-tile figure: patch
 * embedding (Conv2d with kernel = stride as a Linear over flattened patches) + CLS + position embedding, then
 * per layer LayerNorm → qkv (bias) → full bidirectional attention → proj → layer-scaled residual →
 * LayerNorm → fc1 → GELU(erf) → fc2 → layer-scaled residual; then InternVL's mlp1 projector on the
 * 0.5 pixel-shuffled grid (4·width → LayerNorm → Linear → GELU → Linear). Same work as the real encoder.
 */
public final class BenchVision {
    final BenchShape.Vision v;
    final int llmHidden;
    final Linear patch, mlp1a, mlp1b;
    final float[] posCls;
    final Layer[] layers;
    final float[] mlp1NormW, mlp1NormB;

    record Layer(float[] n1w, float[] n1b, Linear qkv, Linear proj, float[] ls1, float[] n2w, float[] n2b, Linear fc1, Linear fc2, float[] ls2) {}

    /** Linear layers in {@code format} (Q4 is not used for vision: 4-bit ruins InternViT); the patch embedding in bf16 or f32. */
    public BenchVision(BenchShape s, DType format, SyntheticWeights w) {
        this.v = s.vision();
        this.llmHidden = s.llmHidden();
        DType f = linearFormat(format);
        DType patchFormat = f == DType.Q8 ? DType.BF16 : f;
        int c = v.width();
        patch = new Linear(w.matrix("vision_model.embeddings.patch_embedding.weight", patchFormat, c, v.patchInputs()), w.vector(c, 0, 0.01f));
        posCls = w.vector(v.tokens() * c, 0, 0.01f);
        layers = new Layer[v.layers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "vision_model.encoder.layers." + l;
            layers[l] = new Layer(w.vector(c, 1, 0.01f), w.vector(c, 0, 0.01f),
                    new Linear(w.matrix(p + ".attn.qkv.weight", f, 3 * c, c), w.vector(3 * c, 0, 0.01f)),
                    new Linear(w.matrix(p + ".attn.proj.weight", f, c, c), w.vector(c, 0, 0.01f)), w.vector(c, 0.1f, 0.01f),
                    w.vector(c, 1, 0.01f), w.vector(c, 0, 0.01f),
                    new Linear(w.matrix(p + ".mlp.fc1.weight", f, v.mlp(), c), w.vector(v.mlp(), 0, 0.01f)),
                    new Linear(w.matrix(p + ".mlp.fc2.weight", f, c, v.mlp()), w.vector(c, 0, 0.01f)), w.vector(c, 0.1f, 0.01f));
        }
        mlp1NormW = w.vector(4 * c, 1, 0.01f);
        mlp1NormB = w.vector(4 * c, 0, 0.01f);
        mlp1a = new Linear(w.matrix("mlp1.1.weight", f, llmHidden, 4 * c), w.vector(llmHidden, 0, 0.01f));
        mlp1b = new Linear(w.matrix("mlp1.3.weight", f, llmHidden, llmHidden), w.vector(llmHidden, 0, 0.01f));
    }

    /** The format the tower's linear layers take for a benchmark format: Q4 runs keep the vision tower in Q8. */
    public static DType linearFormat(DType format) { return format == DType.Q4 ? DType.Q8 : format; }

    /** Encodes one tile of random pixels; returns the [tokens/4 (without CLS), llmHidden] visual embeddings. */
    public float[] encode() {
        int c = v.width(), n = v.tokens(), patches = n - 1;
        float[] pixels = new float[patches * v.patchInputs()];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (i % 255) / 255f - 0.5f;
        float[] pe = patch.forward(pixels, patches);
        float[] x = new float[n * c];
        System.arraycopy(pe, 0, x, c, patches * c); // row 0 = CLS (synthetic: zeros) + position
        for (int i = 0; i < x.length; i++) x[i] += posCls[i];
        float[] h = new float[n * c], qkv = new float[n * 3 * c], q = new float[n * c], k = new float[n * c], vv = new float[n * c];
        float[] att = new float[n * c], o = new float[n * c], mid = new float[n * v.mlp()];
        int hd = c / v.heads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        int[] cu = {0, n};
        for (Layer l : layers) {
            Norms.layerNorm(x, h, n, c, l.n1w, l.n1b, 1e-6f);
            l.qkv.forward(h, n, qkv);
            for (int t = 0; t < n; t++) {
                System.arraycopy(qkv, t * 3 * c, q, t * c, c);
                System.arraycopy(qkv, t * 3 * c + c, k, t * c, c);
                System.arraycopy(qkv, t * 3 * c + 2 * c, vv, t * c, c);
            }
            Attention.segments(q, k, vv, n, v.heads(), hd, scale, cu, att);
            l.proj.forward(att, n, o);
            for (int i = 0; i < n * c; i++) x[i] += l.ls1[i % c] * o[i];
            Norms.layerNorm(x, h, n, c, l.n2w, l.n2b, 1e-6f);
            l.fc1.forward(h, n, mid);
            Activations.gelu(mid, n * v.mlp());
            l.fc2.forward(mid, n, o);
            for (int i = 0; i < n * c; i++) x[i] += l.ls2[i % c] * o[i];
        }
        // pixel shuffle 0.5 of the 32×32 patch grid: each 2×2 group of patch features becomes one 4c token
        int side = (int) Math.round(Math.sqrt(patches)), out = patches / 4;
        float[] shuffled = new float[out * 4 * c];
        for (int r = 0; r < side; r++)
            for (int col = 0; col < side; col++) {
                int tok = (r / 2) * (side / 2) + col / 2, part = (r % 2) * 2 + col % 2;
                System.arraycopy(x, (1 + r * side + col) * c, shuffled, (tok * 4 + part) * c, c);
            }
        Norms.layerNorm(shuffled, shuffled, out, 4 * c, mlp1NormW, mlp1NormB, 1e-5f);
        float[] y = mlp1a.forward(shuffled, out);
        Activations.gelu(y, out * llmHidden);
        return mlp1b.forward(y, out);
    }
}
