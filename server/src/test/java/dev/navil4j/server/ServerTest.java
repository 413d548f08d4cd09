package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The OpenAI-compatible server against {@link FakeModel}: API shapes, streaming, batching, limits, shutdown. */
class ServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    OpenAiServer server;
    FakeModel model;

    void start(FakeModel m, ServerOptions o) {
        model = m;
        server = OpenAiServer.start(m, o, "127.0.0.1", 0);
    }

    void start() { start(new FakeModel(512, 0), ServerOptions.defaults("fake-model")); }

    @AfterEach
    void stop() { if (server != null) server.close(); }

    String url(String path) { return "http://127.0.0.1:" + server.port() + path; }

    HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static String user(String text) {
        return "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":" + quote(text) + "}]";
    }

    static String quote(String s) {
        try { return JSON.writeValueAsString(s); } catch (Exception e) { throw new RuntimeException(e); }
    }

    /** The data: payloads of an SSE response. */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isBlank()) continue;
            assertThat(block).startsWith("data: ");
            out.add(block.substring(6));
        }
        return out;
    }

    static String png(int w, int h) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xff0000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
    }

    @Test
    void modelsAndHealth() throws Exception {
        start();
        JsonNode models = JSON.readTree(get("/v1/models").body());
        assertThat(models.path("object").asText()).isEqualTo("list");
        assertThat(models.path("data").get(0).path("id").asText()).isEqualTo("fake-model");
        assertThat(get("/v1/models/fake-model").statusCode()).isEqualTo(200);
        HttpResponse<String> missing = get("/v1/models/other");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(missing.body()).path("error").path("code").asText()).isEqualTo("model_not_found");
        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(health.body()).path("status").asText()).isEqualTo("ok");
        HttpResponse<String> nowhere = get("/v1/nowhere");
        assertThat(nowhere.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(nowhere.body()).path("error").path("message").asText()).contains("/v1/nowhere");
    }

    @Test
    void completionWithUsage() throws Exception {
        start();
        HttpResponse<String> r = post(user("héllo wörld") + "}");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode o = JSON.readTree(r.body());
        assertThat(o.path("object").asText()).isEqualTo("chat.completion");
        JsonNode choice = o.path("choices").get(0);
        assertThat(choice.path("message").path("role").asText()).isEqualTo("assistant");
        assertThat(choice.path("message").path("content").asText()).isEqualTo("echo: héllo wörld");
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        int promptBytes = "U:héllo wörld".getBytes(StandardCharsets.UTF_8).length;
        int answerBytes = "echo: héllo wörld".getBytes(StandardCharsets.UTF_8).length;
        assertThat(o.path("usage").path("prompt_tokens").asInt()).isEqualTo(promptBytes);
        assertThat(o.path("usage").path("completion_tokens").asInt()).isEqualTo(answerBytes + 1); // + end of text
        assertThat(o.path("usage").path("total_tokens").asInt()).isEqualTo(promptBytes + answerBytes + 1);
    }

    @Test
    void conversationWithSystemHistoryAndImages() throws Exception {
        start();
        String body = "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                + "{\"role\":\"user\",\"content\":\"first\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + png(3, 2) + "\"}},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + png(5, 7) + "\",\"detail\":\"high\"}}]}]}";
        HttpResponse<String> r = post(body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode o = JSON.readTree(r.body());
        assertThat(o.path("choices").get(0).path("message").path("content").asText()).isEqualTo("echo: look [img 3x2] [img 5x7]");
        String prompt = "S:be brief\nU:first\nA:ok\nU:look<img><img>";
        assertThat(o.path("usage").path("prompt_tokens").asInt()).isEqualTo(prompt.length());
    }

    @Test
    void streamingMatchesNonStreaming() throws Exception {
        start();
        String text = "stream ✓ me";
        HttpResponse<String> r = post(user(text) + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        List<String> ev = events(r.body());
        assertThat(ev.getLast()).isEqualTo("[DONE]");
        StringBuilder content = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        JsonNode first = JSON.readTree(ev.getFirst());
        assertThat(first.path("choices").get(0).path("delta").path("role").asText()).isEqualTo("assistant");
        for (String e : ev.subList(0, ev.size() - 1)) {
            JsonNode c = JSON.readTree(e);
            assertThat(c.path("object").asText()).isEqualTo("chat.completion.chunk");
            if (c.path("usage").isObject()) { usage = c.path("usage"); assertThat(c.path("choices")).isEmpty(); continue; }
            JsonNode ch = c.path("choices").get(0);
            content.append(ch.path("delta").path("content").asText(""));
            if (!ch.path("finish_reason").isNull()) finish = ch.path("finish_reason").asText();
        }
        assertThat(finish).isEqualTo("stop");
        assertThat(content.toString()).isEqualTo("echo: " + text);
        JsonNode plain = JSON.readTree(post(user(text) + "}").body());
        assertThat(content.toString()).isEqualTo(plain.path("choices").get(0).path("message").path("content").asText());
        assertThat(usage).isEqualTo(plain.path("usage"));
        // without stream_options no usage chunk
        for (String e : events(post(user(text) + ",\"stream\":true}").body()))
            if (!e.equals("[DONE]")) assertThat(JSON.readTree(e).has("usage")).isFalse();
    }

    @Test
    void maxTokensStopSequencesAndSeed() throws Exception {
        start();
        JsonNode o = JSON.readTree(post(user("abcdef") + ",\"max_tokens\":4}").body());
        assertThat(o.path("choices").get(0).path("message").path("content").asText()).isEqualTo("echo");
        assertThat(o.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
        assertThat(o.path("usage").path("completion_tokens").asInt()).isEqualTo(4);
        o = JSON.readTree(post(user("abcdef") + ",\"max_completion_tokens\":5}").body());
        assertThat(o.path("usage").path("completion_tokens").asInt()).isEqualTo(5);
        // stop sequences: output ends before the first one, even when it spans several tokens
        o = JSON.readTree(post(user("one two three") + ",\"stop\":[\"three\",\"tw\"]}").body());
        assertThat(o.path("choices").get(0).path("message").path("content").asText()).isEqualTo("echo: one");
        assertThat(o.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        List<String> ev = events(post(user("one two three") + ",\"stop\":\"two\",\"stream\":true}").body());
        StringBuilder s = new StringBuilder();
        for (String e : ev) if (!e.equals("[DONE]")) s.append(JSON.readTree(e).path("choices").get(0).path("delta").path("content").asText(""));
        assertThat(s.toString()).isEqualTo("echo: one ");
        // sampling: the same seed gives the same text, and high temperature departs from greedy
        String req = user("sampling test") + ",\"temperature\":2.0,\"top_p\":0.99,\"seed\":7,\"max_tokens\":20}";
        String a = JSON.readTree(post(req).body()).path("choices").get(0).path("message").path("content").asText();
        String b = JSON.readTree(post(req).body()).path("choices").get(0).path("message").path("content").asText();
        assertThat(a).isEqualTo(b).isNotEqualTo("echo: sampling test");
        o = JSON.readTree(post(user("greedy") + ",\"temperature\":0}").body());
        assertThat(o.path("choices").get(0).path("message").path("content").asText()).isEqualTo("echo: greedy");
    }

    @Test
    void contextLimit() throws Exception {
        start(new FakeModel(40, 0), ServerOptions.defaults("fake-model"));
        HttpResponse<String> r = post(user("hello") + ",\"max_tokens\":100}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("context_length_exceeded");
        r = post(user("x".repeat(60)) + "}");
        assertThat(r.statusCode()).isEqualTo(400);
        r = post(user("x".repeat(60)) + ",\"stream\":true}");
        assertThat(r.statusCode()).isEqualTo(400); // streaming errors before the first token keep their status
        // without max_tokens the completion is capped by the remaining context: LOOP never stops
        JsonNode o = JSON.readTree(post(user("LOOP") + "}").body());
        assertThat(o.path("usage").path("total_tokens").asInt()).isEqualTo(40);
        assertThat(o.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
    }

    /**
     * A long prompt arriving while a stream decodes is prefilled in chunks of at most the scheduler's prefill chunk,
     * each chunk in the same forward step as the running stream's next token: the stream keeps producing tokens.
     */
    @Test
    void longPromptIsPrefilledInChunksBesideRunningDecodes() throws Exception {
        start(new FakeModel(4096, 1), ServerOptions.defaults("fake-model"));
        CompletableFuture<HttpResponse<String>> stream = http.sendAsync(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(user("LOOP") + ",\"max_tokens\":600}")).build(),
                HttpResponse.BodyHandlers.ofString());
        while (server.scheduler().active() == 0) Thread.sleep(2);
        String longText = "x".repeat(400);
        HttpResponse<String> r = post(user(longText) + ",\"max_tokens\":3}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("choices").get(0).path("message").path("content").asText()).isEqualTo("ech");
        assertThat(stream.get().statusCode()).isEqualTo(200);
        List<int[]> steps = List.copyOf(model.steps);
        int mixed = 0, chunk = Scheduler.DEFAULT_PREFILL_CHUNK;
        for (int[] st : steps) {
            if (st[1] > 0) assertThat(st[0]).as("prompt rows in a step with a running stream").isLessThanOrEqualTo(chunk);
            if (st[0] > 0 && st[1] > 0) mixed++;
        }
        assertThat(mixed).as("steps holding a prompt chunk and a decoded token").isGreaterThanOrEqualTo(400 / chunk);
    }

    /** A repeated request starts from the cached KV of the first: its prompt is not recomputed, its answer the same. */
    @Test
    void repeatedPromptReusesTheCachedPrefix() throws Exception {
        start(new FakeModel(4096, 0), ServerOptions.defaults("fake-model"));
        String body = "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"system\",\"content\":" + quote("s".repeat(200)) + "},"
                + "{\"role\":\"user\",\"content\":\"hello there\"}]}";
        JsonNode a = JSON.readTree(post(body).body());
        int before = model.steps.stream().mapToInt(x -> x[0]).sum();
        JsonNode b = JSON.readTree(post(body).body());
        int prefilled = model.steps.stream().mapToInt(x -> x[0]).sum() - before;
        assertThat(b.path("choices").get(0).path("message").path("content").asText())
                .isEqualTo(a.path("choices").get(0).path("message").path("content").asText()).isEqualTo("echo: hello there");
        assertThat(prefilled).as("prompt rows recomputed").isEqualTo(1);
        JsonNode h = JSON.readTree(get("/health").body());
        assertThat(h.path("prefix_cache").path("hits").asInt()).isEqualTo(1);
        assertThat(h.path("prefix_cache").path("reused_tokens").asInt()).isEqualTo(a.path("usage").path("prompt_tokens").asInt() - 1);
    }

    /** A request that arrives while another decodes joins the running batch and may finish first. */
    @Test
    void continuousBatching() throws Exception {
        start(new FakeModel(4096, 3), ServerOptions.defaults("fake-model"));
        CompletableFuture<HttpResponse<String>> longOne = http.sendAsync(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(user("LOOP") + ",\"max_tokens\":300}")).build(),
                HttpResponse.BodyHandlers.ofString());
        while (server.scheduler().active() == 0) Thread.sleep(5);
        HttpResponse<String> shortOne = post(user("quick") + "}");
        assertThat(shortOne.statusCode()).isEqualTo(200);
        assertThat(longOne).isNotDone(); // the short request did not wait for the long one
        assertThat(server.scheduler().maxActiveSeen()).isGreaterThanOrEqualTo(2);
        // both sequences were decoded in alternation while both were active
        List<Integer> log = List.copyOf(model.decodeLog);
        int switches = 0;
        for (int i = 1; i < log.size(); i++) if (!log.get(i).equals(log.get(i - 1))) switches++;
        assertThat(switches).isGreaterThanOrEqualTo(2 * ("echo: quick".length() - 1));
        JsonNode o = JSON.readTree(longOne.get().body());
        assertThat(o.path("usage").path("completion_tokens").asInt()).isEqualTo(300);
        assertThat(o.path("choices").get(0).path("message").path("content").asText()).isEqualTo("ab".repeat(150));
    }

    @Test
    void fullQueueAnswers429WithRetryAfter() throws Exception {
        start(new FakeModel(4096, 5), ServerOptions.defaults("fake-model").withScheduling(1, 1, Duration.ofMinutes(1)));
        List<CompletableFuture<HttpResponse<String>>> rs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            rs.add(http.sendAsync(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(user("LOOP") + ",\"max_tokens\":40}")).build(),
                    HttpResponse.BodyHandlers.ofString()));
            while (server.scheduler().inFlight() <= i) Thread.sleep(2);
        }
        HttpResponse<String> rejected = post(user("LOOP") + ",\"max_tokens\":40}");
        assertThat(rejected.statusCode()).isEqualTo(429);
        assertThat(rejected.headers().firstValue("Retry-After")).contains("1");
        assertThat(JSON.readTree(rejected.body()).path("error").path("type").asText()).isEqualTo("rate_limit_exceeded");
        for (var r : rs) assertThat(r.get().statusCode()).isEqualTo(200);
        assertThat(post(user("after") + "}").statusCode()).isEqualTo(200);
    }

    @Test
    void requestTimeout() throws Exception {
        start(new FakeModel(100_000, 2), ServerOptions.defaults("fake-model").withScheduling(4, 4, Duration.ofMillis(300)));
        HttpResponse<String> r = post(user("LOOP") + ",\"max_tokens\":50000}");
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("request_timeout");
        waitIdle();
    }

    @Test
    void clientDisconnectCancelsAndFrees() throws Exception {
        start(new FakeModel(100_000, 2), ServerOptions.defaults("fake-model"));
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(user("LOOP") + ",\"max_tokens\":50000,\"stream\":true}")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        assertThat(in.readLine()).startsWith("data: ");
        assertThat(server.scheduler().active()).isEqualTo(1);
        assertThat(server.scheduler().activeBytes()).isPositive();
        in.close(); // the client goes away mid-stream
        waitIdle();
        int decodedAtCancel = model.decodeLog.size();
        assertThat(decodedAtCancel).isLessThan(10_000);
        assertThat(server.scheduler().activeBytes()).isZero();
    }

    @Test
    void gracefulShutdownFinishesInFlight() throws Exception {
        start(new FakeModel(4096, 5), ServerOptions.defaults("fake-model").withShutdownGrace(Duration.ofSeconds(20)));
        CompletableFuture<HttpResponse<String>> r = http.sendAsync(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(user("LOOP") + ",\"max_tokens\":60}")).build(),
                HttpResponse.BodyHandlers.ofString());
        while (server.scheduler().active() == 0) Thread.sleep(2);
        server.close();
        HttpResponse<String> done = r.get();
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(done.body()).path("usage").path("completion_tokens").asInt()).isEqualTo(60);
        server = null;
    }

    @Test
    void shutdownCancelsWhatExceedsTheGrace() throws Exception {
        start(new FakeModel(100_000, 5), ServerOptions.defaults("fake-model").withShutdownGrace(Duration.ofMillis(100)));
        CompletableFuture<HttpResponse<String>> r = http.sendAsync(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(user("LOOP") + ",\"max_tokens\":50000}")).build(),
                HttpResponse.BodyHandlers.ofString());
        while (server.scheduler().active() == 0) Thread.sleep(2);
        server.close();
        server = null;
        HttpResponse<String> done = r.get();
        assertThat(done.statusCode()).isEqualTo(503);
    }

    /**
     * http(s) image URLs are fetched only with --allow-remote-images, and never from non-public addresses (the loopback
     * test server is refused by default; an address policy admitting it stands in for a public host); fetch failures
     * are the client's 400.
     */
    @Test
    void remoteImagesWhenAllowed() throws Exception {
        com.sun.net.httpserver.HttpServer images = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        byte[] png = Base64.getDecoder().decode(png(9, 5).substring("data:image/png;base64,".length()));
        images.createContext("/cat.png", ex -> { ex.sendResponseHeaders(200, png.length); ex.getResponseBody().write(png); ex.close(); });
        images.start();
        try {
            start(new FakeModel(512, 0), ServerOptions.defaults("fake-model").withRemoteImages(true));
            String base = "http://127.0.0.1:" + images.getAddress().getPort();
            String body = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"see\"},"
                    + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + base + "/cat.png\"}}]}]}";
            HttpResponse<String> refused = post(body);
            assertThat(refused.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(refused.body()).path("error").path("code").asText()).isEqualTo("url_not_allowed");
            server.close();
            java.net.InetAddress loopback = java.net.InetAddress.getByName("127.0.0.1");
            ServerOptions o = ServerOptions.defaults("fake-model").withRemoteImages(true);
            model = new FakeModel(512, 0);
            server = OpenAiServer.start(model, o, "127.0.0.1", 0, new ImageInput(o.maxImageBytes(), o.maxImagePixels(), true,
                    a -> !a.equals(loopback), Duration.ofSeconds(10)));
            HttpResponse<String> r = post(body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).path("choices").get(0).path("message").path("content").asText()).isEqualTo("echo: see [img 9x5]");
            HttpResponse<String> missing = post(body.replace("/cat.png", "/dog.png"));
            assertThat(missing.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(missing.body()).path("error").path("message").asText()).contains("HTTP 404");
        } finally {
            images.stop(0);
        }
    }

    void waitIdle() throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (server.scheduler().inFlight() > 0 && System.nanoTime() < end) Thread.sleep(5);
        assertThat(server.scheduler().inFlight()).isZero();
    }

    /** Many requests at once, more than the batch: all complete, correctly and separately. */
    @Test
    void concurrentRequestsAllCorrect() throws Exception {
        start(new FakeModel(4096, 0), ServerOptions.defaults("fake-model").withScheduling(4, 64, Duration.ofMinutes(1)));
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> fs = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                String body = user("request " + i) + (i % 2 == 0 ? ",\"stream\":true}" : "}");
                fs.add(ex.submit(() -> post(body)));
            }
            for (int i = 0; i < fs.size(); i++) {
                HttpResponse<String> r = fs.get(i).get();
                assertThat(r.statusCode()).isEqualTo(200);
                if (i % 2 == 1)
                    assertThat(JSON.readTree(r.body()).path("choices").get(0).path("message").path("content").asText())
                            .isEqualTo("echo: request " + i);
                else assertThat(r.body()).contains("[DONE]");
            }
        }
        assertThat(server.scheduler().maxActiveSeen()).isLessThanOrEqualTo(4);
        waitIdle();
    }
}
