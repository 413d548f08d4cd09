package dev.navil4j.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.VisionLanguageModel;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The adapter on the InternVL3 fixture: the reference chat() response of case gen_text, plain and streamed. */
class NavilChatModelTest {
    static final Path FIXTURE = Path.of("../fixtures/internvl3-tiny");

    @Test
    void textCaseMatchesTheReference() throws Exception {
        JsonNode gen = null;
        for (JsonNode c : new ObjectMapper().readTree(FIXTURE.resolve("cases.json").toFile()).path("cases"))
            if (c.path("name").asText().equals("gen_text")) gen = c;
        String expected = gen.path("expect").path("response").asText();
        try (VisionLanguageModel m = ModelRegistry.load(FIXTURE.resolve("model"), LoadOptions.defaults());
             NavilChatModel chat = new NavilChatModel(m)) {
            ChatRequest req = ChatRequest.builder().messages(UserMessage.from(gen.path("question").asText()))
                    .maxOutputTokens(gen.path("generation").path("max_new_tokens").asInt()).build();
            ChatResponse r = chat.chat(req);
            assertThat(r.aiMessage().text()).isEqualTo(expected);
            assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(20);
            StringBuilder parts = new StringBuilder();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            chat.chat(req, new StreamingChatResponseHandler() {
                public void onPartialResponse(String s) { parts.append(s); }
                public void onCompleteResponse(ChatResponse c) { done.complete(c); }
                public void onError(Throwable t) { done.completeExceptionally(t); }
            });
            assertThat(done.get().aiMessage().text()).isEqualTo(expected);
            assertThat(parts.toString().strip()).isEqualTo(expected);
        }
    }
}
