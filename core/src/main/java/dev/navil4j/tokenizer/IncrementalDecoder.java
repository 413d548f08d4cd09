package dev.navil4j.tokenizer;

/**
 * Turns a stream of ids into a stream of text: {@link #push} returns the text that became final with
 * this id (possibly empty while a multi-byte character is incomplete); {@link #finish} flushes the rest.
 * The concatenation of everything returned equals {@code decode(allIds)}.
 */
public interface IncrementalDecoder {
    String push(int id);

    String finish();
}
