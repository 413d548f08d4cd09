package dev.navil4j.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.Result;
import dev.langchain4j.service.TokenStream;
import dev.langchain4j.service.UserMessage;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * LangChain4j's own {@link AiServices} over the adapter on the InternVL3 fixture: a plain question, an image question
 * and a streamed {@link TokenStream} give what the core API gives for the same inputs, which are the reference chat()
 * responses of the fixture's cases (greedy, 20 new tokens, at most 6 tiles).
 */
class AiServicesTest {
    static final Path FIXTURE = Path.of("../fixtures/internvl3-tiny");

    interface Assistant {
        @UserMessage("{{it}}")
        String ask(String question);

        Result<String> askWithImage(@UserMessage String question, @UserMessage ImageContent image);

        TokenStream stream(@UserMessage String question);
    }

    static JsonNode cases;
    static dev.navil4j.ChatModel core;
    static NavilChatModel chat;
    static NavilStreamingChatModel streaming;
    static Assistant assistant;

    @BeforeAll
    static void load() throws IOException {
        cases = new ObjectMapper().readTree(FIXTURE.resolve("cases.json").toFile()).path("cases");
        core = Navil4j.load(FIXTURE.resolve("model"));
        // one loaded model behind both adapters; the application closes it
        chat = NavilChatModel.builder().chatModel(core).maxNewTokens(20).maxTiles(6).build();
        streaming = NavilStreamingChatModel.builder().chatModel(core).maxNewTokens(20).maxTiles(6).build();
        assistant = AiServices.builder(Assistant.class).chatModel(chat).streamingChatModel(streaming).build();
    }

    @AfterAll
    static void close() {
        if (streaming != null) streaming.close();
        if (core != null) core.close();
    }

    static JsonNode find(String name) {
        for (JsonNode c : cases) if (c.path("name").asText().equals(name)) return c;
        throw new IllegalArgumentException(name);
    }

    static String coreAnswer(String question, dev.navil4j.chat.Conversation.Media... media) {
        return core.newSession().ask(new Request(question, List.of(media), RequestOptions.defaults().withMaxNewTokens(20).withMaxTiles(6))).text();
    }

    @Test
    void plainQuestion() {
        JsonNode c = find("gen_text");
        String q = c.path("question").asText();
        String answer = assistant.ask(q);
        assertThat(answer).isEqualTo(c.path("expect").path("response").asText()).isEqualTo(coreAnswer(q));
    }

    @Test
    void imageQuestion() throws IOException {
        JsonNode c = find("gen_image");
        Path png = FIXTURE.resolve(c.path("images").get(0).asText());
        String q = c.path("question").asText();
        Result<String> r = assistant.askWithImage(q, ImageContent.from(Base64.getEncoder().encodeToString(Files.readAllBytes(png)), "image/png"));
        assertThat(r.content()).isEqualTo(c.path("expect").path("response").asText()).isEqualTo(coreAnswer(q, Media.image(png)));
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);   // the case stops on <|im_end|>
        // generated tokens: the reference's generated ids (expected.safetensors), stop token included
        try (dev.navil4j.verify.Fixture f = new dev.navil4j.verify.Fixture(FIXTURE)) {
            assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(f.ints(c.path("expect").path("generated_ids")).length);
            assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(f.ints(c.path("expect").path("prompt_ids")).length);
        }
    }

    @Test
    void tokenStream() throws Exception {
        JsonNode c = find("gen_text");
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        assistant.stream(c.path("question").asText())
                .onPartialResponse(parts::append)
                .onCompleteResponse(done::complete)
                .onError(done::completeExceptionally)
                .start();
        ChatResponse r = done.get(120, TimeUnit.SECONDS);
        assertThat(r.aiMessage().text()).isEqualTo(c.path("expect").path("response").asText());
        assertThat(parts.toString()).isEqualTo(r.aiMessage().text());
        assertThat(r.metadata().modelName()).isEqualTo("internvl3");
    }
}
