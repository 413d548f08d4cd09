package dev.navil4j.models.vora;

import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.WeightsException;

/**
 * VoRA's whole vision encoder (models/vision_embedding.py AIMv2Embedding): a stride-14 patch Conv2d,
 * RMSNorm over its channels, a learned position embedding, and a bias-free projection into the LLM's
 * hidden size. Everything else about vision happens inside the LLM's LoRA layers.
 */
public final class AIMv2Embedding {
    private final int patch, channels, hidden, numPositions, gridSide;
    private final float eps;
    private final Linear proj;        // patchifier.proj: Conv2d(3, C, patch, stride patch) as [C, 3·p·p]
    private final float[] normWeight; // patchifier.norm.weight [C]
    private final float[] posEmbed;   // pos_embed [1, P, C], P = (image_size / patch)²
    private final Linear outProj;     // out_proj [hidden, C]

    private AIMv2Embedding(VoRAConfig c, Linear proj, float[] normWeight, float[] posEmbed, Linear outProj) {
        this.patch = c.patchSize();
        this.channels = c.visionEmbeddingIntermediateSize();
        this.hidden = c.llm().hiddenSize();
        this.numPositions = (c.imageSize() / c.patchSize()) * (c.imageSize() / c.patchSize());
        this.gridSide = (int) Math.sqrt(numPositions); // the reference views pos_embed as int(P**0.5)² for resizing
        this.eps = c.llm().rmsNormEps(); // RMSNorm eps = config.rms_norm_eps, which the LLM config overwrote
        this.proj = proj;
        this.normWeight = normWeight;
        this.posEmbed = posEmbed;
        this.outProj = outProj;
    }

    /** Loads {@code prefix + "patchifier.*", "pos_embed", "out_proj.weight"} (prefix "vision_embedding."). */
    public static AIMv2Embedding load(SafeTensors st, String prefix, VoRAConfig c) {
        int ch = c.visionEmbeddingIntermediateSize(), p = c.patchSize();
        int side = c.imageSize() / p;
        Linear proj = Linear.loadPatchConv(st, prefix + "patchifier.proj", 3, p, ch);
        float[] norm = st.get(prefix + "patchifier.norm.weight", ch).toFloatArray();
        float[] pos = st.get(prefix + "pos_embed", 1, (long) side * side, ch).toFloatArray();
        Linear out = Linear.load(st, prefix + "out_proj", ch, c.llm().hiddenSize(), false);
        return new AIMv2Embedding(c, proj, norm, pos, out);
    }

    /** Number of patch tokens of an H×W image (Conv2d drops a remainder smaller than a patch). */
    public int tokens(int height, int width) { return (height / patch) * (width / patch); }

    /**
     * pixels [3, H, W] (one image, normalized) → embeddings [N, hidden] with N = (H/p)·(W/p), row-major over
     * the patch grid as {@code flatten(2).transpose(1, 2)} orders them.
     */
    public float[] forward(float[] pixels, int height, int width) {
        if (pixels.length != 3L * height * width)
            throw new IllegalArgumentException("pixel values hold " + pixels.length + " floats, expected 3x" + height + "x" + width);
        int hT = height / patch, wT = width / patch, n = hT * wT, k = 3 * patch * patch;
        if (n == 0) throw new IllegalArgumentException("image " + width + "x" + height + " is smaller than one " + patch + "px patch");
        float[] patches = new float[n * k]; // each row (c, ky, kx) as Conv2d weights are flattened
        for (int ty = 0; ty < hT; ty++)
            for (int tx = 0; tx < wT; tx++) {
                int o = (ty * wT + tx) * k;
                for (int c = 0; c < 3; c++)
                    for (int ky = 0; ky < patch; ky++) {
                        int src = (c * height + ty * patch + ky) * width + tx * patch;
                        System.arraycopy(pixels, src, patches, o + (c * patch + ky) * patch, patch);
                    }
            }
        float[] x = proj.forward(patches, n);
        Norms.rmsNorm(x, x, n, channels, normWeight, eps);
        float[] pos = n <= numPositions ? posEmbed : resizedPositions(hT, wT);
        // N ≤ P: the reference adds pos_embed[:, :N], the first N rows whatever the grid shape
        for (int i = 0; i < n * channels; i++) x[i] += pos[i];
        return outProj.forward(x, n);
    }

    /**
     * pos_embed viewed as a side×side grid, resized to hT×wT like
     * {@code F.interpolate(mode='bilinear', align_corners=False)} on CPU: source coordinate
     * (dst + 0.5)·(in/out) − 0.5 clamped at 0, neighbours i0 and min(i0 + 1, in − 1).
     */
    float[] resizedPositions(int hT, int wT) {
        if (gridSide * gridSide != numPositions)
            throw new WeightsException("pos_embed has " + numPositions + " rows, not a square grid");
        int s = gridSide, c = channels;
        float[] out = new float[hT * wT * c];
        float sy = (float) s / hT, sx = (float) s / wT;
        for (int y = 0; y < hT; y++) {
            float fy = Math.max(sy * (y + 0.5f) - 0.5f, 0f);
            int y0 = (int) fy, y1 = y0 < s - 1 ? y0 + 1 : y0;
            float ly = Math.min(Math.max(fy - y0, 0f), 1f), hy = 1f - ly;
            for (int x = 0; x < wT; x++) {
                float fx = Math.max(sx * (x + 0.5f) - 0.5f, 0f);
                int x0 = (int) fx, x1 = x0 < s - 1 ? x0 + 1 : x0;
                float lx = Math.min(Math.max(fx - x0, 0f), 1f), hx = 1f - lx;
                int o = (y * wT + x) * c;
                int a = (y0 * s + x0) * c, b = (y0 * s + x1) * c, d = (y1 * s + x0) * c, e = (y1 * s + x1) * c;
                for (int j = 0; j < c; j++)
                    out[o + j] = hy * (hx * posEmbed[a + j] + lx * posEmbed[b + j]) + ly * (hx * posEmbed[d + j] + lx * posEmbed[e + j]);
            }
        }
        return out;
    }

    public int hiddenSize() { return hidden; }
}
