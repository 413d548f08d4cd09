package dev.navil4j.models;

/**
 * A prompt ready for prefill.
 *
 * @param ids        token ids; positions holding media carry the placeholder id the family uses
 * @param text       the prompt string before tokenization (for logs and tests)
 * @param mediaTokens number of positions filled from media embeddings
 * @param payload    family-specific prepared data (encoded image features, masks)
 */
public record PreparedPrompt(int[] ids, String text, int mediaTokens, Object payload) {}
