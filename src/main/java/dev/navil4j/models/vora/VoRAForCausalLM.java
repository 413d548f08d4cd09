package dev.navil4j.models.vora;

import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.GenerationConfig;
import dev.navil4j.models.InferenceState;
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

    /**
     * A prompt with its image spliced in.
     *
     * @param inputIds    the processor's ids: text ids with one -200 per image (the reference's input_ids)
     * @param pixelValues the preprocessed image [3, H, W] per placeholder
     * @param embeds      [n, hidden] LLM input after _concat_embedding
     * @param visionMask  [n] 1 at image positions (the reference's vision_mask)
     * @param blockIds    [n] image block per position (-1 = text), null for a plain causal mask
     */
    public record Spliced(int[] inputIds, List<float[]> pixelValues, float[] embeds, int n, int[] visionMask, int[] blockIds) {}

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
    }

    public static VoRAForCausalLM load(Path dir, LoadOptions options) {
        VoRAConfig c = VoRAConfig.load(dir, options.configOverride());
        SafeTensors st = SafeTensors.open(dir);
        try {
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
     * _concat_embedding: text embeddings of the ids, each -200 replaced by the next image's embeddings.
     * Images are square {@code side}×{@code side} [3, side, side] (expand2square + center crop).
     */
    public Spliced splice(int[] inputIds, List<float[]> pixelValues, int side) {
        int placeholders = 0;
        for (int id : inputIds) if (id == config.imagePlaceholderIndex()) placeholders++;
        if (placeholders != pixelValues.size())
            throw new IllegalArgumentException("the prompt has " + placeholders + " image placeholder(s) but " + pixelValues.size()
                    + " image(s) were given (VoRA's processor uses one image per conversation)");
        int h = llm.hiddenSize();
        List<float[]> parts = new ArrayList<>();
        List<Integer> mask = new ArrayList<>();
        int n = 0, img = 0, start = 0;
        for (int i = 0; i <= inputIds.length; i++) {
            if (i < inputIds.length && inputIds[i] != config.imagePlaceholderIndex()) continue;
            if (i > start) {
                int[] text = java.util.Arrays.copyOfRange(inputIds, start, i);
                parts.add(llm.embed(text));
                for (int k = 0; k < text.length; k++) mask.add(0);
                n += text.length;
            }
            if (i < inputIds.length) {
                float[] v = encodeImage(pixelValues.get(img++), side, side);
                parts.add(v);
                for (int k = 0; k < v.length / h; k++) mask.add(1);
                n += v.length / h;
            }
            start = i + 1;
        }
        if (n == 0) throw new IllegalArgumentException("empty prompt");
        float[] embeds = new float[n * h];
        int o = 0;
        for (float[] p : parts) { System.arraycopy(p, 0, embeds, o, p.length); o += p.length; }
        int[] vm = mask.stream().mapToInt(Integer::intValue).toArray();
        return new Spliced(inputIds, pixelValues, embeds, n, vm, config.bidirectionalImages() && placeholders > 0 ? blocks(vm) : null);
    }

    /**
     * make_mask "bidirectional": each contiguous run of image positions is one block (_make_2dvison_mask
     * scans vision_mask for runs of 1), so two adjacent images would form a single block, as in the reference.
     */
    static int[] blocks(int[] visionMask) {
        int[] b = new int[visionMask.length];
        int id = -1;
        for (int i = 0; i < b.length; i++) {
            if (visionMask[i] == 1) {
                if (i == 0 || visionMask[i - 1] != 1) id++;
                b[i] = id;
            } else b[i] = -1;
        }
        return b;
    }

    /** The reference forward: logits [n, vocab] of every position (positions 0..n-1). */
    public float[] forwardAll(Spliced s) {
        KVCache cache = llm.newCache(s.n());
        return llm.forward(s.embeds(), s.n(), range(0, s.n()), cache, s.blockIds(), true);
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
    @Override
    public PreparedPrompt prepare(Conversation conversation) {
        String text = VoRAChatTemplate.render(conversation);
        List<Conversation.Image> images = new ArrayList<>();
        for (Conversation.Turn t : conversation.turns())
            for (Conversation.Media m : t.media()) if (m instanceof Conversation.Image i) images.add(i);
        int[] ids = VoRAProcessor.inputIds(tokenizer(), text, config.imagePlaceholderIndex());
        List<float[]> pixels = new ArrayList<>();
        // processing_vora.py keeps image[0] of the batch item: one image per conversation
        if (!images.isEmpty()) pixels.add(processor.pixelValues(images.getFirst()));
        Spliced s = splice(ids, pixels, processor.cropSize());
        return new PreparedPrompt(splicedIds(s), text, s.n() - (ids.length - pixels.size()), s);
    }

    /** Per-position ids of the spliced sequence: text ids, and -200 at every image position. */
    static int[] splicedIds(Spliced s) {
        int[] out = new int[s.n()];
        int src = 0;
        for (int i = 0; i < s.n(); i++) {
            if (s.visionMask()[i] == 1) {
                out[i] = VoRAConfig.IMAGE_TOKEN_INDEX;
                if (i + 1 == s.n() || s.visionMask()[i + 1] != 1) src++; // past this image's placeholder
            } else out[i] = s.inputIds()[src++];
        }
        return out;
    }

    /** A prompt from the processor's outputs directly (ids with -200, pixel values), e.g. from a fixture. */
    public PreparedPrompt prepare(int[] inputIds, List<float[]> pixelValues, int side, String text) {
        Spliced s = splice(inputIds, pixelValues, side);
        return new PreparedPrompt(splicedIds(s), text, s.n() - (inputIds.length - pixelValues.size()), s);
    }

    static final class State implements InferenceState {
        final KVCache cache;
        State(KVCache cache) { this.cache = cache; }
        @Override public int length() { return cache.length(); }
        @Override public long bytes() { return cache.bytes(); }
    }

    @Override public InferenceState newState() { return new State(llm.newCache(maxContext)); }

    @Override
    public float[] prefill(InferenceState state, PreparedPrompt prompt) {
        State st = state(state);
        if (!(prompt.payload() instanceof Spliced s)) throw new IllegalArgumentException("not a VoRA prompt (prepare it with this model)");
        int past = st.cache.length();
        // generation keeps positions 0..L-1 over the spliced sequence (position_ids = arange)
        return llm.forward(s.embeds(), s.n(), range(past, s.n()), st.cache, s.blockIds(), false);
    }

    @Override
    public float[] decode(InferenceState state, int token) {
        State st = state(state);
        int pos = st.cache.length();
        // a new token sees everything before it and itself; older rows never see it (vora_generation_utils)
        return llm.forward(llm.embed(new int[]{token}), 1, new int[]{pos}, st.cache, null, false);
    }

    private static State state(InferenceState s) {
        if (!(s instanceof State st)) throw new IllegalArgumentException("state belongs to another model");
        return st;
    }

    @Override public GenerationConfig defaultGeneration() { return generation; }

    /** VoRA's callers batch_decode(skip_special_tokens=True) and use the text as is (no strip). */
    @Override public String cleanResponse(String decoded) { return decoded; }

    @Override public void close() { weights.close(); }
}
