package dev.navil4j.tokenizer;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/** Tokenizers are immutable: tests share one instance per model directory (Qwen2.5's takes seconds to load). */
final class TestTokenizers {
    private static final ConcurrentHashMap<Path, Tokenizer> CACHE = new ConcurrentHashMap<>();

    private TestTokenizers() {}

    static Tokenizer get(Path dir) { return CACHE.computeIfAbsent(dir.toAbsolutePath().normalize(), Tokenizers::load); }
}
