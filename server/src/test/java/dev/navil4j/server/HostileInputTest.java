package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every kind of bad request gets a 4xx with an OpenAI error body that says what is wrong; after a
 * concurrent burst of them the server still answers a normal request, holds no requests, and its
 * platform threads and heap are back near their baseline.
 */
class HostileInputTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    OpenAiServer server;

    @BeforeEach
    void start() {
        server = OpenAiServer.start(new FakeModel(512, 0), ServerOptions.defaults("fake")
                .withLimits(256 * 1024, 64 * 1024, 1_000_000, 2), "127.0.0.1", 0);
    }

    @AfterEach
    void stop() { server.close(); }

    record Case(String name, String contentType, String body, int status, String expectInMessage) {}

    static String msg(String content) { return "{\"messages\":[{\"role\":\"user\",\"content\":" + content + "}]}"; }

    static String withField(String field) { return "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," + field + "}"; }

    static String image(String url) {
        return msg("[{\"type\":\"text\",\"text\":\"what\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + url + "\"}}]");
    }

    static byte[] pngBytes(int w, int h) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
        return out.toByteArray();
    }

    /** A valid small PNG whose header claims a huge canvas: decoding it would allocate gigabytes. */
    static byte[] pngBomb() throws Exception {
        byte[] b = pngBytes(1, 1);
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putInt(16, 100_000).putInt(20, 100_000); // IHDR width, height
        CRC32 crc = new CRC32();
        crc.update(b, 12, 17); // chunk type + 13 data bytes
        bb.putInt(29, (int) crc.getValue());
        return b;
    }

    static String dataUri(byte[] b) { return "data:image/png;base64," + Base64.getEncoder().encodeToString(b); }

    static List<Case> cases() throws Exception {
        byte[] png = pngBytes(4, 4);
        String okImage = dataUri(png);
        List<Case> c = new ArrayList<>();
        c.add(new Case("not json", "application/json", "this is not json", 400, "invalid JSON"));
        c.add(new Case("truncated json", "application/json", "{\"messages\":[{\"role\":", 400, "invalid JSON"));
        c.add(new Case("empty body", "application/json", "", 400, "empty"));
        c.add(new Case("array body", "application/json", "[1,2,3]", 400, "JSON object"));
        c.add(new Case("deep nesting", "application/json", "[".repeat(5000) + "]".repeat(5000), 400, "invalid JSON"));
        c.add(new Case("wrong content type", "text/plain", msg("\"hi\""), 415, "Content-Type"));
        c.add(new Case("no messages", "application/json", "{}", 400, "messages is required"));
        c.add(new Case("messages not array", "application/json", "{\"messages\":\"hi\"}", 400, "must be an array"));
        c.add(new Case("empty messages", "application/json", "{\"messages\":[]}", 400, "at least one"));
        c.add(new Case("message not object", "application/json", "{\"messages\":[42]}", 400, "must be an object"));
        c.add(new Case("unknown role", "application/json", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400, "unsupported role 'wizard'"));
        c.add(new Case("role not string", "application/json", "{\"messages\":[{\"role\":1,\"content\":\"x\"}]}", 400, "role must be a string"));
        c.add(new Case("no content", "application/json", "{\"messages\":[{\"role\":\"user\"}]}", 400, "content is required"));
        c.add(new Case("content number", "application/json", msg("42"), 400, "string or an array"));
        c.add(new Case("content empty array", "application/json", msg("[]"), 400, "must not be empty"));
        c.add(new Case("empty user message", "application/json", msg("\"  \""), 400, "empty"));
        c.add(new Case("assistant only", "application/json", "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\"}]}", 400, "must follow a user"));
        c.add(new Case("ends with assistant", "application/json", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}", 400, "last message"));
        c.add(new Case("late system", "application/json", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"system\",\"content\":\"y\"}]}", 400, "system messages"));
        c.add(new Case("part without type", "application/json", msg("[{\"text\":\"x\"}]"), 400, "'type'"));
        c.add(new Case("unknown part", "application/json", msg("[{\"type\":\"input_audio\",\"input_audio\":{}}]"), 400, "input_audio"));
        c.add(new Case("text part not string", "application/json", msg("[{\"type\":\"text\",\"text\":5}]"), 400, "text must be a string"));
        c.add(new Case("image part no url", "application/json", msg("[{\"type\":\"image_url\",\"image_url\":{}}]"), 400, "url must be"));
        c.add(new Case("max_tokens string", "application/json", withField("\"max_tokens\":\"ten\""), 400, "max_tokens"));
        c.add(new Case("max_tokens negative", "application/json", withField("\"max_tokens\":-1"), 400, "max_tokens"));
        c.add(new Case("max_tokens fraction", "application/json", withField("\"max_completion_tokens\":1.5"), 400, "max_completion_tokens"));
        c.add(new Case("max_tokens huge", "application/json", withField("\"max_tokens\":99999999999"), 400, "max_tokens"));
        c.add(new Case("temperature range", "application/json", withField("\"temperature\":5"), 400, "temperature"));
        c.add(new Case("temperature type", "application/json", withField("\"temperature\":\"hot\""), 400, "temperature"));
        c.add(new Case("top_p zero", "application/json", withField("\"top_p\":0"), 400, "top_p"));
        c.add(new Case("seed type", "application/json", withField("\"seed\":\"x\""), 400, "seed"));
        c.add(new Case("n=0", "application/json", withField("\"n\":0"), 400, "n must be"));
        c.add(new Case("n too large", "application/json", withField("\"n\":99"), 400, "n must be"));
        c.add(new Case("stream type", "application/json", withField("\"stream\":\"yes\""), 400, "stream must be a boolean"));
        c.add(new Case("stop type", "application/json", withField("\"stop\":[1]"), 400, "stop"));
        c.add(new Case("stop too many", "application/json", withField("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), 400, "at most 4"));
        c.add(new Case("stream_options alone", "application/json", withField("\"stream_options\":{\"include_usage\":true}"), 400, "stream_options"));
        c.add(new Case("context exceeded", "application/json", withField("\"max_tokens\":100000"), 400, "context"));
        c.add(new Case("invalid base64", "application/json", image("data:image/png;base64,@@@not-base64@@@"), 400, "invalid base64"));
        c.add(new Case("not an image", "application/json", image(dataUri("hello, this is text".getBytes())), 400, "not a recognised image format"));
        c.add(new Case("truncated png", "application/json", image(dataUri(Arrays.copyOf(png, png.length / 2))), 400, "corrupt or truncated"));
        c.add(new Case("text media type", "application/json", image("data:text/plain;base64,aGVsbG8="), 400, "text/plain"));
        c.add(new Case("not base64 data uri", "application/json", image("data:image/png,rawdata"), 400, "base64"));
        c.add(new Case("no comma data uri", "application/json", image("data:image/png;base64"), 400, "malformed"));
        c.add(new Case("remote disabled", "application/json", image("http://127.0.0.1:1/cat.png"), 400, "--allow-remote-images"));
        c.add(new Case("file url", "application/json", image("file:///etc/passwd"), 400, "unsupported image URL"));
        c.add(new Case("pixel bomb", "application/json", image(dataUri(pngBomb())), 400, "100000x100000"));
        c.add(new Case("image too many bytes", "application/json", image(dataUri(new byte[100 * 1024])), 413, "larger than"));
        c.add(new Case("too many images", "application/json", msg("[{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + okImage
                + "\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + okImage + "\"}},{\"type\":\"image_url\",\"image_url\":\""
                + okImage + "\"}]"), 400, "at most 2 images"));
        c.add(new Case("request too large", "application/json", msg("\"" + "x".repeat(300 * 1024) + "\""), 413, "exceeds the limit"));
        return c;
    }

    HttpResponse<String> send(Case c) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .header("Content-Type", c.contentType()).POST(HttpRequest.BodyPublishers.ofString(c.body())).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void eachBadRequestGetsAClear4xx() throws Exception {
        for (Case c : cases()) {
            HttpResponse<String> r = send(c);
            assertThat(r.statusCode()).as(c.name() + ": " + r.body()).isEqualTo(c.status());
            JsonNode err = JSON.readTree(r.body()).path("error");
            assertThat(err.path("message").asText()).as(c.name()).contains(c.expectInMessage());
            assertThat(err.path("type").asText()).as(c.name()).isEqualTo("invalid_request_error");
            assertThat(err.has("param") && err.has("code")).as(c.name()).isTrue();
        }
        HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/v1/chat/completions")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(JSON.readTree(get.body()).path("error").path("message").asText()).contains("GET");
    }

    @Test
    void burstOfBadRequestsLeavesTheServerHealthy() throws Exception {
        List<Case> cases = cases();
        Case good = new Case("good", "application/json", msg("\"still there?\""), 200, null);
        assertThat(send(good).statusCode()).isEqualTo(200); // warm up threads and pools before the baseline
        for (Case c : cases) send(c);
        int threadsBefore = serverThreads();
        long heapBefore = usedHeapAfterGc();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> fs = new ArrayList<>();
            for (int round = 0; round < 4; round++) for (Case c : cases) fs.add(ex.submit(() -> send(c)));
            for (int i = 0; i < fs.size(); i++) {
                Case c = cases.get(i % cases.size());
                HttpResponse<String> r;
                try {
                    r = fs.get(i).get();
                } catch (java.util.concurrent.ExecutionException e) {
                    // an oversized body may be answered 413 and the connection closed before the client has sent
                    // it all (RFC 9110 §15.5.14 allows closing); the client may then see the close, not the answer.
                    // Every other request must be answered. (Until the listen backlog was raised from the JDK's 50,
                    // 0–18 of these ~200 connections per run were closed without a reply: OpenAiServer.ACCEPT_QUEUE.)
                    if (c.status() == 413 && e.getCause() instanceof java.io.IOException) {
                        System.err.println("HostileInputTest: " + c.name() + " answered by closing: " + e.getCause());
                        continue;
                    }
                    throw new AssertionError(c.name() + ": no response", e);
                }
                assertThat(r.statusCode()).as(c.name()).isEqualTo(c.status());
            }
        }
        HttpResponse<String> r = send(good);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("choices").get(0).path("message").path("content").asText()).isEqualTo("echo: still there?");
        assertThat(server.scheduler().inFlight()).isZero();
        assertThat(server.scheduler().activeBytes()).isZero();
        long end = System.nanoTime() + 5_000_000_000L;
        while (serverThreads() > threadsBefore + 2 && System.nanoTime() < end) Thread.sleep(50);
        assertThat(serverThreads()).isLessThanOrEqualTo(threadsBefore + 2);
        assertThat(usedHeapAfterGc()).isLessThan(heapBefore + (64L << 20));
    }

    /** Live platform threads other than the test's own HTTP client pool (which grows with the burst). */
    static int serverThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream().filter(t -> !t.getName().startsWith("HttpClient-")).count();
    }

    static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) { System.gc(); Thread.sleep(50); }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
