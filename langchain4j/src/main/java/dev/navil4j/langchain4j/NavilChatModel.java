package dev.navil4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import dev.navil4j.chat.Conversation;
import dev.navil4j.RequestOptions;
import dev.navil4j.generate.ContextLimitException;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Sequence;
import dev.navil4j.generate.Generator;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A navil4j model as a LangChain4j {@link ChatModel} and {@link StreamingChatModel}, in-process: messages
 * become a {@link Conversation} (system messages first, user turns with their images, assistant answers),
 * and generation runs the engine's {@link Generator} with the family's reference decoding unless the
 * request sets temperature / top_p / top_k / max output tokens. Calls are serialized on one platform thread
 * (the model's kernels use the engine's compute pool).
 */
public final class NavilChatModel implements ChatModel, StreamingChatModel, AutoCloseable {
    private final VisionLanguageModel model;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "navil4j-langchain4j");
        t.setDaemon(true);
        return t;
    });

    public NavilChatModel(VisionLanguageModel model) { this.model = model; }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        try {
            return worker.submit(() -> run(request, null)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        worker.submit(() -> {
            try {
                handler.onCompleteResponse(run(request, handler));
            } catch (Throwable t) {
                handler.onError(t);
            }
        });
    }

    private ChatResponse run(ChatRequest request, StreamingChatResponseHandler handler) {
        Conversation conv = conversation(request.messages());
        PreparedPrompt prompt = model.prepare(conv);
        RequestOptions o = options(request.parameters());
        GenerationConfig cfg = o.applyTo(model.defaultGeneration());
        // an explicit max output tokens must fit; the family default is cut to the room left
        cfg = cfg.withMaxNewTokens(ContextLimitException.fitNewTokens(prompt.length(), cfg.maxNewTokens(), model.maxContext(),
                o.maxNewTokens() != null));
        Sequence.Result r = Generator.generate(model, prompt, cfg, handler == null ? null : Generator.listener(handler::onPartialResponse));
        return ChatResponse.builder().aiMessage(AiMessage.from(r.text()))
                .tokenUsage(new TokenUsage(r.promptTokens(), r.ids().length))
                .finishReason(r.finish() == Sequence.Finish.STOP ? FinishReason.STOP : FinishReason.LENGTH)
                .build();
    }

    /** LangChain4j request parameters as the engine's request options (mapped onto the family's defaults in one place). */
    static RequestOptions options(ChatRequestParameters p) {
        RequestOptions o = RequestOptions.defaults();
        if (p == null) return o;
        if (p.maxOutputTokens() != null) o = o.withMaxNewTokens(p.maxOutputTokens());
        if (p.temperature() != null) o = o.withTemperature(p.temperature().floatValue());
        if (p.topP() != null) o = o.withTopP(p.topP().floatValue());
        if (p.topK() != null) o = o.withTopK(p.topK());
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) o = o.withStop(p.stopSequences());
        return o;
    }

    /** LangChain4j messages → the reference chat() view (system first; user turns, each answered by the next AI message). */
    static Conversation conversation(List<ChatMessage> messages) {
        StringBuilder system = null;
        List<Conversation.Turn> turns = new ArrayList<>();
        StringBuilder user = null;
        List<Conversation.Media> media = new ArrayList<>();
        for (ChatMessage m : messages) {
            switch (m) {
                case SystemMessage s -> system = system == null ? new StringBuilder(s.text()) : system.append('\n').append(s.text());
                case UserMessage u -> {
                    StringBuilder text = new StringBuilder();
                    for (Content c : u.contents()) {
                        if (c instanceof TextContent t) { if (!text.isEmpty()) text.append('\n'); text.append(t.text()); }
                        else if (c instanceof ImageContent i) media.add(new Conversation.Image(null, image(i)));
                        else throw new IllegalArgumentException("unsupported content " + c.type() + " (text and images only)");
                    }
                    user = user == null ? text : user.append('\n').append(text);
                }
                case AiMessage a -> {
                    if (user == null) throw new IllegalArgumentException("an AI message must follow a user message");
                    turns.add(new Conversation.Turn(user.toString(), List.copyOf(media), a.text() == null ? "" : a.text()));
                    user = null;
                    media = new ArrayList<>();
                }
                default -> throw new IllegalArgumentException("unsupported message type " + m.type());
            }
        }
        if (user == null) throw new IllegalArgumentException("the last message must be a user message");
        turns.add(new Conversation.Turn(user.toString(), List.copyOf(media), null));
        return new Conversation(system == null ? null : system.toString(), turns);
    }

    private static BufferedImage image(ImageContent c) {
        String b64 = c.image().base64Data();
        if (b64 == null) throw new IllegalArgumentException("images must carry base64 data (URLs are not fetched in-process)");
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(b64)));
            if (img == null) throw new IllegalArgumentException("the image data is not a supported image format");
            return img;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot decode the image: " + e.getMessage(), e);
        }
    }

    // both interfaces provide these defaults; one object serves both, so they are chosen here
    @Override
    public java.util.Set<dev.langchain4j.model.chat.Capability> supportedCapabilities() { return ChatModel.super.supportedCapabilities(); }

    @Override
    public ChatRequestParameters defaultRequestParameters() { return ChatModel.super.defaultRequestParameters(); }

    @Override
    public List<dev.langchain4j.model.chat.listener.ChatModelListener> listeners() { return ChatModel.super.listeners(); }

    @Override
    public dev.langchain4j.model.ModelProvider provider() { return ChatModel.super.provider(); }

    @Override
    public void close() { worker.shutdownNow(); }
}
