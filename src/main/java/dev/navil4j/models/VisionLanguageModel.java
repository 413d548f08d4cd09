package dev.navil4j.models;

import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.GenerationConfig;
import dev.navil4j.tokenizer.Tokenizer;

/**
 * A loaded checkpoint, family-independent: what generation, chat, the CLI and the server use.
 * <p>Thread-safety: a model is immutable after load and may be shared; each sequence has its own
 * {@link InferenceState}, and one state is used by one thread at a time.
 */
public interface VisionLanguageModel extends AutoCloseable {
    String family();

    Tokenizer tokenizer();

    /** Longest sequence (prompt + generated) this model instance accepts. */
    int maxContext();

    /**
     * The exact prompt the reference {@code chat()} builds for this conversation: template, system message,
     * image placeholders expanded, media preprocessed and encoded.
     */
    PreparedPrompt prepare(Conversation conversation);

    /** A fresh sequence state (KV cache). */
    InferenceState newState();

    /** Runs the whole prompt; returns the logits [vocab] after its last token. */
    float[] prefill(InferenceState state, PreparedPrompt prompt);

    /** Appends one generated token; returns the logits after it. */
    float[] decode(InferenceState state, int token);

    /** The family's generation defaults as its reference chat() applies them (stop ids, penalty scope). */
    GenerationConfig defaultGeneration();

    /** Final response text from the decoded generated ids (e.g. Python strip(), split at the stop string). */
    String cleanResponse(String decoded);

    @Override
    void close();
}
