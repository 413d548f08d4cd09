package dev.navil4j.tokenizer;

/**
 * Text ↔ token ids, exactly as the checkpoint's Hugging Face tokenizer does it. Implementations are
 * immutable and thread-safe. Load one with {@link Tokenizers#load(java.nio.file.Path)}.
 */
public interface Tokenizer {
    /** Ids of {@code text}; added/special tokens written in the text are matched first. */
    int[] encode(String text, boolean addSpecialTokens);

    default int[] encode(String text) { return encode(text, true); }

    /**
     * Ids of a templated prompt: special tokens are matched in its template text only; in message text they are
     * encoded as plain text ({@link PromptText}). The ids equal {@code encode(prompt.text(), ...)} whenever no
     * message contains special-token text.
     */
    default int[] encode(PromptText prompt, boolean addSpecialTokens) {
        return encode(prompt.text(), addSpecialTokens, prompt.contentRanges(), prompt.structuralTokens());
    }

    /**
     * Ids of {@code text} with none of {@code literalTokens} (null: no added token at all) matched where it would
     * overlap a literal range ([start, end) pairs, ascending). A tokenizer that cannot do this refuses literal ranges
     * rather than ignore them.
     */
    default int[] encode(String text, boolean addSpecialTokens, int[] literalRanges, java.util.Set<String> literalTokens) {
        if (literalRanges.length == 0) return encode(text, addSpecialTokens);
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot keep special tokens out of message text");
    }

    /**
     * Text of ids, as the reference tokenizer's decode gives it. Invalid UTF-8 becomes U+FFFD: per maximal
     * subpart for byte-level BPE (Python's decode('utf-8', 'replace'), Rust's from_utf8_lossy), one per
     * ill-formed byte for SentencePiece byte pieces (the sentencepiece library's rule).
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** Id of a vocabulary or added token, or -1. */
    int tokenId(String token);

    /** The token string (vocabulary form) of an id, or null. */
    String token(int id);

    /** Number of ids (vocabulary plus added tokens). */
    int size();

    /** Whether an id is a special token (dropped by skipSpecialTokens). */
    boolean isSpecial(int id);

    /**
     * The bytes id {@code id} adds to the decoded text when it stands among ordinary tokens (byte-level BPE: the
     * byte table of its vocabulary string; SentencePiece: its piece with ▁ as a space, byte pieces as their byte),
     * or null for a special token (dropped by the decoder) or an id that has no fixed bytes. Constrained decoding
     * walks these bytes through a grammar ({@code dev.navil4j.generate.VocabularyTrie}).
     */
    default byte[] tokenBytes(int id) { return null; }

    /** A streaming decoder that emits text as ids arrive and never splits a UTF-8 character. */
    IncrementalDecoder incrementalDecoder(boolean skipSpecialTokens);
}
