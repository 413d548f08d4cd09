package dev.navil4j.models.internvl;

import dev.navil4j.nn.Activations;
import dev.navil4j.nn.Attention;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorPath;
import dev.navil4j.weights.WeightsException;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * InternViT (modeling_intern_vit.py InternVisionModel), both layouts: 300M (LayerNorm, qkv bias) and 6B (RMSNorm,
 * QK-norm, no qkv bias), chosen by {@link InternVisionConfig}. Tensor names come from {@link InternVLTensorNames}
 * (remote-code or transformers layout). Weights stay mapped in their stored dtype; activations are f32 row-major.
 * <p>All tiles of a call run through one set of matmuls ([tiles·(1+P), C]); attention stays inside each tile.
 */
public final class InternVisionModel {
    public final InternVisionConfig config;
    private final Linear patchEmbedding;          // Conv2d(3, C, p, stride p) as [C, 3·p·p]
    private final float[] classEmbedding;         // [C]
    private final float[] positionEmbedding;      // [1 + g·g, C], g = image_size / patch_size
    private final Layer[] layers;
    /** Position embeddings resampled to other patch grids, by (rows << 16 | cols). */
    private final Map<Integer, float[]> resampled = new ConcurrentHashMap<>();

    /** One InternVisionEncoderLayer. Norm biases are null for RMSNorm; qNorm/kNorm null without QK-norm. */
    private record Layer(float[] norm1W, float[] norm1B, float[] norm2W, float[] norm2B, Linear qkv, Linear proj,
                         float[] qNorm, float[] kNorm, float[] ls1, float[] ls2, Linear fc1, Linear fc2) {}

    private InternVisionModel(InternVisionConfig config, Linear patchEmbedding, float[] classEmbedding,
                              float[] positionEmbedding, Layer[] layers) {
        this.config = config;
        this.patchEmbedding = patchEmbedding;
        this.classEmbedding = classEmbedding;
        this.positionEmbedding = positionEmbedding;
        this.layers = layers;
    }

