package dev.navil4j.models.internvl;

import dev.navil4j.chat.Conversation;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.PilResize;
import dev.navil4j.image.RgbImage;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.tokenizer.PromptText;
import dev.navil4j.video.Video;
import dev.navil4j.video.Videos;

import java.util.ArrayList;
import java.util.List;

/**
 * The prompts of an -hf checkpoint, as transformers builds them: {@code processor.apply_chat_template(messages)} with
 * the chat template the -hf repos ship, then InternVLProcessor's placeholder expansion, then the tokenizer.
 *
 * <p>Template ({@link InternVLHfProcessor#KNOWN_TEMPLATES}): every message is {@code <|im_start|>ROLE\n CONTENT
 * <|im_end|>\n}; an image part renders as {@code <IMG_CONTEXT>\n}, a video part as {@code <video>\n}, a text part as its
 * text; the generation prompt is {@code <|im_start|>assistant\n}. There is no default system message: a system turn is
 * rendered only when the conversation has one (the original pipeline always sends InternVL's Chinese self-introduction).
 * A turn's media are its first content parts, in order, then its text; a text with {@code <image>} placeholders (one per
 * medium) places them there instead (navil4j's way to interleave; the template itself has no such marker).
 *
 * <p>Expansion (processing_internvl.py): each {@code <IMG_CONTEXT>} of the rendered prompt becomes
 * {@code <img>} + {@code <IMG_CONTEXT>} × image_seq_length × tiles + {@code </img>}; each {@code <video>} becomes
 * {@code Frame1: <img>…</img>\nFrame2: …} (one tile per frame, frames joined by "\n").
 */
final class InternVLHfPrompts {
    static final String VIDEO = "<video>";
    /** InternVLVideoProcessor has no num_frames default; the model card passes 8, as the original pipeline's default. */
    static final int DEFAULT_FRAMES = 8;
    private static final String IM_START = "<|im_start|>", IM_END = "<|im_end|>\n";

    private final InternVLChatModel model;
    private final InternVLHfProcessor processor;

    InternVLHfPrompts(InternVLChatModel model, InternVLHfProcessor processor) {
        this.model = model;
        this.processor = processor;
    }

    /** One medium's tiles: an image's crop_to_patches tiles, or a video's frames (one tile each). */
    private record Item(float[] tiles, int count, boolean video) {}

    PreparedPrompt prepare(Conversation conv) {
        List<Conversation.Turn> turns = conv.turns();
        if (turns.isEmpty()) throw new IllegalArgumentException("the conversation has no turns");
        if (turns.getLast().assistant() != null)
            throw new IllegalArgumentException("the last turn must be the new question (its answer must be null)");
        int perTile = processor.imageSeqLength();
        // media are preprocessed first: the expansion's length depends on the tile counts
        List<List<Item>> media = new ArrayList<>();
        long mediaTokens = 0;
        for (int i = 0; i < turns.size(); i++) {
            Conversation.Turn t = turns.get(i);
            if (t.user() == null) throw new IllegalArgumentException("turn " + (i + 1) + " has no user text");
            if (i < turns.size() - 1 && t.assistant() == null)
                throw new IllegalArgumentException("turn " + (i + 1) + " has no answer (only the last turn may be unanswered)");
            List<Item> items = new ArrayList<>();
            for (Conversation.Media m : t.media() == null ? List.<Conversation.Media>of() : t.media()) {
                Item it = switch (m) {
                    case Conversation.Image img -> image(img, conv.limits().maxTiles());
                    case Conversation.Video v -> video(v);
                };
                items.add(it);
                mediaTokens += (long) it.count() * perTile;
            }
            int k = InternVLTemplate.countPlaceholders(t.user());
            if (k > 0 && k != items.size())
                throw new IllegalArgumentException("turn " + (i + 1) + " has " + k + " <image> placeholders for " + items.size()
                        + " images/videos (use one per image or video, or none)");
            media.add(items);
        }
        int max = conv.limits().maxMediaTokens();
        if (max > 0 && mediaTokens > max)
            throw new IllegalArgumentException("the media need " + mediaTokens + " image tokens, over the request's media token "
                    + "budget of " + max + "; send fewer images or lower max tiles");

        PromptText rendered = new PromptText(conv.allowSpecialTokens(), InternVLTemplate.STRUCTURAL);
        PromptText expanded = new PromptText(conv.allowSpecialTokens(), InternVLTemplate.STRUCTURAL);
        if (conv.system() != null) {
            for (PromptText p : List.of(rendered, expanded)) p.control(IM_START + "system\n").content(conv.system()).control(IM_END);
        }
        List<float[]> tileSets = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (int i = 0; i < turns.size(); i++) {
            Conversation.Turn t = turns.get(i);
            for (PromptText p : List.of(rendered, expanded)) p.control(IM_START + "user\n");
            userContent(rendered, expanded, t.user(), media.get(i), perTile);
            for (Item it : media.get(i)) {
                if (it.video()) {   // a video's frames are separate features of one tile each
                    int per = it.tiles().length / it.count();
                    for (int f = 0; f < it.count(); f++) {
                        tileSets.add(java.util.Arrays.copyOfRange(it.tiles(), f * per, (f + 1) * per));
                        counts.add(1);
                    }
                } else {
                    tileSets.add(it.tiles());
                    counts.add(it.count());
                }
            }
            for (PromptText p : List.of(rendered, expanded)) p.control(IM_END);
            if (t.assistant() != null)   // the template renders an empty answer too (no MPT-style bare role)
                for (PromptText p : List.of(rendered, expanded)) p.control(IM_START + "assistant\n").control(t.assistant()).control(IM_END);
        }
        for (PromptText p : List.of(rendered, expanded)) p.control(IM_START + "assistant\n");

        int[] ids = model.tokenizer().encode(expanded, false);
        dev.navil4j.generate.ContextLimitException.fitNewTokens(ids.length, 1, model.maxContext(), false);
        int total = counts.stream().mapToInt(Integer::intValue).sum();
        InternVLPrompts.Pixels px = InternVLPrompts.Pixels.NONE;
        if (total > 0) {
            int s = processor.tileSize(), per = 3 * s * s, o = 0;
            float[] all = new float[Math.multiplyExact(total, per)];
            for (float[] ts : tileSets) { System.arraycopy(ts, 0, all, o, ts.length); o += ts.length; }
            px = new InternVLPrompts.Pixels(all, total, counts.stream().mapToInt(Integer::intValue).toArray());
        }
        return new PreparedPrompt(ids, rendered.text(), null, null, model.prompts().media(ids, px, perTile, conv.progress()));
    }

