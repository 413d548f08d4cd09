package dev.navil4j.chat;

import java.util.List;

/**
 * A chat as the reference {@code chat()} APIs see it: an optional system message, earlier turns with
 * their answers, and the new question (the last turn, answer null). Media belong to the turn that
 * introduced them.
 *
 * @param system the system message; null = the family's default (the one its reference template uses)
 * @param turns  earlier turns (with answers) then the new question (answer null)
 * @param limits per-request caps on media size; {@link Limits#NONE} = the family's defaults
 * @param allowSpecialTokens whether special-token text inside messages is tokenized as control tokens (default false:
 *               as plain text)
 * @param progress receives the media decode and vision encode progress of {@code prepare} (never null: NONE = none)
 */
public record Conversation(String system, List<Turn> turns, Limits limits, boolean allowSpecialTokens,
                           dev.navil4j.ProgressListener progress) {
    public Conversation {
        if (turns == null) throw new IllegalArgumentException("turns is null");
        turns = List.copyOf(turns);
        if (limits == null) limits = Limits.NONE;
        progress = dev.navil4j.ProgressListener.orNone(progress);
    }

    /** Without a progress listener. */
    public Conversation(String system, List<Turn> turns, Limits limits, boolean allowSpecialTokens) {
        this(system, turns, limits, allowSpecialTokens, null);
    }

    /** This conversation reporting {@code prepare}'s progress to {@code listener} (null = none). */
    public Conversation withProgress(dev.navil4j.ProgressListener listener) {
        return new Conversation(system, turns, limits, allowSpecialTokens, listener);
    }

    /** Media items (images, videos) over all turns: the total of the MEDIA_DECODE stage. */
    public int mediaCount() {
        int n = 0;
        for (Turn t : turns) if (t.media() != null) n += t.media().size();
        return n;
    }

    /** Reports that {@code done} of the conversation's {@code total} media items are decoded ({@code what} names the last). */
    public void reportDecoded(int done, int total, String what) {
        progress.report(dev.navil4j.ProgressEvent.Stage.MEDIA_DECODE, done, total, dev.navil4j.ProgressEvent.Unit.ITEMS, what);
    }

    /** A media item's label for progress: its file name, or what it is. */
    public static String label(Media m) {
        return switch (m) {
            case Image i -> i.path() != null ? String.valueOf(i.path().getFileName()) : "image";
            case Video v -> v.path() != null ? String.valueOf(v.path().getFileName()) : "video";
        };
    }

    /**
     * Special-token text in messages (e.g. {@code <|im_start|>}) is encoded as plain text, so a message cannot forge a
     * role turn or an image-context token; see {@link #withSpecialTokens}.
     */
    public Conversation(String system, List<Turn> turns, Limits limits) { this(system, turns, limits, false); }

    /** A conversation with the family's default media limits. */
    public Conversation(String system, List<Turn> turns) { this(system, turns, Limits.NONE); }

    /**
     * {@code allow} true: special-token text in messages is tokenized as the special token, as transformers'
     * {@code apply_chat_template} does (it renders the whole prompt, then matches special tokens everywhere).
     */
    public Conversation withSpecialTokens(boolean allow) { return new Conversation(system, turns, limits, allow, progress); }

    public record Turn(String user, List<Media> media, String assistant) {}

    /** An image file, a decoded image, or video frames. */
    public sealed interface Media permits Image, Video {}

    public record Image(java.nio.file.Path path, java.awt.image.BufferedImage image) implements Media {}

    /**
     * A video file, or (when {@code data} is not null) a video held in memory, e.g. one uploaded to the server:
     * it is demuxed from memory and never written to a file.
     */
    public record Video(java.nio.file.Path path, int frames, double[] boundSeconds, byte[] data) implements Media {
        /** A video file. */
        public Video(java.nio.file.Path path, int frames, double[] boundSeconds) { this(path, frames, boundSeconds, null); }
    }

    /**
     * Caps that keep many-tile images and long videos from exhausting memory; 0 means "the family's default".
     * A family honours them in {@code prepare} before encoding anything.
     *
     * @param maxTiles       the most tiles one image is split into (InternVL's {@code max_num}); 0 = default
     * @param maxMediaTokens the most prompt positions all media of the conversation may fill together
     *                       (image-context tokens); a prompt needing more is rejected with a clear
     *                       exception (families may lower tiles/frames to fit instead); 0 = no cap
     */
    public record Limits(int maxTiles, int maxMediaTokens) {
        public static final Limits NONE = new Limits(0, 0);

        public Limits {
            if (maxTiles < 0) throw new IllegalArgumentException("max tiles must be >= 0, got " + maxTiles);
            if (maxMediaTokens < 0) throw new IllegalArgumentException("media token budget must be >= 0, got " + maxMediaTokens);
        }
    }
}
