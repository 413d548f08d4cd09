package dev.navil4j.models.internvl;

import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.BatchRows;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.MediaCache;
import dev.navil4j.models.ModelFlags;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.models.qwen2.Qwen2Config;
import dev.navil4j.models.qwen2.Qwen2Model;
import dev.navil4j.nn.KVCache;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.WeightsException;

import java.util.Set;

/**
 * InternVLChatModel (modeling_internvl_chat.py): InternViT + mlp1 ({@link InternVLVisionEncoder}) and a Qwen2
 * LLM ({@code language_model.*}). Image features replace the embeddings at {@code <IMG_CONTEXT>} positions,
 * in order, as forward()/generate() do; everything else is the plain LLM.
 */
public final class InternVLChatModel implements VisionLanguageModel {
    public final InternVLChatConfig config;
    private final SafeTensors weights;
    public final InternVLVisionEncoder vision;
    public final Qwen2Model languageModel;
    private final Tokenizer tokenizer;
    private final InternVLPrompts prompts;
    /** The transformers-native layout's processor and prompt builder; null for the remote-code layout. */
    private final HfLayout hf;
    private final InternVLHfPrompts hfPrompts;
    private final int imgContextId, stopId, maxContext;
    private final MediaCache mediaCache = new MediaCache();

    InternVLChatModel(InternVLChatConfig config, SafeTensors weights, InternVLVisionEncoder vision, Qwen2Model llm,
                      Tokenizer tokenizer, int maxContext) {
        this(config, weights, vision, llm, tokenizer, maxContext,
                requireToken(tokenizer, InternVLTemplate.IMG_CONTEXT), requireToken(tokenizer, InternVLTemplate.STOP));
    }

    /** With the special ids given (for runs on ids without a tokenizer). */
    InternVLChatModel(InternVLChatConfig config, SafeTensors weights, InternVLVisionEncoder vision, Qwen2Model llm,
                      Tokenizer tokenizer, int maxContext, int imgContextId, int stopId) {
        this(config, weights, vision, llm, tokenizer, maxContext, imgContextId, stopId, null);
    }

    /**
     * What only an InternVLForConditionalGeneration checkpoint has: its processor, and the source of generate()'s
     * defaults (generation_config.json, else text_config, as GenerationConfig.from_model_config).
     */
    record HfLayout(InternVLHfProcessor processor, dev.navil4j.weights.Json.Obj generationSource) {}

    private InternVLChatModel(InternVLChatConfig config, SafeTensors weights, InternVLVisionEncoder vision, Qwen2Model llm,
                              Tokenizer tokenizer, int maxContext, int imgContextId, int stopId, HfLayout hf) {
        this.config = config;
        this.hf = hf;
        this.weights = weights;
        this.vision = vision;
        this.languageModel = llm;
        this.tokenizer = tokenizer;
        this.maxContext = maxContext;
        this.imgContextId = imgContextId;
        // chat(): eos_token_id = tokenizer.convert_tokens_to_ids(template.sep.strip())
        this.stopId = stopId;
        this.prompts = new InternVLPrompts(this);
        this.hfPrompts = hf == null ? null : new InternVLHfPrompts(this, hf.processor());
    }

    private static int requireToken(Tokenizer t, String token) {
        int id = t.tokenId(token);
        if (id < 0) throw new WeightsException("the tokenizer has no " + token + " token, which InternVL prompts need");
        return id;
    }

    /**
     * An InternVLChatModel over already-open weights (e.g. {@link SafeTensors#synthetic} for benchmarks), config.json
     * given as parsed JSON; the tokenizer may be a stand-in when prompts are built as ids.
     */
    public static InternVLChatModel of(SafeTensors st, dev.navil4j.weights.Json.Obj config, Tokenizer tokenizer, LoadOptions options,
                                       int imgContextId, int stopId) {
        return load(st, InternVLChatConfig.parse(config), tokenizer, options, imgContextId, stopId);
    }

    /** Loads an InternVLChatModel checkpoint whose LLM is Qwen2ForCausalLM. */
    static InternVLChatModel load(SafeTensors st, InternVLChatConfig cfg, Tokenizer tokenizer, LoadOptions options) {
        return load(st, cfg, tokenizer, options, requireToken(tokenizer, InternVLTemplate.IMG_CONTEXT),
                requireToken(tokenizer, InternVLTemplate.STOP));
    }

