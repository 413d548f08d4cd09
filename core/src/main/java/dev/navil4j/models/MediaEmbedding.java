package dev.navil4j.models;

/**
 * The encoded rows of one media item (an image with all its tiles or scales, or one video frame) and the prompt
 * positions they replace: row i goes to position {@code positions[i]}. Rows need not be contiguous (NaViL puts
 * {@code <IMG_LINE_BREAK>} tokens between the rows of an image).
 *
 * @param positions  prompt indices, strictly increasing
 * @param rows       [positions.length, hidden] embeddings, in the LLM's input space
 * @param contentKey hash of the media content and every preprocessing parameter (see {@link MediaCache}); equal
 *                   keys mean equal rows, which is what lets a cached KV prefix cover media
 */
public record MediaEmbedding(int[] positions, float[] rows, long contentKey) {
    public MediaEmbedding {
        if (positions == null || rows == null) throw new IllegalArgumentException("media positions and rows are required");
        if (positions.length == 0) throw new IllegalArgumentException("a media item needs at least one row");
        if (rows.length % positions.length != 0)
            throw new IllegalArgumentException(rows.length + " values do not split into " + positions.length + " rows");
        for (int i = 1; i < positions.length; i++)
            if (positions[i] <= positions[i - 1]) throw new IllegalArgumentException("media positions must increase");
    }

    /** Values per row (the LLM's hidden size). */
    public int width() { return rows.length / positions.length; }
}
