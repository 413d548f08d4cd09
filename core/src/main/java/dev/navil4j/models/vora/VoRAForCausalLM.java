package dev.navil4j.models.vora;

import dev.navil4j.tokenizer.PromptText;
import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.BatchRows;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.MediaCache;
import dev.navil4j.models.MediaEmbedding;
import dev.navil4j.models.ModelFlags;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.models.qwen2.Qwen2Model;
import dev.navil4j.nn.KVCache;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * VoRA (models/modeling_vora.py VoRAForCausalLM): a Qwen2 LLM ({@code llm.*}) whose first layers carry
 * LoRA weights trained on images, fed by a one-layer patch embedding ({@code vision_embedding.*}). The
 * image's tokens replace the -200 placeholder; attention is causal except inside each image block, which
 * attends to itself fully ({@code vision_attention_mask: bidirectional}).
 */
public final class VoRAForCausalLM implements VisionLanguageModel {
    static final String LLM = "llm.";

    public final VoRAConfig config;
    final Qwen2Model llm;
    final AIMv2Embedding visionEmbedding;
    private final SafeTensors weights;
    private final Tokenizer tokenizer;
    private final VoRAProcessor processor;
    private final GenerationConfig generation;
    private final int maxContext;
    private final ModelFlags flags;
    private final MediaCache mediaCache = new MediaCache();

    /**
     * What the VoRA processor produces for a conversation (processing_vora.py): the rendered chat template, the
     * input_ids with one -200 per image, and each image's pixel values [3, side, side].
     */
    public record Processed(String text, int[] inputIds, List<float[]> pixelValues, int side) {}

    private VoRAForCausalLM(VoRAConfig config, Qwen2Model llm, AIMv2Embedding vision, SafeTensors weights, Tokenizer tokenizer,
                            VoRAProcessor processor, GenerationConfig generation, int maxContext) {
        this.config = config;
        this.llm = llm;
        this.visionEmbedding = vision;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.processor = processor;
        this.generation = generation;
        this.maxContext = maxContext;
        this.flags = new ModelFlags(config.bidirectionalImages(), false, null);
    }

