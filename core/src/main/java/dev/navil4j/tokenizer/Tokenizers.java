package dev.navil4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Picks the tokenizer implementation a checkpoint directory needs. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * InternLM2Tokenizer (tokenizer_config.json's tokenizer_class, or a tokenizer.model without a
     * tokenizer.json) → {@link InternLM2Tokenizer}; otherwise the byte-level BPE {@code tokenizer.json}
     * (Qwen2Tokenizer, fast or slow: same ids) → {@link ByteLevelBpeTokenizer}; without tokenizer.json,
     * vocab.json + merges.txt → the slow Qwen2Tokenizer ({@link ByteLevelBpeTokenizer#loadQwen2Slow}).
     */
    public static Tokenizer load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) throw new TokenizerException(modelDir + ": not a directory");
        String cls = tokenizerClass(modelDir.resolve("tokenizer_config.json"));
        boolean hasJson = Files.isRegularFile(modelDir.resolve("tokenizer.json"));
        boolean hasSp = Files.isRegularFile(modelDir.resolve("tokenizer.model"));
        if (cls.startsWith("InternLM2Tokenizer") || (hasSp && !hasJson)) {
            if (!hasSp) throw new TokenizerException(modelDir + ": tokenizer_class " + cls + " needs tokenizer.model, which is missing");
            return InternLM2Tokenizer.load(modelDir);
        }
        if (hasJson) return ByteLevelBpeTokenizer.load(modelDir.resolve("tokenizer.json"));
        if (Files.isRegularFile(modelDir.resolve("vocab.json")) && Files.isRegularFile(modelDir.resolve("merges.txt")))
            return ByteLevelBpeTokenizer.loadQwen2Slow(modelDir); // Qwen2Tokenizer (slow) files only
        throw new TokenizerException(modelDir + ": no tokenizer.json, tokenizer.model or vocab.json + merges.txt");
    }

    private static String tokenizerClass(Path cfg) {
        if (!Files.isRegularFile(cfg)) return "";
        try {
            JsonNode n = new ObjectMapper().readTree(cfg.toFile());
            return n == null ? "" : n.path("tokenizer_class").asText("");
        } catch (IOException e) {
            throw new TokenizerException(cfg + ": invalid JSON: " + e.getMessage(), e);
        }
    }
}
