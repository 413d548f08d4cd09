package dev.navil4j.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.models.qwen2.Qwen2Config;
import dev.navil4j.models.vora.VoRAConfig;
import dev.navil4j.nn.Rope;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorInfo;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VoRAForCausalLM in training mode (models/modeling_vora.py:83-264) with its AuxVision distillation
 * (models/aux_vision.py): the student is the Qwen2 LLM ({@code llm.*}, frozen except LoRA A/B and the
 * LoRALayers' fresh biases), the AIMv2Embedding ({@code vision_embedding.*}, trainable) and one
 * RMSNorm(eps 1e-5) + Linear head per teacher block ({@code aux_vision.aux_layer_j.{0,1}}, trainable); the
 * teacher is a frozen {@link AIMv2Teacher}.
 * <p>{@link #forward} computes, for a {@link Batch}: the spliced embeddings (_concat_embedding), the VoRA
 * mask, the decoder, logits, HF's shifted cross-entropy (lm_loss), and for every teacher block j the
 * 1 − cosine loss between aux_layer_j(hidden_states[j] at image rows) and the teacher's block-j output;
 * total = lm_loss + mean_j loss_j. {@link #backward} then fills the trainable tensors' gradients.
 */
public final class VoRATrainModel {
    static final String LLM = "llm.";
    /** The processor's vision_placeholder_index: where a sample's image goes in its ids. */
    public static final int IMAGE_PLACEHOLDER = VoRAConfig.IMAGE_TOKEN_INDEX;
    /** aux_vision.py:9/86: the heads' RMSNorm keeps the class default eps. */
    static final float HEAD_EPS = 1e-5f;

    public final VoRAConfig config;
    public final Qwen2Config llmConfig;
    public final AIMv2Teacher teacher;
    private final Map<String, Param> params = new LinkedHashMap<>();
    private final Param embed, finalNorm, lmHead;
    private final List<TrainDecoderLayer> layers = new ArrayList<>();
    private final Param patchW, patchB, patchNorm, posEmbed, outProj;
    private final Param[] headNorm, headProj;
    private final int patch, channels, numPositions;
    private final FrozenMatrix lmHeadMatrix;

    /** Everything {@link #backward} needs from the last forward. */
    private record Saved(Batch batch, int len, int np, float[] patches, float[] pc, float[] pcRstd, float[] vn, float[] vp,
                         int[] imageRow, float[] xL, float[] xf, float[] xfRstd, float[] dlogits, Head[] heads, int[] visionRows) {}

    /** One distillation head's saved activations: its input rows h [R, D], normed hn, rstd, d loss / d out. */
    private record Head(float[] h, float[] hn, float[] rstd, float[] dout) {}
    private Saved saved;

    /** The losses of one forward, plus the debugging tensors the fixture checks. */
    public record Losses(double total, double lm, double distill, double[] perBlock, int labelled, float[] logits,
                         float[][] studentProj, float[][] teacherHidden) {}

    private VoRATrainModel(VoRAConfig config, SafeTensors st, AIMv2Teacher teacher) {
        this.config = config;
        this.llmConfig = config.llm();
        this.teacher = teacher;
        Qwen2Config c = llmConfig;
        if (c.ropeScalingType() != null) throw new WeightsException("training: rope_scaling " + c.ropeScalingType() + " is not supported");
        int d = c.hiddenSize();
        embed = frozen(st, LLM + "model.embed_tokens.weight", c.vocabSize(), d);
        java.util.Set<Integer> loraLayers = new java.util.HashSet<>(config.loraLayers());
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = LLM + "model.layers." + l + ".";
            boolean lora = config.loraRank() > 0 && loraLayers.contains(l);
            Param in = frozen(st, p + "input_layernorm.weight", d), post = frozen(st, p + "post_attention_layernorm.weight", d);
            TrainLinear q = linear(st, p + "self_attn.q_proj", d, c.qDim(), lora);
            TrainLinear k = linear(st, p + "self_attn.k_proj", d, c.kvDim(), lora);
            TrainLinear v = linear(st, p + "self_attn.v_proj", d, c.kvDim(), lora);
            TrainLinear o = linear(st, p + "self_attn.o_proj", c.qDim(), d, lora);
            TrainLinear g = linear(st, p + "mlp.gate_proj", d, c.intermediateSize(), lora);
            TrainLinear u = linear(st, p + "mlp.up_proj", d, c.intermediateSize(), lora);
            TrainLinear dn = linear(st, p + "mlp.down_proj", c.intermediateSize(), d, lora);
            layers.add(new TrainDecoderLayer(in, post, q, k, v, o, g, u, dn, c.numAttentionHeads(), c.numKeyValueHeads(), c.rmsNormEps()));
        }
        finalNorm = frozen(st, LLM + "model.norm.weight", d);
        lmHead = c.tieWordEmbeddings() && !st.contains(LLM + "lm_head.weight") ? embed : frozen(st, LLM + "lm_head.weight", c.vocabSize(), d);
        lmHeadMatrix = new FrozenMatrix(lmHead);
        patch = config.patchSize();
        channels = config.visionEmbeddingIntermediateSize();
        int side = config.imageSize() / patch;
        numPositions = side * side;
        String v = "vision_embedding.";
        patchW = trainable(st, v + "patchifier.proj.weight", channels, 3, patch, patch);
        patchB = trainable(st, v + "patchifier.proj.bias", channels);
        patchNorm = trainable(st, v + "patchifier.norm.weight", channels);
        posEmbed = trainable(st, v + "pos_embed", 1, numPositions, channels);
        outProj = trainable(st, v + "out_proj.weight", d, channels);
        int k = teacher.numBlocks();
        if (k > c.numHiddenLayers() + 1)
            throw new WeightsException("teacher has " + k + " blocks but the LLM only " + (c.numHiddenLayers() + 1) + " hidden states");
        headNorm = new Param[k];
        headProj = new Param[k];
        for (int j = 0; j < k; j++) {
            headNorm[j] = trainable(st, "aux_vision.aux_layer_" + j + ".0.weight", d);
            headProj[j] = trainable(st, "aux_vision.aux_layer_" + j + ".1.weight", teacher.hiddenSize(), d);
        }
    }

    /**
     * Loads an unmerged pre-training checkpoint (model.safetensors as VoRAForCausalLM.state_dict names it,
     * config.json with lora r &gt; 0 and aux_vision) and its teacher: {@code teacherDir}, or when null the
     * config's aux_vision path resolved against the model directory.
     */
    public static VoRATrainModel load(Path modelDir, Path teacherDir) {
        Json.Obj raw = Json.Obj.of(modelDir.resolve("config.json"));
        String aux = raw.string("aux_vision", "");
        Path tdir = teacherDir != null ? teacherDir : aux.isEmpty() ? null : modelDir.resolve(aux).normalize();
        if (tdir == null) throw new WeightsException(modelDir + ": config.json has no aux_vision teacher and none was given");
        ObjectNode cfg = ((ObjectNode) raw.node().deepCopy());
        cfg.remove("aux_vision"); // VoRAConfig is the inference config: it refuses the training-only head
        VoRAConfig config = VoRAConfig.of(new Json.Obj(cfg, raw.where()));
        AIMv2Teacher teacher = AIMv2Teacher.load(tdir);
        try (SafeTensors st = SafeTensors.open(modelDir)) {
            return new VoRATrainModel(config, st, teacher);
        }
    }

    // ---------------------------------------------------------------- parameters

    private Param add(Param p) {
        if (params.put(p.name, p) != null) throw new IllegalStateException(p.name + " twice");
        return p;
    }

    private Param frozen(SafeTensors st, String name, long... shape) { return add(new Param(name, shape, st.get(name, shape).toFloatArray(), false)); }

    private Param trainable(SafeTensors st, String name, long... shape) { return add(new Param(name, shape, st.get(name, shape).toFloatArray(), true)); }

    /**
     * lora.py _replace_module: the original weight (frozen), the original bias where the module had one
     * (frozen: Qwen2's q/k/v), otherwise on a LoRA layer the LoRALayer's own fresh bias (trainable).
     */
    private TrainLinear linear(SafeTensors st, String name, int in, int out, boolean lora) {
        Param w = frozen(st, name + ".weight", out, in);
        Param b = null;
        if (st.contains(name + ".bias")) {
            boolean original = name.endsWith("q_proj") || name.endsWith("k_proj") || name.endsWith("v_proj");
            b = original || !lora ? frozen(st, name + ".bias", out) : trainable(st, name + ".bias", out);
        } else if (lora) throw new WeightsException(name + ": a LoRALayer always has a bias (lora.py:27), none in the checkpoint");
        Param a = null, bb = null;
        if (lora) {
            int r = config.loraRank();
            a = trainable(st, name + ".lora_A.weight", r, in);
            bb = trainable(st, name + ".lora_B.weight", out, r);
        }
        return new TrainLinear(w, b, a, bb);
    }

    /** Every tensor of the checkpoint, in state_dict order. */
    public Map<String, Param> params() { return params; }

    public List<Param> trainable() { return params.values().stream().filter(Param::trainable).toList(); }

    /** merge_lora.py: {@code <target>.weight} → W + B @ A for every LoRA target of the model. */
    public Map<String, float[]> mergedWeights() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (TrainDecoderLayer l : layers)
            for (TrainLinear t : l.linears()) if (t.loraA != null) out.put(t.weight.name, t.mergedWeight());
        return out;
    }

    /** Overwrites tensors' values by name (e.g. trained weights from a checkpoint); shapes must match. */
    public void setValues(Map<String, float[]> values) {
        for (var e : values.entrySet()) {
            Param p = params.get(e.getKey());
            if (p == null) throw new IllegalArgumentException("no tensor " + e.getKey() + " in the model");
            if (p.size() != e.getValue().length) throw new IllegalArgumentException(e.getKey() + ": " + e.getValue().length + " values, expected " + p.size());
            System.arraycopy(e.getValue(), 0, p.w, 0, p.size());
        }
    }

    public void zeroGrad() { for (Param p : params.values()) p.zeroGrad(); }

    // ---------------------------------------------------------------- forward

    /** Training forward with losses (labels required). */
    public Losses forward(Batch b) { return forward(b, true); }

    /**
     * The forward of modeling_vora.py:224-264. With {@code withLoss} false (eval, no labels) only the logits
     * are computed and nothing is kept for a backward.
     */
    public Losses forward(Batch b, boolean withLoss) {
        Qwen2Config c = llmConfig;
        int d = c.hiddenSize(), B = b.batch(), T = b.len(), S = b.size();
        int side = S / patch, np = side * side, k = 3 * patch * patch;
        if (np > numPositions) throw new IllegalArgumentException("image of " + S + " px has " + np + " patches, more than pos_embed's " + numPositions);
        if (withLoss && b.labels() == null) throw new IllegalArgumentException("a training forward needs labels");
        // ---- vision_embedding (vision_embedding.py:24-70)
        float[] patches = new float[B * np * k];
        for (int i = 0; i < B; i++) System.arraycopy(TrainOps.patches(b.pixels(), i * 3 * S * S, S, S, patch), 0, patches, i * np * k, np * k);
        float[] pc = new float[B * np * channels], pcRstd = new float[B * np], vn = new float[B * np * channels];
        TrainOps.linear(pc, patches, patchW.w, patchB.w, B * np, k, channels);
        TrainOps.rmsNorm(vn, pcRstd, pc, patchNorm.w, B * np, channels, c.rmsNormEps()); // eps = the LLM's rms_norm_eps
        float[] vp = new float[vn.length];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < np * channels; j++) vp[i * np * channels + j] = vn[i * np * channels + j] + posEmbed.w[j];
        float[] ve = new float[B * np * d];
        TrainOps.linear(ve, vp, outProj.w, null, B * np, channels, d);
        // ---- _concat_embedding (modeling_vora.py:100-219): one image per sample at its -200
        int len = T - 1 + np;
        int n = B * len;
        float[] x0 = new float[n * d];
        int[] targets = new int[n], keyValid = new int[n], block = new int[n], imageRow = new int[n], pos = new int[n];
        List<Integer> visionRows = new ArrayList<>();
        for (int i = 0; i < B; i++) {
            int at = -1;
            for (int t = 0; t < T; t++)
                if (b.ids()[i * T + t] == config.imagePlaceholderIndex()) {
                    if (at >= 0) throw new IllegalArgumentException("sample " + i + " has more than one image placeholder (one image per sample)");
                    at = t;
                }
            if (at < 0) throw new IllegalArgumentException("sample " + i + " has no image placeholder -200 (text-only samples are not supported)");
            int r = i * len;
            for (int t = 0; t < T; t++) {
                if (t == at) {
                    for (int j = 0; j < np; j++) {
                        int row = r + at + j;
                        System.arraycopy(ve, (i * np + j) * d, x0, row * d, d);
                        targets[row] = -100;
                        keyValid[row] = 1;
                        block[row] = 0; // one image per sample: a single block per row of the batch
                        imageRow[row] = i * np + j;
                        visionRows.add(row);
                    }
                    continue;
                }
                int row = r + (t < at ? t : t - 1 + np);
                int id = b.ids()[i * T + t];
                if (id < 0 && id != config.imagePlaceholderIndex() || id >= c.vocabSize())
                    throw new IllegalArgumentException("token id " + id + " outside the vocabulary");
                System.arraycopy(embed.w, Math.max(id, 0) * d, x0, row * d, d); // ids.relu() (line 152)
                targets[row] = b.labels() == null ? -100 : b.labels()[i * T + t];
                keyValid[row] = b.attentionMask()[i * T + t];
                block[row] = -1;
                imageRow[row] = -1;
            }
            for (int t = 0; t < len; t++) pos[r + t] = t; // no position_ids: arange over the spliced sequence
        }
        TrainAttention.Mask mask = new TrainAttention.Mask(keyValid, config.bidirectionalImages() ? block : minusOnes(n));
        // ---- decoder
        int hd = c.headDim(), half = hd / 2;
        float[] inv = new Rope(hd, c.ropeTheta()).invFreq(len);
        float[] cos = new float[len * half], sin = new float[len * half];
        for (int t = 0; t < len; t++)
            for (int i = 0; i < half; i++) {
                float ang = (float) t * inv[i];
                cos[t * half + i] = (float) Math.cos(ang);
                sin[t * half + i] = (float) Math.sin(ang);
            }
        int L = layers.size();
        float[][] hs = new float[L + 1][];
        hs[0] = x0;
        float[] x = x0;
        for (int l = 0; l < L; l++) {
            x = layers.get(l).forward(x, B, len, pos, cos, sin, mask);
            hs[l + 1] = x;
        }
        float[] xf = new float[n * d], xfRstd = new float[n];
        TrainOps.rmsNorm(xf, xfRstd, x, finalNorm.w, n, d, c.rmsNormEps());
        float[] xL = x;
        hs[L] = xf; // HF: the last hidden state is the final-norm output
        float[] logits = new float[n * c.vocabSize()];
        lmHeadMatrix.forward(logits, xf, null, n);
        if (!withLoss) {
            for (TrainDecoderLayer layer : layers) layer.release();
            saved = null;
            return new Losses(Double.NaN, Double.NaN, Double.NaN, new double[0], 0, logits, new float[0][], new float[0][]);
        }
        // ---- LM loss (transformers ForCausalLMLoss: shift, ignore -100, mean over labelled tokens)
        float[] dlogits = new float[logits.length];
        double[] ce = TrainOps.causalLmLoss(dlogits, logits, targets, B, len, c.vocabSize());
        // ---- distillation (aux_vision.py:94-102)
        int K = teacher.numBlocks(), rows = visionRows.size(), dv = teacher.hiddenSize();
        if (S != teacher.imageSize) throw new IllegalArgumentException("teacher runs at " + teacher.imageSize + " px, the batch has " + S + " px images");
        float[][] th = teacher.forward(b.pixels(), B, S);
        double[] per = new double[K];
        float[][] studentProj = new float[K][];
        Head[] heads = new Head[K];
        double distill = 0;
        for (int j = 0; j < K; j++) {
            float[] hsel = new float[rows * d];
            for (int r = 0; r < rows; r++) System.arraycopy(hs[j], visionRows.get(r) * d, hsel, r * d, d);
            float[] hn = new float[rows * d], hr = new float[rows];
            TrainOps.rmsNorm(hn, hr, hsel, headNorm[j].w, rows, d, HEAD_EPS);
            float[] sp = new float[rows * dv];
            TrainOps.linear(sp, hn, headProj[j].w, null, rows, d, dv);
            studentProj[j] = sp;
            float[] ds = new float[rows * dv];
            // teacher_hidden[j][:, 0:] reshaped to (B·N, Dv): row order (batch, patch) = the vision rows' order
            per[j] = TrainOps.cosineLoss(ds, sp, th[j], rows, dv, 1.0 / K);
            distill += per[j];
            heads[j] = new Head(hsel, hn, hr, ds);
        }
        distill /= K;
        int[] vr = visionRows.stream().mapToInt(Integer::intValue).toArray();
        saved = new Saved(b, len, np, patches, pc, pcRstd, vn, vp, imageRow, xL, xf, xfRstd, dlogits, heads, vr);
        return new Losses(ce[0] + distill, ce[0], distill, per, (int) ce[1], logits, studentProj, th);
    }

    private static int[] minusOnes(int n) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, -1);
        return a;
    }

    // ---------------------------------------------------------------- backward

    /**
     * d(scale · total)/d(every trainable tensor) of the last training forward, ACCUMULATED into the grads
     * (torch's {@code .grad +=}); scale = 1/accumulation steps when micro-batches accumulate.
     */
    public void backward(double scale) {
        Saved s = saved;
        if (s == null) throw new IllegalStateException("backward without a training forward");
        saved = null;
        Qwen2Config c = llmConfig;
        int d = c.hiddenSize(), B = s.batch.batch(), len = s.len, n = B * len, L = layers.size(), np = s.np;
        float f = (float) scale;
        if (scale != 1.0) for (int i = 0; i < s.dlogits.length; i++) s.dlogits[i] *= f;
        // ---- the heads: d loss_j / d hidden_states[j] at the image rows
        float[][] dHead = new float[s.heads.length][];
        int rows = s.visionRows.length, dv = teacher.hiddenSize();
        for (int j = 0; j < s.heads.length; j++) {
            Head h = s.heads[j];
            if (scale != 1.0) for (int i = 0; i < h.dout.length; i++) h.dout[i] *= f;
            float[] dhn = new float[rows * d];
            TrainOps.linearBackward(dhn, headProj[j].g, null, h.dout, h.hn, headProj[j].w, rows, d, dv);
            float[] dh = new float[rows * d];
            TrainOps.rmsNormBackward(dh, headNorm[j].g, dhn, h.h, headNorm[j].w, h.rstd, rows, d);
            dHead[j] = dh;
        }
        // ---- lm_head (frozen), final norm, decoder layers top-down
        float[] dxf = new float[n * d];
        lmHeadMatrix.backwardInput(dxf, s.dlogits, n);
        addDistill(dxf, s, dHead, L, d);
        float[] dx = new float[n * d];
        TrainOps.rmsNormBackward(dx, finalNorm.g, dxf, s.xL, finalNorm.w, s.xfRstd, n, d);
        for (int l = L - 1; l >= 0; l--) {
            dx = layers.get(l).backward(dx);
            layers.get(l).release();
            addDistill(dx, s, dHead, l, d); // hidden_states[l] = the input of layer l
        }
        // ---- back into the vision embedding through the image rows of the spliced embeddings
        float[] dve = new float[B * np * d];
        for (int row = 0; row < n; row++) if (s.imageRow[row] >= 0) System.arraycopy(dx, row * d, dve, s.imageRow[row] * d, d);
        int k = 3 * patch * patch;
        float[] dvp = new float[B * np * channels];
        TrainOps.linearBackward(dvp, outProj.g, null, dve, s.vp, outProj.w, B * np, channels, d);
        for (int i = 0; i < B; i++)
            for (int j = 0; j < np * channels; j++) posEmbed.g[j] += dvp[i * np * channels + j];
        float[] dpc = new float[B * np * channels];
        TrainOps.rmsNormBackward(dpc, patchNorm.g, dvp, s.pc, patchNorm.w, s.pcRstd, B * np, channels);
        TrainOps.linearBackward(null, patchW.g, patchB.g, dpc, s.patches, patchW.w, B * np, k, channels);
    }

    public void backward() { backward(1.0); }

    /** Adds head j's input gradient at the image rows (when hidden state j is distilled). */
    private static void addDistill(float[] dx, Saved s, float[][] dHead, int j, int d) {
        if (j >= dHead.length) return;
        float[] dh = dHead[j];
        for (int r = 0; r < s.visionRows.length; r++) {
            int o = s.visionRows[r] * d;
            for (int i = 0; i < d; i++) dx[o + i] += dh[r * d + i];
        }
    }
}
