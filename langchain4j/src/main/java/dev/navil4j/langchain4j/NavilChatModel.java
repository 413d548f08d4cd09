package dev.navil4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;

import java.util.Set;

/**
 * A navil4j model (InternVL3, NaViL, VoRA) as a LangChain4j {@link ChatModel}, in-process:
 * <pre>{@code
 * try (NavilChatModel chat = NavilChatModel.builder().modelPath(Path.of("InternVL3-1B")).weights("q8").maxTiles(6).build()) {
 *     String answer = chat.chat("Hello!");
 * }
 * }</pre>
 * Messages become a navil4j session: system messages first, each user message (text and {@code ImageContent}s) answered
 * by the next AI message as the history, the last user message as the question. Without request parameters the model's
 * reference decoding applies (greedy for InternVL3 and NaViL). Responses carry the model name, the finish reason and
 * the token usage (prompt tokens with the image positions; generated tokens with the stop token).
 * <p>{@link #supportedCapabilities()} is empty: tools and a JSON response format are refused with
 * {@link dev.langchain4j.exception.UnsupportedFeatureException} (LangChain4j's {@code AiServices} then asks for JSON in
 * the prompt). Thread-safe: concurrent calls each get their own KV cache. {@link #close()} closes the model when the
 * builder loaded it, never one given with {@link NavilBuilder#chatModel}.
 */
public final class NavilChatModel implements ChatModel, AutoCloseable {
    private final NavilEngine engine;

    private NavilChatModel(NavilEngine engine) { this.engine = engine; }

    /** A builder: the model ({@code modelPath}, {@code model} or {@code chatModel}), load and request settings. */
    public static Builder builder() { return new Builder(); }

    /** Builds {@link NavilChatModel}s. */
    public static final class Builder extends NavilBuilder<Builder> {
        private Builder() {}

        /** Loads the model (unless one was given); load errors name the file or directory. */
        public NavilChatModel build() { return new NavilChatModel(engine()); }
    }

    /**
     * A streaming model over the same loaded model and settings (for {@code AiServices}' {@code TokenStream}); closing it
     * leaves the model open, closing this one closes the model (when this one loaded it).
     */
    public NavilStreamingChatModel streaming() {
        return new NavilStreamingChatModel(new NavilEngine(engine.model, false, engine.modelName, engine.defaults, engine.images()));
    }

    /** The loaded navil4j model (e.g. to share it with a {@link NavilStreamingChatModel} builder). */
    public dev.navil4j.ChatModel model() { return engine.model; }

    @Override
    public ChatResponse doChat(ChatRequest request) { return engine.chat(request, null); }

    @Override
    public ChatRequestParameters defaultRequestParameters() { return engine.defaultParameters(); }

    /** Empty: no tools and no JSON response format (see the class comment). */
    @Override
    public Set<Capability> supportedCapabilities() { return Set.of(); }

    @Override
    public ModelProvider provider() { return ModelProvider.OTHER; }

    /** Closes the model if the builder loaded it; idempotent. */
    @Override
    public void close() { engine.close(); }
}
