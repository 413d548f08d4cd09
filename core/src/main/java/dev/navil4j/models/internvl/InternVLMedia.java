package dev.navil4j.models.internvl;

import dev.navil4j.chat.Conversation;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.RgbImage;

import dev.navil4j.video.Video;
import dev.navil4j.video.Videos;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Media → normalized tiles, as the model card's load_image (dynamic_preprocess) and load_video do. */
final class InternVLMedia {
    /** count tiles [count, 3, s, s]. */
    record Tiles(float[] values, int count) {}

    private InternVLMedia() {}

    /**
     * load_image(): dynamic_preprocess with min_num = min_dynamic_patch, max_num = the request's max tiles or
     * max_dynamic_patch (the model card passes 12 = InternVL3's max_dynamic_patch), thumbnail per use_thumbnail;
     * a checkpoint with dynamic_image_size false gets one resized tile.
     */
    static Tiles image(Conversation.Image img, int tileSize, int maxTiles, InternVLChatConfig config) {
        RgbImage rgb;
        if (img.image() != null) rgb = ImageLoader.toRgb(img.image(), img.path() != null ? img.path().toString() : "image");
        else if (img.path() != null) rgb = ImageLoader.loadRgb(img.path());
        else throw new IllegalArgumentException("an image needs a path or decoded pixels");
        int max = !config.dynamicImageSize() ? 1 : maxTiles > 0 ? maxTiles : config.maxDynamicPatch();
        int min = Math.min(config.minDynamicPatch(), max);
        InternVLImageProcessor.Tiles t = InternVLImageProcessor.preprocess(rgb, min, max, tileSize, config.useThumbnail());
        return new Tiles(t.pixelValues(), t.numTiles());
    }

    /** The model card's default num_segments for video chat. */
    static final int DEFAULT_SEGMENTS = 8;

    /**
     * load_video(path, bound, input_size, max_num=1, num_segments): one tile per sampled frame (the model card's video
     * chat), each frame becoming one {@code Frame{i}: <image>}.
     */
    static List<Tiles> videoFrames(Conversation.Video v, int tileSize) {
        if (v.path() == null && v.data() == null) throw new IllegalArgumentException("a video needs a path or its bytes");
        int segments = v.frames() > 0 ? v.frames() : DEFAULT_SEGMENTS;
        Video vr = v.data() != null ? Videos.open(v.data(), "video") : Videos.open(v.path());
        InternVLVideo.Result r = InternVLVideo.load(vr, v.boundSeconds(), tileSize, 1, segments);
        int per = 3 * tileSize * tileSize, o = 0;
        List<Tiles> out = new ArrayList<>();
        for (int n : r.numPatchesList()) {
            out.add(new Tiles(Arrays.copyOfRange(r.pixelValues(), o * per, (o + n) * per), n));
            o += n;
        }
        return out;
    }
}