    /**
     * The LLM's linear layers go through the {@code weights} policy (q8/q4/bf16/... in memory); embeddings, norms,
     * the ViT and mlp1 stay in their stored format.
     */
    static InternVLChatModel load(SafeTensors st, InternVLChatConfig cfg, Tokenizer tokenizer, LoadOptions options,
                                  int imgContextId, int stopId) {
        int maxContextCap = options.maxContext();
        if (!cfg.llmArchitecture().equals("Qwen2ForCausalLM"))
            throw new WeightsException("InternVL with a " + cfg.llmArchitecture() + " LLM is not supported (navil4j runs Qwen2ForCausalLM)");
        InternVLTemplate.checkSupported(cfg.template());
        Qwen2Config q = Qwen2Config.of(cfg.llm());
        // Qwen2Model applies the weights policy to the decoder's linear layers and lm_head, and the KV-cache choice
        Qwen2Model llm = Qwen2Model.load(st, "language_model.", q, Qwen2Model.PLAIN, options);
        InternVLVisionEncoder vision = InternVLVisionEncoder.load(st, cfg, q.hiddenSize());
        int max = q.maxPositionEmbeddings();
        if (maxContextCap > 0) max = Math.min(max, maxContextCap);
        return new InternVLChatModel(cfg, st, vision, llm, tokenizer, max, imgContextId, stopId);
    }

    /**
     * An InternVLForConditionalGeneration checkpoint ({@link InternVLTensorNames#transformers} names, q/k/v re-fused):
     * the same ViT, projector and Qwen2 classes as the remote-code layout, with transformers' processor and prompts.
     */
    static InternVLChatModel loadHf(SafeTensors st, InternVLHfConfig cfg, InternVLHfProcessor processor,
                                    dev.navil4j.weights.Json.Obj generation, Tokenizer tokenizer, LoadOptions options) {
        InternVLTensorNames names = InternVLTensorNames.transformers(st);
        Qwen2Config q = Qwen2Config.of(cfg.textConfig(names.lmHead().contains("weight")));
        Qwen2Model llm = Qwen2Model.load(st, names.llmModel(), names.lmHead(), q, Qwen2Model.PLAIN, options);
        InternVLVisionEncoder vision = InternVLVisionEncoder.load(names, cfg.chat(), q.hiddenSize());
        if (processor.tileSize() != vision.tileSize())
            throw new WeightsException("preprocessor_config.json: size " + processor.tileSize() + " does not match the ViT's image_size "
                    + vision.tileSize());
        // get_placeholder_mask looks for image_token_id; the processor writes the tokenizer's context_image_token
        int context = requireToken(tokenizer, processor.contextImage());
        if (context != cfg.imageTokenId())
            throw new WeightsException("config.json: image_token_id " + cfg.imageTokenId() + " is not the tokenizer's "
                    + processor.contextImage() + " (id " + context + ")");
        requireToken(tokenizer, processor.startImage());
        requireToken(tokenizer, processor.endImage());
        int max = q.maxPositionEmbeddings();
        if (options.maxContext() > 0) max = Math.min(max, options.maxContext());
        dev.navil4j.weights.Json.Obj gen = generation != null ? generation : cfg.chat().llm();
        return new InternVLChatModel(cfg.chat(), st, vision, llm, tokenizer, max, context,
                requireToken(tokenizer, InternVLTemplate.STOP), new HfLayout(processor, gen));
    }

    /** Whether this model was loaded from the transformers-native ("-hf") layout. */
    public boolean hfLayout() { return hf != null; }

    /** The -hf layout's processor settings; null for the remote-code layout. */
    public InternVLHfProcessor hfProcessor() { return hf == null ? null : hf.processor(); }

    @Override public String family() { return "internvl3"; }

    @Override public Tokenizer tokenizer() { return tokenizer; }

    @Override public int maxContext() { return maxContext; }

    public int imgContextId() { return imgContextId; }

    public int stopId() { return stopId; }

    /**
     * The system message chat() uses: config.system_message when present, else the template's; null for the -hf layout,
     * whose chat template has no default system message.
     */
    public String systemMessage() {
        if (hf != null) return null;
        return config.systemMessage() != null ? config.systemMessage() : InternVLTemplate.INTERNVL2_5_SYSTEM;
    }

