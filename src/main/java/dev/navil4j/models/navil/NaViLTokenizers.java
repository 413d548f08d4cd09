package dev.navil4j.models.navil;

import dev.navil4j.tokenizer.Tokenizer;

import java.nio.file.Path;

/** The checkpoint's tokenizer (InternLM2 SentencePiece or Qwen2 byte-level BPE), via dev.navil4j.tokenizer. */
final class NaViLTokenizers {
    private NaViLTokenizers() {}

    /** null while this build has no tokenizer implementation. */
    static Tokenizer load(Path modelDir) {
        return null;
    }
}
