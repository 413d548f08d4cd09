package dev.navil4j.models;

import dev.navil4j.chat.Conversation;
import dev.navil4j.tokenizer.Tokenizer;

import java.util.List;

/**
 * A loaded checkpoint, family-independent: what generation, chat, the CLI and the server use. A family
 * implements {@link #prepare} (template, media encoding → {@link PreparedPrompt}), the token embeddings, and
 * {@link #forward} over a {@link BatchRows}; everything else — batching, chunked prefill, prefix reuse, the
 * generation loop — is shared and reads only the declared {@link #flags()}.
 * <p>Thread-safety: a model is immutable after load and may be shared; each sequence has its own
 * {@link InferenceState}, and one state is used by one thread at a time.
 */
public interface VisionLanguageModel extends AutoCloseable {
    String family();

    Tokenizer tokenizer();

    /** Longest sequence (prompt + generated) this model instance accepts. */
    int maxContext();

    /** What the LLM does with the prompt's modality (declared, never switched on by family name). */
    ModelFlags flags();

    /** The LLM's input width (media rows must have it). */
    int hiddenSize();

    /**
     * The exact prompt the reference {@code chat()} builds for this conversation: template, system message,
     * image placeholders expanded, media preprocessed and encoded. Media a family cannot take is refused here
     * with one clear {@link IllegalArgumentException}.
     */
    PreparedPrompt prepare(Conversation conversation);

    /** A fresh sequence state (KV cache sized to {@link #maxContext()}). */
    InferenceState newState();

    /** dst[off..off+hidden) = the embedding of a prompt token (families may replace some rows). */
    void embedPromptToken(int id, float[] dst, int off);

    /** dst[off..off+hidden) = the embedding of a generated token fed back. */
    void embedDecodeToken(int id, float[] dst, int off);

    /**
     * The family's LLM over a batch: appends every segment's rows to its state's KV cache and returns, per
     * segment, the logits [vocab] after its last row.
     */
    float[][] forward(BatchRows batch);

    /**
     * One batched forward step over several sequences (prompt chunks and decoded tokens mixed): the linear layers
     * run once over all rows, attention per sequence. Returns the logits after each step's last row, in order.
     */
    default float[][] step(List<? extends Step> steps) {
        BatchRows b = BatchRows.of(this, steps);
        float[][] logits = forward(b);
        b.commit();
        return logits;
    }

    /** Runs the rest of the prompt (from the state's current length); returns the logits after its last token. */
    default float[] prefill(InferenceState state, PreparedPrompt prompt) {
        return step(List.of(new Step.Prompt(state, prompt, state.length(), prompt.length())))[0];
    }

    /** Appends one generated token; returns the logits after it. */
    default float[] decode(InferenceState state, int token) {
        return step(List.of(new Step.Decode(state, token)))[0];
    }

    /** The family's generation defaults as its reference chat() applies them (stop ids, penalty scope). */
    GenerationConfig defaultGeneration();

    /** Final response text from the decoded generated ids (e.g. Python strip(), split at the stop string). */
    String cleanResponse(String decoded);

    /** The encoded-media cache shared by every request of this model. */
    MediaCache mediaCache();

    @Override
    void close();
}
