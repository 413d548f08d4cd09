package dev.navil4j.models;

import java.util.function.IntPredicate;

/**
 * What a family's LLM does differently with the per-token modality of a {@link PreparedPrompt}, declared once
 * (llama.cpp mtmd's {@code use_non_causal}-style flags) so that the shared pipeline — batching, chunked prefill,
 * KV-prefix reuse — never asks which family it runs.
 *
 * @param bidirectionalImageBlocks tokens of one image block attend to each other in both directions (VoRA's
 *                                 {@code vision_attention_mask: bidirectional}); a prefill chunk or a reused
 *                                 KV prefix may then not end inside a block
 * @param modalityExperts          image-block tokens run through the visual experts (NaViL)
 * @param promptOnlyEmbedding      token ids whose prompt embedding is not their embedding row, so a generated
 *                                 token's cached KV cannot stand for the same id in a later prompt (NaViL's
 *                                 {@code special_token_embedding}); null = none
 */
public record ModelFlags(boolean bidirectionalImageBlocks, boolean modalityExperts, IntPredicate promptOnlyEmbedding) {
    /** A plain causal LLM whose media rows simply replace placeholder embeddings (InternVL). */
    public static final ModelFlags PLAIN = new ModelFlags(false, false, null);

    public boolean embedsDifferentlyInPrompt(int id) { return promptOnlyEmbedding != null && promptOnlyEmbedding.test(id); }
}
