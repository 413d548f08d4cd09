package dev.navil4j.train;

/**
 * A collated training batch as the reference's data module hands it to VoRAForCausalLM.forward
 * (data_module/processor.py batch_transform): right-padded ids with one -200 image placeholder per
 * sample, labels (-100 = no loss), attention_mask, and one preprocessed image per sample.
 *
 * @param ids           [batch, len] input ids (pad id in the padding)
 * @param labels        [batch, len] target ids, -100 where no loss is taken; null for an inference forward
 * @param attentionMask [batch, len] 1 real token, 0 padding
 * @param pixels        [batch, 3, size, size] normalized pixel values
 */
public record Batch(int batch, int len, int[] ids, int[] labels, int[] attentionMask, float[] pixels, int size) {
    public Batch {
        if (batch <= 0 || len <= 0) throw new IllegalArgumentException("empty batch");
        if (ids.length != batch * len || attentionMask.length != batch * len || labels != null && labels.length != batch * len)
            throw new IllegalArgumentException("ids, labels and attention_mask must all be [" + batch + ", " + len + "]");
        if (pixels.length != (long) batch * 3 * size * size)
            throw new IllegalArgumentException("pixel values must be [" + batch + ", 3, " + size + ", " + size + "]");
    }

    /** Count of real (attention 1) text tokens: the numerator of tokens/s. */
    public int realTokens() {
        int n = 0;
        for (int m : attentionMask) n += m;
        return n;
    }
}