    /**
     * The user message: its media parts then its text, or its text with each {@code <image>} replaced by the next
     * medium's part (without the part's "\n": the user wrote where it goes).
     */
    private void userContent(PromptText rendered, PromptText expanded, String text, List<Item> items, int perTile) {
        boolean inline = InternVLTemplate.countPlaceholders(text) > 0;
        int next = 0;
        if (!inline) {
            for (Item it : items) {
                rendered.control(part(it) + "\n");
                expanded.control(expansion(it, perTile) + "\n");
            }
            rendered.content(text);
            expanded.content(text);
            return;
        }
        int from = 0;
        for (int at = text.indexOf(InternVLTemplate.IMAGE); at >= 0; at = text.indexOf(InternVLTemplate.IMAGE, from)) {
            String before = text.substring(from, at);
            rendered.content(before).control(part(items.get(next)));
            expanded.content(before).control(expansion(items.get(next), perTile));
            next++;
            from = at + InternVLTemplate.IMAGE.length();
        }
        rendered.content(text.substring(from));
        expanded.content(text.substring(from));
    }

    private String part(Item it) { return it.video() ? VIDEO : processor.contextImage(); }

    /** replace_image_token / replace_video_token. */
    private String expansion(Item it, int perTile) {
        if (!it.video()) return imageTokens(it.count(), perTile);
        StringBuilder b = new StringBuilder();
        for (int f = 0; f < it.count(); f++) b.append(f == 0 ? "" : "\n").append("Frame").append(f + 1).append(": ").append(imageTokens(1, perTile));
        return b.toString();
    }

    private String imageTokens(int tiles, int perTile) {
        return processor.startImage() + processor.contextImage().repeat(Math.multiplyExact(tiles, perTile)) + processor.endImage();
    }

    /** GotOcr2ImageProcessor with crop_to_patches=True; the request's max tiles stand for max_patches=. */
    private Item image(Conversation.Image img, int maxTiles) {
        RgbImage rgb;
        if (img.image() != null) rgb = ImageLoader.toRgb(img.image(), img.path() != null ? img.path().toString() : "image");
        else if (img.path() != null) rgb = ImageLoader.loadRgb(img.path());
        else throw new IllegalArgumentException("an image needs a path or decoded pixels");
        InternVLHfImages.Tiles t = InternVLHfImages.preprocess(rgb, processor, maxTiles);
        return new Item(t.pixelValues(), t.count(), false);
    }

    /**
     * InternVLVideoProcessor: {@code sample_frames(num_frames, initial_shift=True)}, then every frame resized to one tile
     * and normalized like an image. transformers resizes video frames with torchvision's antialiased bicubic; navil4j uses
     * the Pillow bicubic of its image path (pixel values can differ by one 8-bit level).
     */
    private Item video(Conversation.Video v) {
        if (v.path() == null && v.data() == null) throw new IllegalArgumentException("a video needs a path or its bytes");
        if (v.boundSeconds() != null)
            throw new IllegalArgumentException("a video time bound is not supported for this model (transformers' InternVL "
                    + "video processor samples the whole video)");
        Video vr = v.data() != null ? Videos.open(v.data(), "video") : Videos.open(v.path());
        int[] idx = sampleFrames(vr.numFrames(), v.frames() > 0 ? v.frames() : DEFAULT_FRAMES);
        List<RgbImage> frames = vr.frames(idx);
        int s = processor.tileSize(), per = 3 * s * s;
        float[] pv = new float[Math.multiplyExact(frames.size(), per)];
        for (int f = 0; f < frames.size(); f++)
            InternVLHfImages.rescaleNormalize(PilResize.resize(frames.get(f), s, s), processor, pv, f * per);
        return new Item(pv, frames.size(), true);
    }

    /**
     * {@code torch.arange(total / n / 2, total, total / n).int()}: n frames evenly spaced from the middle of the first
     * of n equal segments; values in float32 (torch's default dtype), truncated toward zero.
     */
    static int[] sampleFrames(int totalFrames, int numFrames) {
        if (numFrames > totalFrames)
            throw new IllegalArgumentException("cannot sample " + numFrames + " frames from a video of " + totalFrames + " frames");
        double step = (double) totalFrames / numFrames, start = step / 2;
        int n = (int) Math.ceil((totalFrames - start) / step);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = (int) (float) (start + i * step);
        return out;
    }
}
