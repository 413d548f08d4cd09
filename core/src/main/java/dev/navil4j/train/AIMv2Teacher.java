package dev.navil4j.train;

import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The frozen distillation teacher: an AIMv2 vision trunk in the hub's remote-code layout
 * (aux_vision.py:68 AutoModel.from_pretrained(aux_vision, trust_remote_code=True)). Forward only, no grads:
 * preprocessor (Conv2d patchifier + RMSNorm + pos_embed), then pre-norm blocks
 * {@code x += proj(SDPA(qkv(norm_1(x))))}, {@code x += fc2(silu(fc1(y)) · fc3(y)), y = norm_2(x)}, full
 * attention. {@code output_hidden_states} of the remote code are the OUTPUTS of blocks 0..K-1 (no embedding
 * entry, no post_trunk_norm), which is what {@link #forward} returns.
 */
public final class AIMv2Teacher {
    final int hidden, heads, layers, inter, patch, imageSize;
    final float eps;
    private final float[] projW, projB, normW, posEmbed;
    private final float[][] norm1, qkv, qkvB, proj, projBias, norm2, fc1, fc2, fc3, fc1B, fc2B, fc3B;

    private AIMv2Teacher(Json.Obj c, SafeTensors st) {
        hidden = c.integer("hidden_size");
        heads = c.integer("num_attention_heads");
        layers = c.integer("num_hidden_layers");
        inter = c.integer("intermediate_size");
        patch = c.integer("patch_size", 14);
        imageSize = c.integer("image_size", 224);
        eps = (float) c.number("rms_norm_eps", 1e-5);
        int channels = c.integer("num_channels", 3);
        if (channels != 3) throw new WeightsException(c.where() + ": num_channels " + channels + " (only RGB teachers)");
        if (hidden % heads != 0) throw new WeightsException(c.where() + ": hidden_size not divisible by num_attention_heads");
        boolean qkvBias = c.bool("qkv_bias", false), useBias = c.bool("use_bias", false);
        String p = "preprocessor.";
        int side = imageSize / patch;
        projW = st.get(p + "patchifier.proj.weight", hidden, 3, patch, patch).toFloatArray();
        projB = st.get(p + "patchifier.proj.bias", hidden).toFloatArray();
        normW = st.get(p + "patchifier.norm.weight", hidden).toFloatArray();
        posEmbed = st.get(p + "pos_embed", 1, (long) side * side, hidden).toFloatArray();
        norm1 = new float[layers][]; qkv = new float[layers][]; qkvB = new float[layers][]; proj = new float[layers][];
        projBias = new float[layers][]; norm2 = new float[layers][]; fc1 = new float[layers][]; fc2 = new float[layers][];
        fc3 = new float[layers][]; fc1B = new float[layers][]; fc2B = new float[layers][]; fc3B = new float[layers][];
        for (int l = 0; l < layers; l++) {
            String b = "trunk.blocks." + l + ".";
            norm1[l] = st.get(b + "norm_1.weight", hidden).toFloatArray();
            qkv[l] = st.get(b + "attn.qkv.weight", 3L * hidden, hidden).toFloatArray();
            qkvB[l] = qkvBias ? st.get(b + "attn.qkv.bias", 3L * hidden).toFloatArray() : null;
            proj[l] = st.get(b + "attn.proj.weight", hidden, hidden).toFloatArray();
            projBias[l] = useBias ? st.get(b + "attn.proj.bias", hidden).toFloatArray() : null;
            norm2[l] = st.get(b + "norm_2.weight", hidden).toFloatArray();
            fc1[l] = st.get(b + "mlp.fc1.weight", inter, hidden).toFloatArray();
            fc2[l] = st.get(b + "mlp.fc2.weight", hidden, inter).toFloatArray();
            fc3[l] = st.get(b + "mlp.fc3.weight", inter, hidden).toFloatArray();
            fc1B[l] = useBias ? st.get(b + "mlp.fc1.bias", inter).toFloatArray() : null;
            fc2B[l] = useBias ? st.get(b + "mlp.fc2.bias", hidden).toFloatArray() : null;
            fc3B[l] = useBias ? st.get(b + "mlp.fc3.bias", inter).toFloatArray() : null;
        }
    }

    /** Loads {@code dir/config.json} + the safetensors of an AIMv2-layout teacher. */
    public static AIMv2Teacher load(Path dir) {
        Path cfg = dir.resolve("config.json");
        if (!Files.isRegularFile(cfg)) throw new WeightsException(dir + ": not a teacher directory (no config.json)");
        try (SafeTensors st = SafeTensors.open(dir)) {
            return new AIMv2Teacher(Json.Obj.of(cfg), st);
        }
    }

    public int hiddenSize() { return hidden; }

    public int numBlocks() { return layers; }

    /**
     * pixels [B, 3, S, S] → the output of every block: out[j] = [B, N, hidden], N = (S/p)².
     */
    public float[][] forward(float[] pixels, int batch, int size) {
        int side = size / patch, n = side * side, rows = batch * n, k = 3 * patch * patch;
        if (n > posEmbed.length / hidden)
            throw new IllegalArgumentException("teacher: " + size + " px image gives " + n + " patches, pos_embed has " + posEmbed.length / hidden);
        float[] x = new float[rows * hidden];
        for (int b = 0; b < batch; b++) {
            float[] pt = TrainOps.patches(pixels, b * 3 * size * size, size, size, patch);
            float[] y = new float[n * hidden];
            TrainOps.linear(y, pt, projW, projB, n, k, hidden);
            float[] r = new float[n];
            TrainOps.rmsNorm(y, r, y, normW, n, hidden, eps);
            for (int i = 0; i < n * hidden; i++) x[b * n * hidden + i] = y[i] + posEmbed[i];
        }
        float[][] out = new float[layers][];
        float[] rstd = new float[rows];
        int hd = hidden / heads;
        for (int l = 0; l < layers; l++) {
            float[] a = new float[rows * hidden];
            TrainOps.rmsNorm(a, rstd, x, norm1[l], rows, hidden, eps);
            float[] qkvOut = new float[rows * 3 * hidden];
            TrainOps.linear(qkvOut, a, qkv[l], qkvB[l], rows, hidden, 3 * hidden);
            // view(b, n, 3, h, hd): columns are [q | k | v], each heads × hd
            float[] q = new float[rows * hidden], kk = new float[rows * hidden], v = new float[rows * hidden];
            for (int i = 0; i < rows; i++) {
                System.arraycopy(qkvOut, i * 3 * hidden, q, i * hidden, hidden);
                System.arraycopy(qkvOut, i * 3 * hidden + hidden, kk, i * hidden, hidden);
                System.arraycopy(qkvOut, i * 3 * hidden + 2 * hidden, v, i * hidden, hidden);
            }
            float[] att = new float[rows * hidden];
            TrainAttention.forward(att, q, kk, v, batch, n, heads, heads, hd, null);
            float[] po = new float[rows * hidden];
            TrainOps.linear(po, att, proj[l], projBias[l], rows, hidden, hidden);
            for (int i = 0; i < x.length; i++) x[i] += po[i];
            float[] y = new float[rows * hidden];
            TrainOps.rmsNorm(y, rstd, x, norm2[l], rows, hidden, eps);
            float[] g = new float[rows * inter], u = new float[rows * inter];
            TrainOps.linear(g, y, fc1[l], fc1B[l], rows, hidden, inter);
            TrainOps.linear(u, y, fc3[l], fc3B[l], rows, hidden, inter);
            TrainOps.swiglu(g, g, u, g.length);
            float[] m = new float[rows * hidden];
            TrainOps.linear(m, g, fc2[l], fc2B[l], rows, inter, hidden);
            for (int i = 0; i < x.length; i++) x[i] += m[i];
            out[l] = x.clone();
        }
        return out;
    }
}