    /** Loads the ViT from whichever layout {@code names} describes. */
    public static InternVisionModel load(InternVLTensorNames names, InternVisionConfig c) {
        SafeTensors st = names.st;
        int d = c.hiddenSize(), f = c.intermediateSize();
        int positions = c.gridSize() * c.gridSize() + 1;
        Linear patch = Linear.loadPatchConv(st, names.patchEmbedding(), c.numChannels(), c.patchSize(), d);
        float[] cls = st.get(names.classEmbedding(), 1, 1, d).toFloatArray();
        float[] pos = st.get(names.positionEmbedding(), 1, positions, d).toFloatArray();
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            TensorPath p = names.layer(i);
            boolean ln = !c.rmsNorm();
            layers[i] = new Layer(
                    p.pp(names.norm1()).floats("weight", d), ln ? p.pp(names.norm1()).floats("bias", d) : null,
                    p.pp(names.norm2()).floats("weight", d), ln ? p.pp(names.norm2()).floats("bias", d) : null,
                    names.qkv(p, d, c.qkvBias()),
                    Linear.load(st, p.pp(names.proj()).path(), d, d, true),
                    c.qkNormalization() ? p.pp(names.qNorm()).floats("weight", d) : null,
                    c.qkNormalization() ? p.pp(names.kNorm()).floats("weight", d) : null,
                    p.floats(names.ls1(), d), p.floats(names.ls2(), d),
                    Linear.load(st, p.pp(names.fc1()).path(), d, f, true), Linear.load(st, p.pp(names.fc2()).path(), f, d, true));
        }
        return new InternVisionModel(c, patch, cls, pos, layers);
    }

    public int layerCount() { return layers.length; }

    /**
     * The hidden states after the first {@code depth} encoder layers (depth = layerCount() gives
     * last_hidden_state; depth k is {@code hidden_states[k]} of output_hidden_states, 0 = the embeddings).
     *
     * @param pixels [tiles, 3, height, width] normalized pixel values
     * @return [tiles, 1 + (height/p)·(width/p), C], CLS first
     */
    public float[] forward(float[] pixels, int tiles, int height, int width, int depth) {
        if (depth < 0 || depth > layers.length)
            throw new IllegalArgumentException("vision depth " + depth + " outside 0.." + layers.length);
        float[] x = embed(pixels, tiles, height, width);
        int tokens = 1 + (height / config.patchSize()) * (width / config.patchSize());
        for (int l = 0; l < depth; l++) layer(layers[l], x, tiles, tokens);
        return x;
    }

    /** InternVisionEmbeddings.forward: patch conv, CLS in front, position embedding (resampled when the grid differs). */
    private float[] embed(float[] pixels, int tiles, int height, int width) {
        int p = config.patchSize(), ch = config.numChannels(), d = config.hiddenSize();
        if (height % p != 0 || width % p != 0)
            throw new IllegalArgumentException("image " + width + "x" + height + " is not a multiple of the patch size " + p);
        if ((long) tiles * ch * height * width != pixels.length)
            throw new IllegalArgumentException(pixels.length + " pixel values for " + tiles + " tiles of " + ch + "x" + height + "x" + width);
        int gh = height / p, gw = width / p, patches = gh * gw, k = ch * p * p;
        // unfold: row (tile, py, px) = the patch's values in Conv2d weight order (c, ky, kx)
        float[] cols = new float[tiles * patches * k];
        Parallel.forRange(tiles * gh, 4, (from, to) -> {
            for (int tr = from; tr < to; tr++) {
                int t = tr / gh, py = tr % gh;
                for (int px = 0; px < gw; px++) {
                    int o = ((t * gh + py) * gw + px) * k;
                    for (int c = 0; c < ch; c++)
                        for (int ky = 0; ky < p; ky++) {
                            int src = ((t * ch + c) * height + py * p + ky) * width + px * p;
                            System.arraycopy(pixels, src, cols, o + (c * p + ky) * p, p);
                        }
                }
            }
        });
        float[] pe = patchEmbedding.forward(cols, tiles * patches);
        float[] pos = positionsFor(gh, gw);
        int tokens = patches + 1;
        float[] x = new float[tiles * tokens * d];
        for (int t = 0; t < tiles; t++) {
            int base = t * tokens * d;
            for (int j = 0; j < d; j++) x[base + j] = classEmbedding[j] + pos[j];
            for (int i = 0; i < patches; i++)
                for (int j = 0; j < d; j++)
                    x[base + (1 + i) * d + j] = pe[(t * patches + i) * d + j] + pos[(1 + i) * d + j];
        }
        return x;
    }

    /** [1 + gh·gw, C]: CLS position unchanged, the patch grid resampled by _get_pos_embed (bicubic, align_corners=False). */
    private float[] positionsFor(int gh, int gw) {
        int g = config.gridSize(), d = config.hiddenSize();
        if (gh == g && gw == g) return positionEmbedding; // bicubic at scale 1 samples the grid points exactly
        return resampled.computeIfAbsent(gh << 16 | gw, key -> {
            float[] grid = new float[g * g * d];
            System.arraycopy(positionEmbedding, d, grid, 0, grid.length);
            float[] r = Bicubic.resize(grid, g, g, d, gh, gw);
            float[] out = new float[(1 + gh * gw) * d];
            System.arraycopy(positionEmbedding, 0, out, 0, d);
            System.arraycopy(r, 0, out, d, r.length);
            return out;
        });
    }

    /** InternVisionEncoderLayer.forward: x += attn(norm1(x))·ls1; x += mlp(norm2(x))·ls2. In place. */
    private void layer(Layer L, float[] x, int tiles, int tokens) {
        int n = tiles * tokens, d = config.hiddenSize(), heads = config.heads(), hd = config.headDim();
        float[] h = new float[n * d];
        norm(x, h, n, L.norm1W, L.norm1B);
        float[] qkv = L.qkv.forward(h, n);
        // qkv row = [q (heads·hd) | k | v], as reshape(B, N, 3, H, D)
        float[] q = new float[n * d], k = new float[n * d], v = new float[n * d];
        for (int t = 0; t < n; t++) {
            System.arraycopy(qkv, t * 3 * d, q, t * d, d);
            System.arraycopy(qkv, t * 3 * d + d, k, t * d, d);
            System.arraycopy(qkv, t * 3 * d + 2 * d, v, t * d, d);
        }
        if (config.qkNormalization()) {
            // InternRMSNorm over the whole (H·D) vector of each token, before the head split (6B layout)
            Norms.rmsNorm(q, q, n, d, L.qNorm, config.layerNormEps());
            Norms.rmsNorm(k, k, n, d, L.kNorm, config.layerNormEps());
        }
        int[] cu = new int[tiles + 1];
        for (int t = 0; t <= tiles; t++) cu[t] = t * tokens;
        float[] ctx = new float[n * d];
        Attention.segments(q, k, v, n, heads, hd, (float) (1.0 / Math.sqrt(hd)), cu, ctx);
        float[] a = L.proj.forward(ctx, n);
        addScaled(x, a, L.ls1, n, d);
        norm(x, h, n, L.norm2W, L.norm2B);
        float[] f = L.fc1.forward(h, n);
        gelu(f);
        float[] m = L.fc2.forward(f, n);
        addScaled(x, m, L.ls2, n, d);
    }

    private void norm(float[] x, float[] out, int n, float[] w, float[] b) {
        int d = config.hiddenSize();
        if (config.rmsNorm()) Norms.rmsNorm(x, out, n, d, w, config.layerNormEps());
        else Norms.layerNorm(x, out, n, d, w, b, config.layerNormEps());
    }

    /** x[t, j] += y[t, j]·scale[j] (layer scale ls1/ls2). */
    private static void addScaled(float[] x, float[] y, float[] scale, int n, int d) {
        for (int t = 0; t < n; t++)
            for (int j = 0; j < d; j++) x[t * d + j] += y[t * d + j] * scale[j];
    }

    /** Exact-erf GELU (ACT2FN["gelu"], nn.GELU()). */
    static void gelu(float[] x) { Activations.gelu(x, x.length); }

    static void check(boolean ok, String msg) { if (!ok) throw new WeightsException(msg); }
}
