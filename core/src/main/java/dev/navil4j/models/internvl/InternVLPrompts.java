package dev.navil4j.models.internvl;

import dev.navil4j.chat.Conversation;
import dev.navil4j.models.MediaCache;
import dev.navil4j.models.MediaEmbedding;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.internvl.InternVLTemplate.Exchange;
import dev.navil4j.tokenizer.PromptText;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds what chat() feeds generate(): template text, {@code <image>} expansion, token ids, and the encoded
 * image features. Budget checks (context length, media tokens) run before the ViT is, so an oversized request
 * fails fast with a clear message.
 */
final class InternVLPrompts {
    private final InternVLChatModel model;

    InternVLPrompts(InternVLChatModel model) { this.model = model; }

    /** Preprocessed media: tiles [count, 3, s, s] in prompt order and the tiles of each {@code <image>}. */
    record Pixels(float[] values, int tiles, int[] numPatchesList) {
        static final Pixels NONE = new Pixels(null, 0, new int[0]);
    }

    /**
     * chat(tokenizer, pixel_values, question, generation_config, history, num_patches_list) exactly:
     * {@code '<image>\n' + question} when there is no history, pixels are given and the question has no
     * {@code <image>}; num_patches_list defaults to [all tiles].
     */
    PreparedPrompt chat(String system, String question, List<Exchange> history, float[] pixels, int tiles,
                        int[] numPatchesList, int maxMediaTokens) {
        if (history.isEmpty() && pixels != null && !question.contains(InternVLTemplate.IMAGE))
            question = InternVLTemplate.IMAGE + "\n" + question;
        if (numPatchesList == null) numPatchesList = pixels != null ? new int[] {tiles} : new int[0];
        List<Exchange> all = new ArrayList<>(history);
        all.add(new Exchange(question, null));
        return build(system, all, new Pixels(pixels, pixels == null ? 0 : tiles, numPatchesList), maxMediaTokens, false,
                dev.navil4j.ProgressListener.NONE);
    }

    /** Template → expansion → ids → features, for exchanges whose last answer is null. */
    PreparedPrompt build(String system, List<Exchange> exchanges, Pixels px, int maxMediaTokens, boolean allowSpecialTokens,
                         dev.navil4j.ProgressListener progress) {
        int sum = 0;
        for (int n : px.numPatchesList()) {
            if (n <= 0) throw new IllegalArgumentException("every image needs at least one tile, got " + n);
            sum += n;
        }
        if (sum != px.tiles())
            throw new IllegalArgumentException("num_patches_list sums to " + sum + " tiles but " + px.tiles() + " tiles are given");
        int perTile = model.vision.tokensPerTile();
        long mediaTokens = (long) sum * perTile;
        if (maxMediaTokens > 0 && mediaTokens > maxMediaTokens)
            throw new IllegalArgumentException("the images need " + mediaTokens + " image tokens (" + sum + " tiles × " + perTile
                    + "), over the request's media token budget of " + maxMediaTokens + "; send fewer images or lower max tiles");
        PromptText prompt = InternVLTemplate.renderText(system, exchanges, allowSpecialTokens);
        String query = prompt.text();
        int placeholders = InternVLTemplate.countPlaceholders(query);
        if (placeholders < px.numPatchesList().length)
            throw new IllegalArgumentException("the prompt has " + placeholders + " <image> placeholders for "
                    + px.numPatchesList().length + " images");
        int[] ids = model.tokenizer().encode(InternVLTemplate.expandImages(prompt, px.numPatchesList(), perTile), true);
        // the engine's context rule, checked before the ViT runs
        dev.navil4j.generate.ContextLimitException.fitNewTokens(ids.length, 1, model.maxContext(), false);
        return new PreparedPrompt(ids, query, null, null, media(ids, px, perTile, progress));
    }

    /**
     * One media item per {@code <image>} (num_patches_list entry): its tiles' extract_feature rows, placed at the
     * next {@code numPatches × perTile} {@code <IMG_CONTEXT>} positions in order (generate(): input_embeds[selected]
     * = vit_embeds). Features come from the model's media cache, keyed by the tiles' pixels. VISION_ENCODE progress
     * counts the prompt's tiles, reported after each ViT pass (a cached image's tiles count at once).
     */
    List<MediaEmbedding> media(int[] ids, Pixels px, int perTile, dev.navil4j.ProgressListener progress) {
        int contexts = 0;
        for (int id : ids) if (id == model.imgContextId()) contexts++;
        long need = (long) px.tiles() * perTile;
        if (contexts != need)
            throw new IllegalArgumentException("the prompt has " + contexts + " <IMG_CONTEXT> tokens for " + need + " image feature rows");
        List<MediaEmbedding> out = new ArrayList<>();
        int s = model.vision.tileSize(), per = 3 * s * s, tile0 = 0, t = 0;
        for (int tiles : px.numPatchesList()) {
            float[] pixels = java.util.Arrays.copyOfRange(px.values(), tile0 * per, (tile0 + tiles) * per);
            final int nt = tiles, before = tile0, all = px.tiles();
            tile0 += tiles;
            long key = MediaCache.key(pixels, tiles, s);
            boolean[] encoded = {false};
            float[] rows = model.mediaCache().get(key, () -> {
                encoded[0] = true;
                return model.vision.extractFeature(pixels, nt, done -> progress.report(dev.navil4j.ProgressEvent.Stage.VISION_ENCODE,
                        before + done, all, dev.navil4j.ProgressEvent.Unit.TILES, "image tiles"));
            });
            if (!encoded[0]) progress.report(dev.navil4j.ProgressEvent.Stage.VISION_ENCODE, tile0, all,
                    dev.navil4j.ProgressEvent.Unit.TILES, "image tiles (cached)");
            int[] positions = new int[tiles * perTile];
            for (int r = 0; r < positions.length; r++) {
                while (ids[t] != model.imgContextId()) t++;
                positions[r] = t++;
            }
            out.add(new MediaEmbedding(positions, rows, key));
        }
        return out;
    }

