package dev.navil4j.tokenizer;

/**
 * An added token as tokenizer.json / tokenizer_config.json describe it. {@code special} tokens are dropped by
 * skip_special_tokens; {@code normalized} ones are matched on normalized text, the others on the raw input.
 */
public record AddedToken(int id, String content, boolean lstrip, boolean rstrip, boolean singleWord,
                         boolean normalized, boolean special) {
    public AddedToken {
        if (content == null || content.isEmpty()) throw new TokenizerException("added token " + id + " has empty content");
    }
}
