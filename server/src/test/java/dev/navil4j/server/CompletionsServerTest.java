package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code POST /v1/completions}: a raw prompt (no chat template), text in choices[].text, plain, streamed and n > 1. */
class CompletionsServerTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private OpenAiServer server;
    private FakeModel model;

    @AfterEach
    void stop() { if (server != null) server.close(); }

    private HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void rawPromptCompletion() throws Exception {
        model = new FakeModel(512, 0);
        server = OpenAiServer.start(model, ServerOptions.defaults("fake-model"), "127.0.0.1", 0);
        // the fake model echoes the text after the last "U:" of its prompt: here the raw prompt, not a template's
        String prompt = "U:raw text";
        HttpResponse<String> r = post("{\"model\":\"fake-model\",\"prompt\":" + ServerTest.quote(prompt) + ",\"n\":2,\"max_tokens\":50}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode o = ServerTest.JSON.readTree(r.body());
        assertThat(o.path("object").asText()).isEqualTo("text_completion");
        assertThat(o.path("choices").size()).isEqualTo(2);
        for (int i = 0; i < 2; i++) {
            assertThat(o.path("choices").get(i).path("text").asText()).isEqualTo("echo: raw text");
            assertThat(o.path("choices").get(i).path("index").asInt()).isEqualTo(i);
            assertThat(o.path("choices").get(i).path("finish_reason").asText()).isEqualTo("stop");
        }
        // the prompt's ids are its bytes: no template around it
        assertThat(o.path("usage").path("prompt_tokens").asInt()).isEqualTo(prompt.getBytes(StandardCharsets.UTF_8).length);
        assertThat(o.path("usage").path("completion_tokens").asInt()).isEqualTo(2 * ("echo: raw text".length() + 1));
        // streamed
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String ev : ServerTest.events(post("{\"prompt\":" + ServerTest.quote(prompt) + ",\"stream\":true}").body())) {
            if (ev.equals("[DONE]")) continue;
            JsonNode c = ServerTest.JSON.readTree(ev).path("choices").get(0);
            text.append(c.path("text").asText());
            if (!c.path("finish_reason").isNull()) finish = c.path("finish_reason").asText();
        }
        assertThat(text.toString()).isEqualTo("echo: raw text");
        assertThat(finish).isEqualTo("stop");
        // max_tokens and stop
        JsonNode cut = ServerTest.JSON.readTree(post("{\"prompt\":" + ServerTest.quote(prompt) + ",\"stop\":\" raw\"}").body());
        assertThat(cut.path("choices").get(0).path("text").asText()).isEqualTo("echo:");
        JsonNode len = ServerTest.JSON.readTree(post("{\"prompt\":" + ServerTest.quote(prompt) + ",\"max_tokens\":3}").body());
        assertThat(len.path("choices").get(0).path("text").asText()).isEqualTo("ech");
        assertThat(len.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
        // refused or invalid, each naming its field
        for (String[] bad : new String[][]{{"prompt", "[1,2,3]"}, {"prompt", "[\"a\",\"b\"]"}, {"prompt", "\"\""}, {"echo", "true"},
                {"best_of", "2"}, {"logprobs", "2"}, {"suffix", "\"x\""}, {"messages", "[]"}, {"temperature", "9"}, {"n", "0"}}) {
            String body = bad[0].equals("prompt") ? "{\"prompt\":" + bad[1] + "}" : "{\"prompt\":\"U:x\",\"" + bad[0] + "\":" + bad[1] + "}";
            HttpResponse<String> e = post(body);
            assertThat(e.statusCode()).as(body).isEqualTo(400);
            assertThat(ServerTest.JSON.readTree(e.body()).path("error").path("param").asText()).as(body).isEqualTo(bad[0]);
        }
        assertThat(post("{\"prompt\":\"U:x\",\"echo\":false,\"best_of\":1,\"suffix\":null,\"user\":\"u\"}").statusCode()).isEqualTo(200);
        assertThat(post("{\"model\":\"other\",\"prompt\":\"U:x\"}").statusCode()).isEqualTo(404);
        assertThat(post("{}").statusCode()).isEqualTo(400);
    }

    /** On fixture checkpoints: a raw job generates what the engine generates for the tokenized prompt alone. */
    @Test
    void rawJobsOnFixtureModelsEqualTheEngine() throws Exception {
        for (String fx : List.of("internvl3-tiny", "navil-internlm2-tiny", "vora-tiny")) {
            try (var m = dev.navil4j.models.ModelRegistry.load(java.nio.file.Path.of("fixtures", fx, "model"), dev.navil4j.models.LoadOptions.defaults());
                 Scheduler sched = new Scheduler(m, 2, 2, 8)) {
                String prompt = "The capital of France is";
                var expected = dev.navil4j.generate.Generator.generate(m,
                        dev.navil4j.models.PreparedPrompt.text(m.tokenizer().encode(prompt, true), prompt), m.defaultGeneration().withMaxNewTokens(8));
                var got = new java.util.concurrent.CompletableFuture<Scheduler.Completion>();
                sched.submit(Scheduler.Job.raw(prompt, dev.navil4j.RequestOptions.defaults().withMaxNewTokens(8), 1, java.time.Duration.ofMinutes(2),
                        new Scheduler.Sink() {
                            public void onText(String d) {}
                            public void onFinish(Scheduler.Completion c) { got.complete(c); }
                            public void onError(ApiException e) { got.completeExceptionally(e); }
                        }));
                Scheduler.Completion c = got.get(2, java.util.concurrent.TimeUnit.MINUTES);
                assertThat(c.rawText()).as(fx).isEqualTo(expected.rawText());
                assertThat(c.completionTokens()).as(fx).isEqualTo(expected.ids().length);
                assertThat(c.promptTokens()).as(fx).isEqualTo(m.tokenizer().encode(prompt, true).length);
            }
        }
    }
}
