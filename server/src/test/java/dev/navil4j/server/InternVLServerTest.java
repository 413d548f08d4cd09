package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server against the InternVL3 fixture: every {@code generate} case of fixtures/internvl3-tiny sent as an
 * OpenAI chat request (history as earlier messages, images as data: URIs) must answer the reference
 * PyTorch chat() response with the reference token counts — one at a time, streamed, and all at once
 * (continuous batching must not change any sequence's result).
 */
class InternVLServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path FIXTURE = Path.of("fixtures/internvl3-tiny");
    static Fixture fixture;
    static VisionLanguageModel model;
    static OpenAiServer server;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        fixture = new Fixture(FIXTURE);
        model = ModelRegistry.load(FIXTURE.resolve("model"), LoadOptions.defaults());
        server = OpenAiServer.start(model, ServerOptions.defaults("internvl3-tiny").withScheduling(8, 16,
                java.time.Duration.ofMinutes(5)), "127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (model != null) model.close();
        if (fixture != null) fixture.close();
    }

    static List<JsonNode> generateCases() {
        return fixture.cases().stream().filter(c -> c.path("kind").asText().equals("generate")).toList();
    }

    /** The case as an OpenAI request: images go with the first turn that has an {@code <image>} placeholder, else the question. */
    static String request(JsonNode c, boolean stream) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", "internvl3-tiny");
        body.put("max_tokens", c.path("generation").path("max_new_tokens").asInt());
        body.put("temperature", 0);
        body.put("max_tiles", c.path("params").path("max_num").asInt(12));
        if (stream) body.put("stream", true).putObject("stream_options").put("include_usage", true);
        ArrayNode msgs = body.putArray("messages");
        List<String> questions = new ArrayList<>();
        for (JsonNode h : c.path("history")) questions.add(h.get(0).asText());
        questions.add(c.path("question").asText());
        int imageTurn = questions.size() - 1;
        for (int i = 0; i < questions.size(); i++) if (questions.get(i).contains("<image>")) { imageTurn = i; break; }
        for (int i = 0; i < questions.size(); i++) {
            ObjectNode u = msgs.addObject().put("role", "user");
            ArrayNode parts = u.putArray("content");
            parts.addObject().put("type", "text").put("text", questions.get(i));
            if (i == imageTurn) for (JsonNode img : c.path("images")) {
                byte[] b = Files.readAllBytes(fixture.resolve(img.asText()));
                String mime = img.asText().endsWith(".png") ? "image/png" : "image/jpeg";
                parts.addObject().put("type", "image_url").putObject("image_url")
                        .put("url", "data:" + mime + ";base64," + Base64.getEncoder().encodeToString(b));
            }
            if (i < questions.size() - 1)
                msgs.addObject().put("role", "assistant").put("content", c.path("history").get(i).get(1).asText());
        }
        return JSON.writeValueAsString(body);
    }

    static CompletableFuture<HttpResponse<String>> send(String body) {
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    void check(JsonNode c, HttpResponse<String> r) throws Exception {
        String name = c.path("name").asText();
        assertThat(r.statusCode()).as(name + ": " + r.body()).isEqualTo(200);
        JsonNode o = JSON.readTree(r.body());
        int[] promptIds = fixture.ints(c.path("expect").path("prompt_ids"));
        int[] generated = fixture.ints(c.path("expect").path("generated_ids"));
        assertThat(o.path("choices").get(0).path("message").path("content").asText()).as(name)
                .isEqualTo(c.path("expect").path("response").asText());
        assertThat(o.path("usage").path("prompt_tokens").asInt()).as(name).isEqualTo(promptIds.length);
        assertThat(o.path("usage").path("completion_tokens").asInt()).as(name).isEqualTo(generated.length);
        assertThat(o.path("choices").get(0).path("finish_reason").asText()).as(name)
                .isEqualTo(c.path("stop").asText().equals("eos") ? "stop" : "length");
    }

    @Test
    void eachGenerateCaseMatchesTheReference() throws Exception {
        for (JsonNode c : generateCases()) check(c, send(request(c, false)).get());
    }

    @Test
    void allCasesAtOnceMatchTheReference() throws Exception {
        List<JsonNode> cases = generateCases();
        // a long answer already running, so the cases join its batch (prompts are prepared beside the running stream,
        // so on this tiny model short cases alone rarely overlap); random weights may stop early, so a few tries
        for (int attempt = 0; attempt < 5 && server.scheduler().maxActiveSeen() < 2; attempt++) {
            CompletableFuture<HttpResponse<String>> running = send("{\"messages\":[{\"role\":\"user\",\"content\":\"Count to "
                    + (1000 + attempt) + ".\"}],\"max_tokens\":2000,\"temperature\":0}");
            while (server.scheduler().active() == 0 && !running.isDone()) Thread.sleep(1);
            List<CompletableFuture<HttpResponse<String>>> rs = new ArrayList<>();
            for (JsonNode c : cases) rs.add(send(request(c, false)));
            for (int i = 0; i < cases.size(); i++) check(cases.get(i), rs.get(i).get());
            assertThat(running.get().statusCode()).isEqualTo(200);
        }
        assertThat(server.scheduler().maxActiveSeen()).isGreaterThanOrEqualTo(2);
    }

    /** The video_url extension: the fixture's mp4 as a data: URI, 8 frames, as the reference video chat. */
    @Test
    void videoCasesMatchTheReference() throws Exception {
        try (Fixture video = new Fixture(Path.of("fixtures/internvl3-video"))) {
            for (JsonNode c : video.cases()) {
                if (!c.path("kind").asText().equals("generate")) continue;
                ObjectNode body = JSON.createObjectNode();
                body.put("max_tokens", c.path("generation").path("max_new_tokens").asInt());
                body.put("max_tiles", 1);
                ArrayNode msgs = body.putArray("messages");
                String mp4 = "data:video/mp4;base64," + Base64.getEncoder().encodeToString(
                        Files.readAllBytes(video.resolve(c.path("video").asText())));
                List<String> questions = new ArrayList<>();
                for (JsonNode h : c.path("history")) questions.add(h.get(0).asText());
                questions.add(c.path("question").asText());
                for (int i = 0; i < questions.size(); i++) {
                    ArrayNode parts = msgs.addObject().put("role", "user").putArray("content");
                    parts.addObject().put("type", "text").put("text", questions.get(i));
                    if (i == 0) parts.addObject().put("type", "video_url").putObject("video_url").put("url", mp4)
                            .put("num_frames", c.path("num_segments").asInt());
                    if (i < questions.size() - 1)
                        msgs.addObject().put("role", "assistant").put("content", c.path("history").get(i).get(1).asText());
                }
                HttpResponse<String> r = send(JSON.writeValueAsString(body)).get();
                String name = c.path("name").asText();
                assertThat(r.statusCode()).as(name + ": " + r.body()).isEqualTo(200);
                JsonNode o = JSON.readTree(r.body());
                assertThat(o.path("choices").get(0).path("message").path("content").asText()).as(name)
                        .isEqualTo(c.path("expect").path("response").asText());
                assertThat(o.path("usage").path("prompt_tokens").asInt()).as(name)
                        .isEqualTo(video.ints(c.path("expect").path("prompt_ids")).length);
            }
        }
    }

    @Test
    void streamedTextAndUsageMatchTheReference() throws Exception {
        JsonNode c = generateCases().getFirst();
        HttpResponse<String> r = send(request(c, true)).get();
        assertThat(r.statusCode()).isEqualTo(200);
        StringBuilder text = new StringBuilder();
        JsonNode usage = null;
        for (String block : r.body().split("\n\n")) {
            String data = block.substring("data: ".length());
            if (data.equals("[DONE]")) break;
            JsonNode e = JSON.readTree(data);
            if (e.path("usage").isObject()) usage = e.path("usage");
            else text.append(e.path("choices").get(0).path("delta").path("content").asText(""));
        }
        // streamed deltas are the raw decoded text; the non-streamed content is additionally strip()ped as chat() does
        assertThat(text.toString().strip()).isEqualTo(c.path("expect").path("response").asText());
        assertThat(usage.path("completion_tokens").asInt()).isEqualTo(fixture.ints(c.path("expect").path("generated_ids")).length);
    }
}
