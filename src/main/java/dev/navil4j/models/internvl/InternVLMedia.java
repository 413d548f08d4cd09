package dev.navil4j.models.internvl;

import dev.navil4j.chat.Conversation;

import java.util.List;

/** Media → normalized tiles, as the model card's load_image (dynamic_preprocess) and load_video do. */
final class InternVLMedia {
    /** count tiles [count, 3, s, s]. */
    record Tiles(float[] values, int count) {}

    private InternVLMedia() {}

    static Tiles image(Conversation.Image img, int tileSize, int maxTiles, InternVLChatConfig config) {
        throw new UnsupportedOperationException("image preprocessing is not in this build yet");
    }

    static List<Tiles> videoFrames(Conversation.Video v, int tileSize) {
        throw new UnsupportedOperationException("video decoding is not in this build yet");
    }
}
