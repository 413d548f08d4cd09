package dev.navil4j.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import com.openai.models.models.Model;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The official OpenAI Java SDK against the server (fake model): text, image, streaming, errors. */
class OpenAiClientTest {
    OpenAiServer server;
    OpenAIClient client;

    @BeforeEach
    void start() {
        server = OpenAiServer.start(new FakeModel(512, 0), ServerOptions.defaults("fake-model"), "127.0.0.1", 0);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1")
                .apiKey("not-needed").maxRetries(0).build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void text() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake-model").addSystemMessage("be nice").addUserMessage("hello SDK").maxCompletionTokens(100).build());
        assertThat(c.choices().getFirst().message().content()).contains("echo: hello SDK");
        assertThat(c.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo("echo: hello SDK".length() + 1);
        assertThat(c.model()).isEqualTo("fake-model");
        List<String> ids = new ArrayList<>();
        for (Model m : client.models().list().data()) ids.add(m.id());
        assertThat(ids).containsExactly("fake-model");
    }

    @Test
    void image() throws Exception {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake-model")
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("what is this").build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                                ChatCompletionContentPartImage.ImageUrl.builder().url(ServerTest.png(6, 4)).build()).build())))
                .build());
        assertThat(c.choices().getFirst().message().content()).contains("echo: what is this [img 6x4]");
    }

    @Test
    void streaming() {
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("fake-model").addUserMessage("stream it")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        StringBuilder text = new StringBuilder();
        List<String> finish = new ArrayList<>();
        long[] completionTokens = {-1};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(chunk -> {
                chunk.choices().forEach(ch -> {
                    ch.delta().content().ifPresent(text::append);
                    ch.finishReason().ifPresent(f -> finish.add(f.asString()));
                });
                chunk.usage().ifPresent(u -> completionTokens[0] = u.completionTokens());
            });
        }
        assertThat(text.toString()).isEqualTo("echo: stream it");
        assertThat(finish).containsExactly("stop");
        assertThat(completionTokens[0]).isEqualTo("echo: stream it".length() + 1);
    }

    /** The SDK's structured-output helper (a Java class → strict JSON schema → typed result) on a random-weight model. */
    public static class Step {
        public String explanation;
        public String output;
    }

    public static class MathReasoning {
        public List<Step> steps;
        public String finalAnswer;
        public boolean confident;
    }

    @Test
    void structuredOutputWithTheSdkHelper() {
        try (var fixture = dev.navil4j.models.ModelRegistry.load(java.nio.file.Path.of("fixtures/internvl3-tiny/model"), dev.navil4j.models.LoadOptions.defaults());
             OpenAiServer s = OpenAiServer.start(fixture, ServerOptions.defaults("internvl3-tiny"), "127.0.0.1", 0)) {
            OpenAIClient c = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + s.port() + "/v1").apiKey("x").maxRetries(0).build();
            try {
                for (long seed = 1; seed <= 3; seed++) {
                    StructuredChatCompletionCreateParams<MathReasoning> p = ChatCompletionCreateParams.builder().model("internvl3-tiny")
                            .addUserMessage("solve 8x + 7 = -23").responseFormat(MathReasoning.class).maxCompletionTokens(400)
                            .temperature(1.0).seed(seed).build();
                    // the SDK parses the content into the class: it throws if the JSON does not fit
                    MathReasoning r = c.chat().completions().create(p).choices().getFirst().message().content().orElseThrow();
                    assertThat(r.steps).isNotNull();
                    assertThat(r.finalAnswer).isNotNull();
                }
            } finally {
                c.close();
            }
        }
    }

    @Test
    void errorsSurfaceAsSdkExceptions() {
        assertThatThrownBy(() -> client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake-model").addUserMessage("x").maxCompletionTokens(100_000).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("context");
    }
}
