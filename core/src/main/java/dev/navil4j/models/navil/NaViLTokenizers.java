package dev.navil4j.models.navil;

import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.tokenizer.Tokenizers;

import java.nio.file.Path;

/** The checkpoint's tokenizer (InternLM2 SentencePiece slow semantics or Qwen2 byte-level BPE), via dev.navil4j.tokenizer. */
final class NaViLTokenizers {
    private NaViLTokenizers() {}

    static Tokenizer load(Path modelDir) {
        return Tokenizers.load(modelDir);
    }
}
