package dev.navil4j.models.navil;

import dev.navil4j.tokenizer.PromptText;
import com.fasterxml.jackson.databind.JsonNode;
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
import dev.navil4j.nn.Activations;
import dev.navil4j.nn.KVCache;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.Norms;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The NaViL checkpoint ({@code NaViL} in modeling_navil_chat.py): the any-resolution ViT, the projector
 * {@code mlp1} after pixel_shuffle_v2, {@code special_token_embedding}, and an LLM with visual experts.
 * Prefill routes {@code <IMG_CONTEXT>} and {@code <img>} tokens to the visual experts; decode steps use the
 * text experts and raw embedding rows, as the reference's generate() does.
 */
public final class NaViL implements VisionLanguageModel {
    /** SPECIAL_TOKEN_LIST (navil/train/constants.py): row i of special_token_embedding replaces token i's embedding. */
    static final List<String> SPECIAL_TOKEN_LIST = List.of("</box>", "<box>", "<IMG_CONTEXT>", "</img>", "<img>",
            "</quad>", "<quad>", "</ref>", "<ref>", "<img_uncond>", "<IMG_LINE_BREAK>", "<IMG_FRAME_BREAK>");
    static final String IMG_START = "<img>", IMG_END = "</img>", IMG_CONTEXT = "<IMG_CONTEXT>",
            IMG_LINE_BREAK = "<IMG_LINE_BREAK>", IMG_FRAME_BREAK = "<IMG_FRAME_BREAK>";

    final NaViLConfig cfg;
    private final SafeTensors st;
    final NaViLVisionModelAnyRes vision;
    final VisualExpertLM llm;
    private final float[] mlp1NormW, mlp1NormB;
    private final Linear mlp1Fc1, mlp1Fc2;
    /** [12, hidden] f32. */
    private final float[] specialTokenEmbedding;
    /** ids of SPECIAL_TOKEN_LIST, in list order. */
    final int[] specialTokenIds;
    final int imgContextId, imgStartId, imEndId;
    final NaViLTemplate template;
    private final Tokenizer tokenizer;
    private final int maxContext;
    private final ModelFlags flags = new ModelFlags(false, true, this::isSpecialToken);
    private final MediaCache mediaCache = new MediaCache();

    private NaViL(Path dir, NaViLConfig cfg, SafeTensors st, Tokenizer tokenizer, Map<String, Integer> addedTokens, LoadOptions options) {
        this.cfg = cfg;
        this.st = st;
        this.tokenizer = tokenizer;
        this.vision = new NaViLVisionModelAnyRes(st, "vision_model.", cfg.vision());
        int c4 = cfg.vision().hiddenSize() * cfg.vision().mergeSize() * cfg.vision().mergeSize();
        int d = cfg.llm().hiddenSize();
        mlp1NormW = st.get("mlp1.0.weight", c4).toFloatArray();
        mlp1NormB = st.get("mlp1.0.bias", c4).toFloatArray();
        mlp1Fc1 = Linear.load(st, "mlp1.1", c4, d, true);
        mlp1Fc2 = Linear.load(st, "mlp1.3", d, d, true);
        specialTokenEmbedding = st.get("special_token_embedding.weight", SPECIAL_TOKEN_LIST.size(), d).toFloatArray();
        this.llm = cfg.llm().architecture().equals("InternLM2VEForCausalLM")
                ? new InternLM2VEForCausalLM(st, "language_model.", cfg.llm(), options)
                : new Qwen3VEForCausalLM(st, "language_model.", cfg.llm(), options);
        List<String> unused = st.unused();
        if (!unused.isEmpty())
            throw new WeightsException(dir + ": checkpoint tensors not used by NaViL: " + unused.subList(0, Math.min(8, unused.size())));
        this.template = NaViLTemplate.of(cfg.template());
        specialTokenIds = new int[SPECIAL_TOKEN_LIST.size()];
        for (int i = 0; i < specialTokenIds.length; i++) specialTokenIds[i] = tokenId(addedTokens, SPECIAL_TOKEN_LIST.get(i), dir);
        imgContextId = tokenId(addedTokens, IMG_CONTEXT, dir);
        imgStartId = tokenId(addedTokens, IMG_START, dir);
        imEndId = tokenId(addedTokens, template.sep(), dir);
        int mc = options.maxContext() > 0 ? options.maxContext() : cfg.llm().maxPositionEmbeddings();
        this.maxContext = mc;
    }