    /** A {@link Conversation} as chat() rounds: history = earlier turns with answers, question = the last turn. */
    PreparedPrompt prepare(Conversation conv) {
        List<Conversation.Turn> turns = conv.turns();
        if (turns.isEmpty()) throw new IllegalArgumentException("the conversation has no turns");
        if (turns.getLast().assistant() != null)
            throw new IllegalArgumentException("the last turn must be the new question (its answer must be null)");
        String system = conv.system() != null ? conv.system() : model.systemMessage();
        List<Exchange> exchanges = new ArrayList<>();
        List<float[]> tileSets = new ArrayList<>();
        List<Integer> numPatches = new ArrayList<>();
        int mediaBefore = 0, mediaTotal = conv.mediaCount();
        for (int i = 0; i < turns.size(); i++) {
            Conversation.Turn t = turns.get(i);
            if (t.user() == null) throw new IllegalArgumentException("turn " + (i + 1) + " has no user text");
            if (i < turns.size() - 1 && t.assistant() == null)
                throw new IllegalArgumentException("turn " + (i + 1) + " has no answer (only the last turn may be unanswered)");
            String q = placeMedia(t, i, tileSets, numPatches, conv.limits().maxTiles(), conv, mediaBefore, mediaTotal);
            if (t.media() != null) mediaBefore += t.media().size();
            exchanges.add(new Exchange(q, t.assistant()));
        }
        int total = numPatches.stream().mapToInt(Integer::intValue).sum();
        Pixels px = Pixels.NONE;
        if (total > 0) {
            int s = model.vision.tileSize(), per = 3 * s * s;
            float[] all = new float[Math.multiplyExact(total, per)];
            int o = 0;
            for (float[] ts : tileSets) { System.arraycopy(ts, 0, all, o, ts.length); o += ts.length; }
            px = new Pixels(all, total, numPatches.stream().mapToInt(Integer::intValue).toArray());
        }
        return build(system, exchanges, px, conv.limits().maxMediaTokens(), conv.allowSpecialTokens(), conv.progress());
    }

    /**
     * One turn's question with its media placed as the reference usages do: with no {@code <image>} in the text,
     * one image gets {@code "<image>\n"} (chat()'s rule), several images {@code "Image-1: <image>\n..."} (separate
     * images), a video {@code "Frame1: <image>\n..."} (one tile per frame). With placeholders: one per image/frame,
     * or a single one for all the turn's images (their tiles concatenated, the "combined" form).
     */
    private String placeMedia(Conversation.Turn t, int turn, List<float[]> tileSets, List<Integer> numPatches, int maxTiles,
                              Conversation conv, int mediaBefore, int mediaTotal) {
        List<Conversation.Media> media = t.media() == null ? List.of() : t.media();
        String text = t.user();
        int k = InternVLTemplate.countPlaceholders(text);
        if (media.isEmpty()) {
            if (k > 0) throw new IllegalArgumentException("turn " + (turn + 1) + " has " + k + " <image> placeholders but no media");
            return text;
        }
        List<InternVLMedia.Tiles> items = new ArrayList<>();  // one entry per <image> it would take separately
        int images = 0;
        StringBuilder prefix = new StringBuilder();
        for (Conversation.Media m : media) if (m instanceof Conversation.Image) images++;
        int imageNo = 0;
        for (Conversation.Media m : media) {
            switch (m) {
                case Conversation.Image img -> {
                    items.add(InternVLMedia.image(img, model.vision.tileSize(), maxTiles, model.config));
                    imageNo++;
                    prefix.append(images > 1 ? "Image-" + imageNo + ": " : "").append(InternVLTemplate.IMAGE).append('\n');
                }
                case Conversation.Video v -> {
                    List<InternVLMedia.Tiles> frames = InternVLMedia.videoFrames(v, model.vision.tileSize());
                    for (int f = 0; f < frames.size(); f++) prefix.append("Frame").append(f + 1).append(": ").append(InternVLTemplate.IMAGE).append('\n');
                    items.addAll(frames);
                }
            }
            conv.reportDecoded(++mediaBefore, mediaTotal, Conversation.label(m));
        }
        if (k == 0) text = prefix + text;
        else if (k == 1 && items.size() > 1) {
            // combined: all tiles under the one placeholder (torch.cat of the images' pixel_values)
            int n = 0;
            for (InternVLMedia.Tiles it : items) { tileSets.add(it.values()); n += it.count(); }
            numPatches.add(n);
            return text;
        } else if (k != items.size())
            throw new IllegalArgumentException("turn " + (turn + 1) + " has " + k + " <image> placeholders for " + items.size()
                    + " images/frames (use one per image, one for all images, or none)");
        for (InternVLMedia.Tiles it : items) { tileSets.add(it.values()); numPatches.add(it.count()); }
        return text;
    }
}
