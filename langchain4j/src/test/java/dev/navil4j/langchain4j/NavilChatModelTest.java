package dev.navil4j.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.ProgressEvent;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The adapter on the InternVL3 fixture: answers equal the reference {@code chat()} responses of the fixture's cases
 * (cases.json, made with transformers; greedy) and the core API's answers for the same inputs — plain, multi-turn, with
 * an image (base64, data: and file: URLs), streamed, and through the builder's settings.
 */
class NavilChatModelTest {
    static final Path FIXTURE = Path.of("../fixtures/internvl3-tiny");
    static final Path MODEL = FIXTURE.resolve("model");
    static JsonNode cases;
    static NavilChatModel chat;

    @BeforeAll
    static void load() throws IOException {
        cases = new ObjectMapper().readTree(FIXTURE.resolve("cases.json").toFile()).path("cases");
        // the fixture cases generate 20 tokens greedily with at most 6 tiles per image
        chat = NavilChatModel.builder().modelPath(MODEL).maxNewTokens(20).maxTiles(6).build();
    }

    @AfterAll
    static void close() { if (chat != null) chat.close(); }

    static JsonNode find(String name) {
        for (JsonNode c : cases) if (c.path("name").asText().equals(name)) return c;
        throw new IllegalArgumentException(name);
    }

    static String expected(String name) { return find(name).path("expect").path("response").asText(); }

    static Path image(JsonNode c) { return FIXTURE.resolve(c.path("images").get(0).asText()); }

    @Test
    void textCaseWithMetadata() {
        JsonNode c = find("gen_text");
        ChatResponse r = chat.chat(ChatRequest.builder().messages(UserMessage.from(c.path("question").asText())).build());
        assertThat(r.aiMessage().text()).isEqualTo(expected("gen_text"));
        assertThat(r.metadata().modelName()).isEqualTo("model");       // the checkpoint directory's name
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);   // the case stops at max_new_tokens
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(20);
        // the prompt length: the reference prompt_ids of the case, counted by the core API on the same question
        Response core = chat.model().newSession().ask(new Request(c.path("question").asText(), List.of(),
                RequestOptions.defaults().withMaxNewTokens(20)));
        assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(core.promptTokens());
        assertThat(core.text()).isEqualTo(r.aiMessage().text());
        assertThat(chat.supportedCapabilities()).isEmpty();
        assertThat(chat.defaultRequestParameters().maxOutputTokens()).isEqualTo(20);
    }

    @Test
    void historyIsTheReferenceHistory() {
        JsonNode c = find("gen_text_round2");
        JsonNode h = c.path("history").get(0);
        ChatResponse r = chat.chat(UserMessage.from(h.get(0).asText()), AiMessage.from(h.get(1).asText()),
                UserMessage.from(c.path("question").asText()));
        assertThat(r.aiMessage().text()).isEqualTo(expected("gen_text_round2"));
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);     // this case stops on <|im_end|>
    }

    @Test
    void imageAsBase64DataUrlOrFileUrl() throws IOException {
        JsonNode c = find("gen_image");
        byte[] png = Files.readAllBytes(image(c));
        String b64 = Base64.getEncoder().encodeToString(png);
        String want = expected("gen_image");
        // the core API with the file, for the same inputs
        Response core = chat.model().newSession().ask(new Request(c.path("question").asText(), List.of(Media.image(image(c))),
                RequestOptions.defaults().withMaxNewTokens(20).withMaxTiles(6)));
        assertThat(core.text()).isEqualTo(want);
        for (ImageContent img : List.of(ImageContent.from(b64, "image/png"), ImageContent.from("data:image/png;base64," + b64),
                ImageContent.from(image(c).toAbsolutePath().toUri()))) {
            ChatResponse r = chat.chat(UserMessage.from(TextContent.from(c.path("question").asText()), img));
            assertThat(r.aiMessage().text()).as("%s", img.image()).isEqualTo(want);
            assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(core.promptTokens());
        }
        assertThatThrownBy(() -> chat.chat(UserMessage.from(TextContent.from("hi"), ImageContent.from("https://example.com/a.png"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allowRemoteImages");
    }

    @Test
    void streamingGivesTheSameAnswerInPieces() throws Exception {
        JsonNode c = find("gen_image");
        try (NavilStreamingChatModel streaming = chat.streaming()) {
            StringBuilder parts = new StringBuilder();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            List<String> pieces = new CopyOnWriteArrayList<>();
            streaming.chat(ChatRequest.builder().messages(UserMessage.from(TextContent.from(c.path("question").asText()),
                    ImageContent.from(image(c).toAbsolutePath().toUri()))).build(), new StreamingChatResponseHandler() {
                public void onPartialResponse(String s) { parts.append(s); pieces.add(s); }
                public void onCompleteResponse(ChatResponse r) { done.complete(r); }
                public void onError(Throwable t) { done.completeExceptionally(t); }
            });
            ChatResponse r = done.get(120, TimeUnit.SECONDS);
            assertThat(r.aiMessage().text()).isEqualTo(expected("gen_image"));
            assertThat(parts.toString()).isEqualTo(r.aiMessage().text());
            assertThat(pieces.size()).isGreaterThan(1);
            assertThat(r.metadata().modelName()).isEqualTo("model");
        }
        // closing the streaming view left the shared model open
        assertThat(chat.chat("Hello, who are you?")).isEqualTo(expected("gen_text"));
    }

    @Test
    void unsupportedFeaturesAreRefused() {
        assertThatThrownBy(() -> chat.chat(ChatRequest.builder().messages(UserMessage.from("hi"))
                .responseFormat(ResponseFormat.JSON).build())).isInstanceOf(UnsupportedFeatureException.class);
        assertThatThrownBy(() -> chat.chat(ChatRequest.builder().messages(AiMessage.from("hi")).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("user message");
    }

    @Test
    void closeClosesOnlyWhatTheBuilderLoaded() {
        List<ProgressEvent> events = new CopyOnWriteArrayList<>();
        NavilChatModel own = NavilChatModel.builder().model(MODEL.toString()).weights("q8").modelName("tiny").progress(events::add).build();
        assertThat(events).anyMatch(e -> e.stage() == ProgressEvent.Stage.LOAD && e.finished());
        assertThat(own.chat(ChatRequest.builder().messages(UserMessage.from("Hi")).maxOutputTokens(2).build()).metadata().modelName())
                .isEqualTo("tiny");
        assertThat(events).anyMatch(e -> e.stage() == ProgressEvent.Stage.PREFILL && e.finished());
        own.close();
        assertThatThrownBy(() -> own.model().newSession()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");

        try (dev.navil4j.ChatModel mine = Navil4j.load(MODEL)) {
            NavilChatModel wrapped = NavilChatModel.builder().chatModel(mine).build();
            assertThat(wrapped.chat(ChatRequest.builder().messages(UserMessage.from("Hi")).maxOutputTokens(2).build()).metadata().modelName())
                    .isEqualTo("internvl3");
            wrapped.close();
            assertThat(mine.newSession()).isNotNull();   // still open: the application closes it
        }
        assertThatThrownBy(() -> NavilChatModel.builder().build()).hasMessageContaining("modelPath");
    }
}
