package dev.navil4j;

/**
 * How far one long step of loading or answering has got: {@code done} of {@code total} {@code unit}s of
 * {@code stage}. Within one stage of one call, {@code done} never decreases and the last event has
 * {@code done == total}; a {@link Stage#DOWNLOAD} and a {@link ChatModel#batch} request count each file or
 * request on its own (the file is named in {@code detail}).
 *
 * @param stage  what is being waited for
 * @param done   units finished so far, 0..total
 * @param total  units the stage takes (at least 1)
 * @param unit   what done and total count
 * @param detail a short human-readable label (e.g. "checking weights", an image file name); never null
 */
public record ProgressEvent(Stage stage, long done, long total, Unit unit, String detail) {
    /** The long waits of a load or a request, in the order they happen. */
    public enum Stage {
        /** fetching a hub checkpoint's missing files into the Hugging Face cache, per file (its bytes) */
        DOWNLOAD,
        /** mapping the checkpoint: the NaN/Inf scan of the weights, then each tensor as the model takes (and converts) it */
        LOAD,
        /** decoding the request's images and videos (files or in-memory images) */
        MEDIA_DECODE,
        /** the vision encoder: per tile (InternVL), per scale (NaViL), per image (VoRA) */
        VISION_ENCODE,
        /** running the prompt through the language model, in chunks of prompt tokens */
        PREFILL,
        /** writing a block-quantized copy of a checkpoint ({@code ./navil4j quantize}), per tensor */
        QUANTIZE
    }

    /** What {@link #done} and {@link #total} count. */
    public enum Unit { TENSORS, ITEMS, TILES, SCALES, IMAGES, TOKENS, BYTES }

    /** Checks the counts (a listener may rely on {@code 0 <= done <= total}). */
    public ProgressEvent {
        if (stage == null || unit == null) throw new IllegalArgumentException("stage and unit are required");
        if (total < 1 || done < 0 || done > total)
            throw new IllegalArgumentException("progress " + done + "/" + total + " of " + stage + " is out of range");
        if (detail == null) detail = "";
    }

    /** Whether this is the stage's last event. */
    public boolean finished() { return done == total; }
}