    /** Loads a NaViL checkpoint directory (config.json, model safetensors, tokenizer files). */
    public static NaViL load(Path dir, LoadOptions options, Tokenizer tokenizer) {
        Json.Obj config = Json.Obj.of(dir.resolve("config.json"));
        if (options.configOverride() != null) config = new Json.Obj(merge(config.node().deepCopy(), options.configOverride()), config.where());
        NaViLConfig cfg = NaViLConfig.parse(config);
        Map<String, Integer> added = addedTokens(dir);
        SafeTensors st = SafeTensors.open(dir);
        try {
            st.reportProgress(options.progress()); // LOAD progress per scanned and per taken tensor
            st.requireFinite(); // NaN/Inf weights: a load error naming the tensor, not NaN logits later
            return new NaViL(dir, cfg, st, tokenizer, added, options);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /**
     * A NaViL over already-open weights without a tokenizer: {@code specialTokens} gives the ids of
     * SPECIAL_TOKEN_LIST and of the template separator (benchmarks on synthesized weights; prompts are then built
     * as ids and passed through {@link #prompt}).
     */
    public static NaViL of(NaViLConfig cfg, SafeTensors st, Map<String, Integer> specialTokens, LoadOptions options) {
        return new NaViL(st.location(), cfg, st, null, specialTokens, options);
    }

    /**
     * A prompt of already-tokenized ids whose {@code <IMG_CONTEXT>} rows take {@code features} [contexts, hidden] in
     * order (null: text only); with features, {@code <IMG_CONTEXT>} and {@code <img>} tokens are routed to the
     * visual experts (visual_token_mask), as one media item.
     */
    public PreparedPrompt prompt(int[] ids, float[] features) {
        if (features == null) return PreparedPrompt.text(ids, null);
        int d = llm.hidden();
        List<Integer> ctx = new ArrayList<>();
        for (int t = 0; t < ids.length; t++) if (ids[t] == imgContextId) ctx.add(t);
        if (features.length != ctx.size() * d)
            throw new IllegalArgumentException("the prompt has " + ctx.size() + " " + IMG_CONTEXT + " tokens but the images give "
                    + features.length / d + " feature rows");
        int[] pos = ctx.stream().mapToInt(Integer::intValue).toArray();
        List<MediaEmbedding> media = pos.length == 0 ? List.of() : List.of(new MediaEmbedding(pos, features, MediaCache.key(features)));
        return new PreparedPrompt(ids, null, null, visualBlocks(ids), media);
    }

    /** visual_token_mask as modality: {@code <IMG_CONTEXT>} and {@code <img>} tokens in the block of their image. */
    private int[] visualBlocks(int[] ids) {
        int[] b = new int[ids.length];
        int image = -1;
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] == imgStartId) image++;
            b[t] = ids[t] == imgContextId || ids[t] == imgStartId ? Math.max(image, 0) : -1;
        }
        return b;
    }

    private static JsonNode merge(JsonNode base, JsonNode over) {
        if (!(base instanceof com.fasterxml.jackson.databind.node.ObjectNode b) || !over.isObject()) return over;
        Iterator<Map.Entry<String, JsonNode>> it = over.properties().iterator();
        while (it.hasNext()) {
            var e = it.next();
            b.set(e.getKey(), b.has(e.getKey()) ? merge(b.get(e.getKey()), e.getValue()) : e.getValue());
        }
        return b;
    }

    /**
     * token → id of the added/special tokens from added_tokens.json and tokenizer_config.json's added_tokens_decoder
     * (what tokenizer.convert_tokens_to_ids gives them; InternLM2's chat tokens are sp pieces listed only there).
     */
    private static Map<String, Integer> addedTokens(Path dir) {
        Map<String, Integer> out = new java.util.HashMap<>();
        Path cfg = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(cfg))
            Json.read(cfg).path("added_tokens_decoder").properties().forEach(e -> {
                String content = e.getValue().path("content").asText(null);
                if (content != null) out.put(content, Integer.parseInt(e.getKey()));
            });
        Path f = dir.resolve("added_tokens.json");
        if (Files.isRegularFile(f)) Json.read(f).properties().forEach(e -> out.put(e.getKey(), e.getValue().asInt()));
        return out;
    }

    private int tokenId(Map<String, Integer> added, String token, Path dir) {
        Integer id = null;
        if (tokenizer != null) { int t = tokenizer.tokenId(token); if (t >= 0) id = t; }
        if (id == null) id = added.get(token);
        if (id == null) throw new WeightsException(dir + ": the tokenizer has no token " + token + " (NaViL needs it)");
        if (id < 0 || id >= cfg.llm().vocabSize()) throw new WeightsException(dir + ": token " + token + " id " + id + " outside the LLM vocabulary");
        return id;
    }

    // ---------------------------------------------------------------- vision

    /** extract_feature(): ViT, pixel_shuffle_v2 (concat of each 2×2 unit's tokens in stored order), mlp1 → [L/4, D]. */
    public float[] extractFeature(float[] pixels, List<NaViLVisionModelAnyRes.Grid> grids) {
        return project(vision.forward(pixels, grids));
    }

    /** mlp1 = LayerNorm(4C, eps 1e-5) → Linear → GELU → Linear over the merge units of last_hidden_state [L, C]. */
    float[] project(float[] vitEmbeds) {
        int c4 = mlp1NormW.length, units = vitEmbeds.length / c4;
        float[] h = new float[vitEmbeds.length];
        Norms.layerNorm(vitEmbeds, h, units, c4, mlp1NormW, mlp1NormB, 1e-5f);
        float[] a = mlp1Fc1.forward(h, units);
        Activations.gelu(a, a.length);
        return mlp1Fc2.forward(a, units);
    }

    // ---------------------------------------------------------------- LLM

    /** A prompt token's embedding: its row, or its special_token_embedding row for SPECIAL_TOKEN_LIST ids (also text-only). */
    @Override
    public void embedPromptToken(int id, float[] dst, int off) {
        int d = llm.hidden();
        for (int i = 0; i < specialTokenIds.length; i++)
            if (id == specialTokenIds[i]) { System.arraycopy(specialTokenEmbedding, i * d, dst, off, d); return; }
        llm.embed(id, dst, off);
    }

    /** A decode step embeds the raw row (no special_token_embedding), as the reference's generate() does. */
    @Override
    public void embedDecodeToken(int id, float[] dst, int off) { llm.embed(id, dst, off); }

    boolean isSpecialToken(int id) {
        for (int s : specialTokenIds) if (s == id) return true;
        return false;
    }

    /** visual_token_mask = ids == {@code <IMG_CONTEXT>} | ids == {@code <img>} (only when images are given). */
    boolean[] visualMask(int[] ids) {
        boolean[] m = new boolean[ids.length];
        for (int t = 0; t < ids.length; t++) m[t] = ids[t] == imgContextId || ids[t] == imgStartId;
        return m;
    }

    /**
     * Logits [L, vocab] of every prompt position (the prefill of NaViL.generate()); features null = text only.
     * {@code mask} overrides the visual mask (null = the reference's rule).
     */
    float[] forwardLogits(int[] ids, float[] features, boolean[] mask) {
        PreparedPrompt p = prompt(ids, features);
        float[] x = p.embed(0, ids.length, llm.hidden(), this::embedPromptToken);
        boolean[] vis = mask != null ? mask : features == null ? null : visualMask(ids);
        KVCache cache = llm.newCache(Math.max(ids.length, 1));
        float[] h = llm.forward(x, ids.length, vis, cache);
        int[] rows = new int[ids.length];
        for (int t = 0; t < rows.length; t++) rows[t] = t;
        return llm.logits(h, rows);
    }

    /** The prompt string's image block for one image: {@code <img>} + per scale, per frame rows + breaks + {@code </img>}. */
    String imageTokens(List<NaViLVisionModelAnyRes.Grid> scales) {
        int m = cfg.vision().mergeSize();
        StringBuilder b = new StringBuilder(IMG_START);
        for (NaViLVisionModelAnyRes.Grid g : scales)
            for (int t = 0; t < g.t(); t++) {
                for (int r = 0; r < g.h() / m; r++) b.append(IMG_CONTEXT.repeat(g.w() / m)).append(IMG_LINE_BREAK);
                b.append(IMG_FRAME_BREAK);
            }
        return b.append(IMG_END).toString();
    }

    // ---------------------------------------------------------------- VisionLanguageModel

    /** Prepared images: pixel patches and per-image scale grids. */
    record Images(float[] pixels, List<List<NaViLVisionModelAnyRes.Grid>> perImage) {
        List<NaViLVisionModelAnyRes.Grid> allGrids() {
            List<NaViLVisionModelAnyRes.Grid> g = new ArrayList<>();
            perImage.forEach(g::addAll);
            return g;
        }
    }

    @Override public String family() { return "navil"; }

    @Override
    public Tokenizer tokenizer() {
        if (tokenizer == null) throw new IllegalStateException("no tokenizer loaded for this NaViL checkpoint");
        return tokenizer;
    }

    @Override public int maxContext() { return maxContext; }

    /**
     * The prompt NaViL.chat() builds. Earlier turns are the history; {@code <image>\n} × images is prepended to the
     * first user turn that introduced images when it has no {@code <image>} (chat() does it when history is None,
     * and the history keeps the prefixed question). Every {@code <image>} becomes the next image's block.
     */
    @Override
    public PreparedPrompt prepare(Conversation conversation) {
        List<dev.navil4j.image.RgbImage> images = new ArrayList<>();
        List<NaViLTemplate.Exchange> ex = new ArrayList<>();
        List<Conversation.Turn> turns = conversation.turns();
        if (turns.isEmpty()) throw new IllegalArgumentException("a conversation needs at least one user turn");
        int mediaTotal = conversation.mediaCount();
        for (int i = 0; i < turns.size(); i++) {
            Conversation.Turn t = turns.get(i);
            String q = t.user() == null ? "" : t.user();
            int nMedia = 0;
            if (t.media() != null)
                for (Conversation.Media m : t.media()) {
                    if (!(m instanceof Conversation.Image img))
                        throw new IllegalArgumentException("NaViL takes images, not video");
                    images.add(NaViLPreprocess.rgb(img));
                    nMedia++;
                    conversation.reportDecoded(images.size(), mediaTotal, Conversation.label(img));
                }
            if (nMedia > 0 && !q.contains("<image>")) q = "<image>\n".repeat(nMedia) + q;
            ex.add(new NaViLTemplate.Exchange(q, i == turns.size() - 1 ? null : t.assistant()));
        }
        PromptText query = template.promptText(conversation.system() != null ? conversation.system() : cfg.systemMessage(), ex,
                conversation.allowSpecialTokens());
        Images prepared = images.isEmpty() ? null : NaViLPreprocess.load(images, cfg);
        int budget = conversation.limits().maxMediaTokens();
        if (prepared != null && budget > 0) {
            // checked before the ViT runs: one <IMG_CONTEXT> per merge unit of every scale of every image
            long contexts = 0;
            int m = cfg.vision().mergeSize();
            for (NaViLVisionModelAnyRes.Grid g : prepared.allGrids()) contexts += (long) g.tokens() / (m * m);
            if (contexts > budget)
                throw new IllegalArgumentException("the images need " + contexts + " image tokens, more than the limit of " + budget);
        }
        return prepare(query, prepared, conversation.progress());
    }

    /** Expands the {@code <image>} placeholders of a template string, tokenizes it and encodes the images. */
    PreparedPrompt prepare(String query, Images images) { return prepare(PromptText.ofControl(query), images); }


    /**
     * As {@link #prepare(String, Images)}; special-token text in the prompt's messages stays text (unless allowed).
     * One media item per image (its extract_feature rows at its {@code <IMG_CONTEXT>} positions, from the media cache
     * keyed by the image's patches and scale grids); {@code <IMG_CONTEXT>} and {@code <img>} tokens are visual-expert tokens.
     */
    PreparedPrompt prepare(PromptText prompt, Images images) { return prepare(prompt, images, dev.navil4j.ProgressListener.NONE); }

    /**
     * As {@link #prepare(PromptText, Images)}, reporting VISION_ENCODE progress in scales: the ViT runs all scales of
     * an image in one pass (their windows are permuted together), so an image's scales count when it is done.
     */
    PreparedPrompt prepare(PromptText prompt, Images images, dev.navil4j.ProgressListener progress) {
        String query = prompt.text();
        int n = images == null ? 0 : images.perImage().size();
        int placeholders = 0;
        for (int i = query.indexOf("<image>"); i >= 0; i = query.indexOf("<image>", i + 1)) placeholders++;
        if (n > 0 && placeholders != n)
            throw new IllegalArgumentException("the prompt has " + placeholders + " <image> placeholders for " + n + " images");
        for (int k = 0; k < n; k++) prompt.replaceFirst("<image>", imageTokens(images.perImage().get(k)));
        int[] ids = tokenizer().encode(prompt, true);
        if (n == 0) return PreparedPrompt.text(ids, query);
        int d = llm.hidden(), m = cfg.vision().mergeSize(), patch = 3 * cfg.vision().patchSize() * cfg.vision().patchSize();
        List<MediaEmbedding> media = new ArrayList<>();
        int t = 0, px0 = 0, scalesDone = 0, scalesTotal = images.allGrids().size();
        for (List<NaViLVisionModelAnyRes.Grid> grids : images.perImage()) {
            int patches = 0, contexts = 0;
            int[] shape = new int[grids.size() * 3];
            for (int g = 0; g < grids.size(); g++) {
                NaViLVisionModelAnyRes.Grid gr = grids.get(g);
                patches += gr.tokens();
                contexts += gr.tokens() / (m * m);
                shape[3 * g] = gr.t(); shape[3 * g + 1] = gr.h(); shape[3 * g + 2] = gr.w();
            }
            float[] pixels = java.util.Arrays.copyOfRange(images.pixels(), px0, px0 + patches * patch);
            px0 += patches * patch;
            long key = MediaCache.key(pixels, shape);
            float[] rows = mediaCache.get(key, () -> extractFeature(pixels, grids));
            scalesDone += grids.size();
            progress.report(dev.navil4j.ProgressEvent.Stage.VISION_ENCODE, scalesDone, scalesTotal, dev.navil4j.ProgressEvent.Unit.SCALES,
                    "image scales");
            if (rows.length != contexts * d) throw new IllegalStateException("the ViT gave " + rows.length / d + " rows for " + contexts + " image tokens");
            int[] pos = new int[contexts];
            for (int r = 0; r < contexts; r++) {
                while (t < ids.length && ids[t] != imgContextId) t++;
                if (t == ids.length) throw new IllegalArgumentException("the prompt has fewer " + IMG_CONTEXT + " tokens than the images need");
                pos[r] = t++;
            }
            media.add(new MediaEmbedding(pos, rows, key));
        }
        while (t < ids.length) if (ids[t++] == imgContextId)
            throw new IllegalArgumentException("the prompt has more " + IMG_CONTEXT + " tokens than the images give");
        return new PreparedPrompt(ids, query, null, visualBlocks(ids), media);
    }

    @Override public InferenceState newState() { return new InferenceState(llm.newCache(maxContext)); }

    /** Causal everywhere; image tokens take the visual experts; special tokens embed differently in prompts. */
    @Override public ModelFlags flags() { return flags; }

    @Override public int hiddenSize() { return llm.hidden(); }

    @Override
    public float[][] forward(BatchRows b) {
        boolean[] visual = null;
        if (b.anyImage()) {
            visual = new boolean[b.n];
            for (int t = 0; t < b.n; t++) visual[t] = b.imageBlock[t] >= 0;
        }
        float[] h = llm.forward(b.embeds.clone(), b.n, visual, b.runs(false), b.positions);
        int[] last = new int[b.segments.length];
        for (int i = 0; i < last.length; i++) last[i] = b.segments[i].row0() + b.segments[i].rows() - 1;
        return b.split(llm.logits(h, last), llm.vocab());
    }

    @Override public MediaCache mediaCache() { return mediaCache; }

    /**
     * language_model.generate's resolution: GenerationConfig.from_model_config(llm_config) over HF's global defaults
     * (top_k 50, ...); generation_config.json is not read (the LLM is built from llm_config); chat() sets eos_token_id
     * to the template separator only; the prompt enters as inputs_embeds, so the repetition penalty skips it.
     */
    @Override
    public GenerationConfig defaultGeneration() {
        return dev.navil4j.models.GenerationDefaults.from(cfg.llmJson(), Set.of(imEndId), false);
    }

    /** chat(): split at {@code <|im_end|>}, Python strip(), then drop the fragments {@code <|im_end|}, {@code <|im_end}, {@code <|im}. */
    @Override
    public String cleanResponse(String decoded) {
        String r = decoded;
        int cut = r.indexOf(template.sep());
        if (cut >= 0) r = r.substring(0, cut);
        r = pyStrip(r);
        return r.replace("<|im_end|", "").replace("<|im_end", "").replace("<|im", "");
    }

    /** Python str.strip(): removes Unicode whitespace (str.isspace) from both ends. */
    static String pyStrip(String s) {
        int a = 0, b = s.length();
        while (a < b && pySpace(s.codePointAt(a))) a += Character.charCount(s.codePointAt(a));
        while (b > a && pySpace(s.codePointBefore(b))) b -= Character.charCount(s.codePointBefore(b));
        return s.substring(a, b);
    }

    private static boolean pySpace(int c) {
        if (c >= 0x1c && c <= 0x1f) return true; // Python counts the information separators as whitespace
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    @Override
    public void close() { st.close(); }
}