    public static VoRAForCausalLM load(Path dir, LoadOptions options) {
        VoRAConfig c = VoRAConfig.load(dir, options.configOverride());
        SafeTensors st = SafeTensors.open(dir);
        try {
            st.reportProgress(options.progress()); // LOAD progress per scanned and per taken tensor
            st.requireFinite(); // NaN/Inf weights: a load error naming the tensor, not NaN logits later
            Qwen2Model llm = Qwen2Model.load(st, LLM, c.llm(), VoRALora.loader(c, LLM, options.mergeLora()), options);
            AIMv2Embedding vision = AIMv2Embedding.load(st, "vision_embedding.", c);
            List<String> unused = st.unused();
            if (!unused.isEmpty())
                throw new WeightsException(dir + ": checkpoint tensors not used by VoRAForCausalLM: " + unused.subList(0, Math.min(8, unused.size())));
            int maxContext = options.maxContext() > 0 ? Math.min(options.maxContext(), c.llm().maxPositionEmbeddings()) : c.llm().maxPositionEmbeddings();
            return new VoRAForCausalLM(c, llm, vision, st, VoRAProcessor.loadTokenizer(dir), VoRAProcessor.load(dir),
                    generationDefaults(dir), maxContext);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /**
     * generation_config.json as transformers' generate() reads it (eos list, repetition penalty, sampling).
     * The prompt enters llm.generate as inputs_embeds, so input_ids start empty and the penalty covers only
     * generated tokens. max_new_tokens: the reference call sites pass it (1024 in the VoRA README demo).
     */
    static GenerationConfig generationDefaults(Path dir) {
        Path f = dir.resolve("generation_config.json");
        // without the file, generate() uses GenerationConfig.from_model_config(config)
        Json.Obj g = Json.Obj.of(Files.exists(f) ? f : dir.resolve("config.json"));
        return dev.navil4j.models.GenerationDefaults.from(g, null, false);
    }

    // ---------------------------------------------------------------- model

    /** The vision embeddings [N, hidden] of one preprocessed image [3, H, W]. */
    public float[] encodeImage(float[] pixels, int height, int width) { return visionEmbedding.forward(pixels, height, width); }

    /**
     * _concat_embedding as a typed prompt: every -200 in the processor's ids becomes the next image's embedding rows
     * (image positions carry -200 as their id and form one image block each), text ids stay. Images are square
     * {@code side}×{@code side} [3, side, side] (expand2square + center crop); their embeddings come from the
     * model's media cache.
     */
    public PreparedPrompt prepare(int[] inputIds, List<float[]> pixelValues, int side, String text) {
        return prepare(inputIds, pixelValues, side, text, dev.navil4j.ProgressListener.NONE);
    }

    /** As {@link #prepare(int[], List, int, String)}, reporting VISION_ENCODE progress per image (the patch embedding). */
    public PreparedPrompt prepare(int[] inputIds, List<float[]> pixelValues, int side, String text, dev.navil4j.ProgressListener progress) {
        int placeholders = 0;
        for (int id : inputIds) if (id == config.imagePlaceholderIndex()) placeholders++;
        if (placeholders != pixelValues.size())
            throw new IllegalArgumentException("the prompt has " + placeholders + " image placeholder(s) but " + pixelValues.size()
                    + " image(s) were given (VoRA's processor uses one image per conversation)");
        int h = llm.hiddenSize();
        List<float[]> rows = new ArrayList<>();
        List<Long> keys = new ArrayList<>();
        int n = inputIds.length - placeholders;
        for (float[] pv : pixelValues) {
            long key = MediaCache.key(pv, side);
            float[] e = mediaCache.get(key, () -> encodeImage(pv, side, side));
            rows.add(e);
            progress.report(dev.navil4j.ProgressEvent.Stage.VISION_ENCODE, rows.size(), pixelValues.size(), dev.navil4j.ProgressEvent.Unit.IMAGES,
                    "image embedding");
            keys.add(key);
            n += e.length / h;
        }
        if (n == 0) throw new IllegalArgumentException("empty prompt");
        int[] ids = new int[n], block = new int[n];
        List<MediaEmbedding> media = new ArrayList<>();
        int t = 0, img = 0, run = -1;
        for (int id : inputIds) {
            if (id != config.imagePlaceholderIndex()) { ids[t] = id; block[t++] = -1; continue; }
            float[] e = rows.get(img);
            int[] pos = new int[e.length / h];
            // make_mask "bidirectional": a contiguous run of image positions is one block (_make_2dvison_mask scans
            // vision_mask for runs of 1), so two adjacent images form a single block, as in the reference
            if (t == 0 || block[t - 1] < 0) run++;
            for (int r = 0; r < pos.length; r++) { pos[r] = t; ids[t] = VoRAConfig.IMAGE_TOKEN_INDEX; block[t++] = run; }
            media.add(new MediaEmbedding(pos, e, keys.get(img++)));
        }
        return new PreparedPrompt(ids, text, null, block, media);
    }

    /** The reference's vision_mask: 1 at image positions. */
    public static int[] visionMask(PreparedPrompt p) {
        int[] m = new int[p.length()];
        for (int t = 0; t < m.length; t++) m[t] = p.isMedia(t) ? 1 : 0;
        return m;
    }

    /** The reference forward: logits [n, vocab] of every position (positions 0..n-1). */
    public float[] forwardAll(PreparedPrompt p) {
        int n = p.length();
        int[] blocks = null;
        if (config.bidirectionalImages() && p.mediaTokens() > 0) {
            blocks = new int[n];
            for (int t = 0; t < n; t++) blocks[t] = p.imageBlock(t);
        }
        return llm.forward(p.embed(0, n, llm.hiddenSize(), llm::embed), n, range(0, n), llm.newCache(n), blocks, true);
    }

    /** A text-only forward of plain ids through the LLM (what model.llm(input_ids) computes). */
    public float[] forwardText(int[] ids) {
        return llm.forward(llm.embed(ids), ids.length, range(0, ids.length), llm.newCache(ids.length), null, true);
    }

    static int[] range(int from, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = from + i;
        return p;
    }

    public int vocabSize() { return llm.vocabSize(); }

    // ---------------------------------------------------------------- VisionLanguageModel

    @Override public String family() { return "vora"; }

    @Override public Tokenizer tokenizer() { return tokenizer; }

    @Override public int maxContext() { return maxContext; }

    /** The conversation as the VoRA processor prepares it: chat_template.json, '<image>' → -200, the first image. */
    public Processed process(Conversation conversation) {
        PromptText prompt = VoRAChatTemplate.renderText(conversation);
        String text = prompt.text();
        List<Conversation.Image> images = new ArrayList<>();
        for (Conversation.Turn t : conversation.turns())
            for (Conversation.Media m : t.media()) {
                if (m instanceof Conversation.Image i) images.add(i);
                else throw new IllegalArgumentException("VoRA takes images, not video");
            }
        int[] ids = VoRAProcessor.inputIds(tokenizer(), prompt, config.imagePlaceholderIndex());
        List<float[]> pixels = new ArrayList<>();
        // processing_vora.py keeps image[0] of the batch item: one image per conversation
        if (!images.isEmpty()) {
            pixels.add(processor.pixelValues(images.getFirst()));
            conversation.reportDecoded(1, 1, Conversation.label(images.getFirst()));
        }
        return new Processed(text, ids, pixels, processor.cropSize());
    }

    @Override
    public PreparedPrompt prepare(Conversation conversation) {
        Processed p = process(conversation);
        return prepare(p.inputIds(), p.pixelValues(), p.side(), p.text(), conversation.progress());
    }

    @Override public InferenceState newState() { return new InferenceState(llm.newCache(maxContext)); }

    /** Image tokens attend bidirectionally inside their block when the config says so (vision_attention_mask). */
    @Override
    public ModelFlags flags() { return flags; }

    @Override public int hiddenSize() { return llm.hiddenSize(); }

    @Override public void embedPromptToken(int id, float[] dst, int off) { llm.embed(id, dst, off); }

    /** A new token sees everything before it and itself; older rows never see it (vora_generation_utils). */
    @Override public void embedDecodeToken(int id, float[] dst, int off) { llm.embed(id, dst, off); }

    /** Generation keeps positions 0..L-1 over the spliced sequence (position_ids = arange). */
    @Override
    public float[][] forward(BatchRows batch) { return llm.forward(batch, flags.bidirectionalImageBlocks()); }

    @Override public MediaCache mediaCache() { return mediaCache; }

    @Override public GenerationConfig defaultGeneration() { return generation; }

    /** VoRA's callers batch_decode(skip_special_tokens=True) and use the text as is (no strip). */
    @Override public String cleanResponse(String decoded) { return decoded; }

    @Override public void close() { weights.close(); }
}
