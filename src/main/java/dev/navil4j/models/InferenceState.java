package dev.navil4j.models;

/** Per-sequence mutable state (KV cache, positions); owned by one thread at a time. */
public interface InferenceState {
    /** Tokens processed so far (prompt + generated). */
    int length();

    /** Bytes held (KV cache). */
    long bytes();
}
