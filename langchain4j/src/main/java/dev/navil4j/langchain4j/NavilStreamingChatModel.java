package dev.navil4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;

import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * A navil4j model as a LangChain4j {@link StreamingChatModel}: the answer's text reaches
 * {@link StreamingChatResponseHandler#onPartialResponse(String)} as it is generated (together exactly the final text),
 * then {@code onCompleteResponse} gets the same response {@link NavilChatModel} gives. Requests run one at a time on
 * this model's own worker thread (the kernels use the engine's compute pool); errors go to {@code onError}.
 * Build with {@link #builder()}, or take {@link NavilChatModel#streaming()} to share a loaded model.
 */
public final class NavilStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final NavilEngine engine;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "navil4j-langchain4j-stream");
        t.setDaemon(true);
        return t;
    });

    NavilStreamingChatModel(NavilEngine engine) { this.engine = engine; }

    public static Builder builder() { return new Builder(); }

    /** Builds {@link NavilStreamingChatModel}s. */
    public static final class Builder extends NavilBuilder<Builder> {
        private Builder() {}

        public NavilStreamingChatModel build() { return new NavilStreamingChatModel(engine()); }
    }

    /** The loaded navil4j model. */
    public dev.navil4j.ChatModel model() { return engine.model; }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        try {
            worker.execute(() -> {
                try {
                    handler.onCompleteResponse(engine.chat(request, handler::onPartialResponse));
                } catch (Throwable t) {
                    handler.onError(t);
                }
            });
        } catch (RejectedExecutionException e) {
            handler.onError(new IllegalStateException("the model is closed"));
        }
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() { return engine.defaultParameters(); }

    /** Empty: no tools and no JSON response format. */
    @Override
    public Set<Capability> supportedCapabilities() { return Set.of(); }

    @Override
    public ModelProvider provider() { return ModelProvider.OTHER; }

    /**
     * Takes no new requests, lets a running answer finish (up to a minute: the model's memory must not be unmapped
     * under it), then closes the model if the builder loaded it.
     */
    @Override
    public void close() {
        worker.shutdown();
        try {
            worker.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        engine.close();
    }
}
