package dev.navil4j.tokenizer;

/** A tokenizer file that cannot be used, or an id/text the tokenizer cannot handle; the message names the file or value. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) { super(message); }
    public TokenizerException(String message, Throwable cause) { super(message, cause); }
}