    @Override
    public PreparedPrompt prepare(Conversation conversation) {
        return hfPrompts != null ? hfPrompts.prepare(conversation) : prompts.prepare(conversation);
    }

    /** The reference chat()/batch_chat() prompt builder. */
    InternVLPrompts prompts() { return prompts; }

    @Override
    public InferenceState newState() { return new InferenceState(languageModel.newCache(maxContext)); }

    /** InternVL's LLM is plain Qwen2: image rows replace {@code <IMG_CONTEXT>} embeddings, attention stays causal. */
    @Override
    public ModelFlags flags() { return ModelFlags.PLAIN; }

    @Override
    public int hiddenSize() { return languageModel.hiddenSize(); }

    @Override
    public void embedPromptToken(int id, float[] dst, int off) {
        if (id == imgContextId) throw new IllegalArgumentException("an <IMG_CONTEXT> token without image features");
        languageModel.embed(id, dst, off);
    }

    @Override
    public void embedDecodeToken(int id, float[] dst, int off) {
        if (id == imgContextId) throw new IllegalArgumentException("cannot decode an <IMG_CONTEXT> token without image features");
        languageModel.embed(id, dst, off);
    }

    @Override
    public float[][] forward(BatchRows batch) { return languageModel.forward(batch, false); }

    @Override
    public MediaCache mediaCache() { return mediaCache; }

    /**
     * The prompt's input embeddings: embed_tokens rows, with the rows at {@code <IMG_CONTEXT>} positions replaced by
     * the features in order (generate(): input_embeds[selected] = vit_embeds).
     */
    public float[] inputEmbeds(int[] ids, float[] features) {
        float[] e = languageModel.embed(ids);
        int h = languageModel.hiddenSize(), used = 0, have = features == null ? 0 : features.length / h;
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] != imgContextId) continue;
            if (used >= have)
                throw new IllegalArgumentException("the prompt has more <IMG_CONTEXT> tokens than image features (" + have + ")");
            System.arraycopy(features, used * h, e, t * h, h);
            used++;
        }
        if (used != have)
            throw new IllegalArgumentException("the prompt has " + used + " <IMG_CONTEXT> tokens for " + have + " image feature rows");
        return e;
    }

    /** Runs ids (+ features) from the state's current length; logits of the last token, or of all when allLogits. */
    public float[] forward(InferenceState state, int[] ids, float[] features, boolean allLogits) {
        KVCache cache = state.cache();
        int past = cache.length();
        if (past + ids.length > maxContext)
            throw new IllegalArgumentException("sequence of " + (past + ids.length) + " tokens exceeds the context of " + maxContext + " tokens");
        int[] positions = new int[ids.length];
        for (int i = 0; i < positions.length; i++) positions[i] = past + i;
        return languageModel.forward(inputEmbeds(ids, features), ids.length, positions, cache, null, allLogits);
    }

    /**
     * language_model.generate's resolution: the LLM is built from llm_config, so its generation config is
     * GenerationConfig.from_model_config(llm_config) over HF's global defaults (do_sample false, top_k 50, top_p 1,
     * temperature 1); the checkpoint's generation_config.json is not read. chat() sets eos_token_id to template.sep
     * ({@code <|im_end|>}) only; generate() receives inputs_embeds, so the repetition penalty skips the prompt.
     */
    @Override
    public GenerationConfig defaultGeneration() {
        if (hf != null) {
            // -hf: generate() reads generation_config.json (or the text config) and its eos_token_id; it gets input_ids,
            // so the repetition penalty covers the prompt. Without any eos id navil4j still stops at <|im_end|>.
            Set<Integer> eos = dev.navil4j.models.GenerationDefaults.eosIds(hf.generationSource());
            return dev.navil4j.models.GenerationDefaults.from(hf.generationSource(), eos.isEmpty() ? Set.of(stopId) : eos, true);
        }
        return dev.navil4j.models.GenerationDefaults.from(config.llm(), Set.of(stopId), false);
    }

    @Override
    public String cleanResponse(String decoded) { return InternVLTemplate.cleanResponse(decoded); }

    @Override
    public void close() { weights.close(); }
}
