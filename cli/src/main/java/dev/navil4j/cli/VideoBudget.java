package dev.navil4j.cli;

import dev.navil4j.ChatModel;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.models.internvl.InternVLChatModel;
import dev.navil4j.video.VideoReader;

import java.util.Locale;

/**
 * Refuses a frame count that cannot fit the model's context before a single frame is decoded: decoding and
 * tiling 100000 frames took 78 s and 6.4 GB before the prompt-length check could say no.
 */
final class VideoBudget {
    private VideoBudget() {}

    /** The most frames {@code --frames} accepts at all: the video reader's frame-count limit. */
    static final int MAX_FRAMES = dev.navil4j.video.VideoLimits.DEFAULT.maxFrames();

    /**
     * Prompt positions one sampled frame fills, or 0 when the family has no fixed per-frame cost (it takes no
     * video, or its own checks apply). InternVL's video chat gives each frame one tile ({@code load_video(...,
     * max_num=1)}), i.e. {@code num_image_token} image-context tokens; the "FrameN: " text around it is not counted,
     * so this is a lower bound and the exact prompt check still runs later.
     */
    static int tokensPerFrame(VisionLanguageModel m) {
        return m instanceof InternVLChatModel ivl ? ivl.vision.tokensPerTile() : 0;
    }

    /** Null when {@code frames} can fit the context of {@code model}, else the problem in one phrase. */
    static String problem(ChatModel model, int frames) {
        if (frames < 1 || frames > MAX_FRAMES) return "frames must be in 1.." + MAX_FRAMES + ", got " + frames;
        long per = tokensPerFrame(model.model());
        if (per == 0) return null;
        long need = per * frames;
        int ctx = model.maxContext();
        if (need < ctx) return null;
        return String.format(Locale.ROOT, "%d frames × %d tokens per frame = %d tokens, over the model's context of %d tokens "
                + "(at most %d frames fit)", frames, per, need, ctx, Math.max(0, (ctx - 1) / per));
    }
}
