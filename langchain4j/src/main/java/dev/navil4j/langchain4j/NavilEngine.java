package dev.navil4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.chat.Conversation;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What both adapters share: the loaded model (and whether closing is theirs), the reported name, the request defaults,
 * and the mapping of a LangChain4j request onto a navil4j session (system messages, answered turns as the history,
 * the last user message as the question) and of the {@link Response} back.
 */
final class NavilEngine {
    final dev.navil4j.ChatModel model;
    final boolean owned;
    final String modelName;
    final RequestOptions defaults;
    private final ImageResolver images;

    NavilEngine(dev.navil4j.ChatModel model, boolean owned, String modelName, RequestOptions defaults, ImageResolver images) {
        this.model = model;
        this.owned = owned;
        this.modelName = modelName;
        this.defaults = defaults;
        this.images = images;
    }

    /** The builder's defaults as LangChain4j request parameters (LangChain4j merges a request's own over them). */
    ChatRequestParameters defaultParameters() {
        var b = ChatRequestParameters.builder().modelName(modelName);
        if (defaults.temperature() != null) b.temperature(defaults.temperature().doubleValue());
        if (defaults.topP() != null) b.topP(defaults.topP().doubleValue());
        if (defaults.topK() != null) b.topK(defaults.topK());
        if (defaults.maxNewTokens() != null) b.maxOutputTokens(defaults.maxNewTokens());
        if (defaults.stop() != null) b.stopSequences(defaults.stop());
        return b.build();
    }

    /** Answers the request; {@code onText} (may be null) receives the answer's text as it is generated, exactly the final text. */
    ChatResponse chat(ChatRequest request, Consumer<String> onText) {
        RequestOptions options = defaults.overriddenBy(options(request.parameters()));
        Question q = question(request.messages());
        Response r = model.newSession(q.system, q.history)
                .stream(new Request(q.text, q.media, options), onText == null ? null : model.cleanStream(onText));
        return ChatResponse.builder()
                .aiMessage(AiMessage.from(r.text()))
                .modelName(modelName)
                .tokenUsage(new TokenUsage(r.promptTokens(), r.generatedTokens()))
                .finishReason(switch (r.finish()) {
                    case STOP -> FinishReason.STOP;
                    case LENGTH -> FinishReason.LENGTH;
                    case CANCELLED -> FinishReason.OTHER;
                })
                .build();
    }

    /** LangChain4j request parameters as request options; what the engine cannot do is refused, not ignored. */
    static RequestOptions options(ChatRequestParameters p) {
        RequestOptions o = RequestOptions.defaults();
        if (p == null) return o;
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty())
            throw new UnsupportedFeatureException("navil4j models do not call tools");
        if (p.responseFormat() != null && p.responseFormat().type() == ResponseFormatType.JSON)
            throw new UnsupportedFeatureException("navil4j's LangChain4j adapter has no JSON response format (structured output is "
                    + "offered by the OpenAI-compatible server); AiServices asks for JSON in the prompt instead");
        if (p.maxOutputTokens() != null) o = o.withMaxNewTokens(p.maxOutputTokens());
        if (p.temperature() != null) o = o.withTemperature(p.temperature().floatValue());
        if (p.topP() != null) o = o.withTopP(p.topP().floatValue());
        if (p.topK() != null) o = o.withTopK(p.topK());
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) o = o.withStop(p.stopSequences());
        if (p.presencePenalty() != null || p.frequencyPenalty() != null)
            o = o.withPenalties(p.presencePenalty() == null ? 0f : p.presencePenalty().floatValue(),
                    p.frequencyPenalty() == null ? 0f : p.frequencyPenalty().floatValue());
        return o;
    }

    /** A chat as the reference chat() takes it: system, answered turns (each with its images), the new question. */
    record Question(String system, List<Conversation.Turn> history, String text, List<Conversation.Media> media) {}

    Question question(List<ChatMessage> messages) {
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
                        else if (c instanceof ImageContent i) media.add(images.resolve(i));
                        else throw new UnsupportedFeatureException("content of type " + c.type() + " is not supported (text and images only)");
                    }
                    // consecutive user messages form one turn, as one user message with their texts joined
                    user = user == null ? text : user.append('\n').append(text);
                }
                case AiMessage a -> {
                    if (a.hasToolExecutionRequests()) throw new UnsupportedFeatureException("navil4j models do not call tools");
                    if (user == null) throw new IllegalArgumentException("an AI message must follow a user message");
                    turns.add(new Conversation.Turn(user.toString(), List.copyOf(media), a.text() == null ? "" : a.text()));
                    user = null;
                    media = new ArrayList<>();
                }
                default -> throw new UnsupportedFeatureException("messages of type " + m.type() + " are not supported");
            }
        }
        if (user == null) throw new IllegalArgumentException("the last message must be a user message");
        return new Question(system == null ? null : system.toString(), turns, user.toString(), List.copyOf(media));
    }

    ImageResolver images() { return images; }

    void close() { if (owned) model.close(); }
}
