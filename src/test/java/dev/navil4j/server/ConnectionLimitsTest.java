package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a client's connection may cost: a dropped non-streaming client cancels its job (slot and KV cache freed),
 * slow-loris headers and bodies are cut off within the read timeout without ever holding a scheduler slot, and a
 * request past the wall-clock limit ends with a clear error and frees its slot for the next one.
 */
class ConnectionLimitsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    OpenAiServer server;
    FakeModel model;

    void start(FakeModel m, ServerOptions o) {
        model = m;
        server = OpenAiServer.start(m, o, "127.0.0.1", 0);
    }

    @AfterEach
    void stop() { if (server != null) server.close(); }

    static final String LOOP = "{\"messages\":[{\"role\":\"user\",\"content\":\"LOOP\"}],\"max_tokens\":50000}";

    static byte[] rawPost(String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + b.length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
    }

    static void await(String what, Duration limit, BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("not within " + limit + ": " + what);
            Thread.sleep(5);
        }
    }

    String metric(String name) throws Exception {
        String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) if (line.startsWith(name + " ")) return line.substring(name.length() + 1).trim();
        throw new AssertionError(name + " not in /metrics:\n" + text);
    }

    HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A non-streaming client that closes (FIN) or resets (RST) its socket mid-generation cancels the job within a second. */
    @Test
    void droppedNonStreamingClientCancelsItsJob() throws Exception {
        // 2 ms per token: the 50,000-token answer would run 100 s; before the disconnect watch it did (7.7 min seen in issue 16)
        start(new FakeModel(100_000, 2), ServerOptions.defaults("fake"));
        for (boolean reset : new boolean[] {false, true}) {
            Socket s = new Socket("127.0.0.1", server.port());
            s.getOutputStream().write(rawPost(LOOP));
            s.getOutputStream().flush();
            await("the job decodes", Duration.ofSeconds(10), () -> server.scheduler().active() == 1 && model.decodeLog.size() > 20);
            if (reset) s.setSoLinger(true, 0); // close() then sends RST instead of FIN
            long closedAt = System.nanoTime();
            s.close();
            await("the job is cancelled (reset=" + reset + ")", Duration.ofSeconds(2),
                    () -> server.scheduler().inFlight() == 0 && server.scheduler().active() == 0);
            double cancelMs = (System.nanoTime() - closedAt) / 1e6;
            System.err.printf("ConnectionLimitsTest: reset=%b cancelled %.0f ms after the client closed%n", reset, cancelMs);
            int decoded = model.decodeLog.size();
            Thread.sleep(100);
            assertThat(model.decodeLog.size()).as("no decoding after the cancel").isEqualTo(decoded);
            assertThat(server.scheduler().activeBytes()).isZero();
            assertThat(metric("navil4j_active_sequences")).isEqualTo("0");
            assertThat(metric("navil4j_kv_cache_bytes{pool=\"active\"}")).isEqualTo("0");
        }
        assertThat(post("{\"messages\":[{\"role\":\"user\",\"content\":\"after\"}]}").statusCode()).isEqualTo(200);
    }

    /** Reads what the server sends until it closes the connection (or {@code limit} passes: then fails). */
    static String readUntilClosed(Socket s, Duration limit) throws IOException {
        s.setSoTimeout((int) limit.toMillis());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        try {
            for (int b; (b = in.read()) >= 0; ) got.write(b);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection was still open after " + limit + "; got: " + got);
        } catch (IOException reset) {
            // closed by reset: what arrived before counts
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    /** Writes {@code chunk} every {@code gapMillis} until the server closes the connection; returns when it did. */
    static Thread dribble(Socket s, byte[] chunk, long gapMillis) {
        return Thread.ofVirtual().start(() -> {
            try {
                OutputStream out = s.getOutputStream();
                for (int i = 0; i < 10_000; i++) {
                    out.write(chunk);
                    out.flush();
                    Thread.sleep(gapMillis);
                }
            } catch (IOException | InterruptedException closed) {
                // the server closed the connection: what the test waits for
            }
        });
    }

    /** Headers dribbled one field at a time, each well inside Jetty's idle timeout: 408 and closed after the read timeout. */
    @Test
    void slowHeadersGet408WithinTheReadTimeout() throws Exception {
        start(new FakeModel(512, 0), ServerOptions.defaults("fake").withReadTimeout(Duration.ofSeconds(1)));
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            long t0 = System.nanoTime();
            s.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
            Thread writer = dribble(s, "X-Slow: a\r\n".getBytes(StandardCharsets.US_ASCII), 100);
            String answer = readUntilClosed(s, Duration.ofSeconds(5));
            double secs = (System.nanoTime() - t0) / 1e9;
            writer.interrupt();
            assertThat(answer).startsWith("HTTP/1.1 408");
            assertThat(answer).contains("\"code\":\"request_timeout\"");
            // the limit (1 s) plus at most one sampling period (125 ms) and scheduling noise
            assertThat(secs).isBetween(0.9, 2.5);
            assertThat(server.scheduler().inFlight()).isZero();
        }
        assertThat(post("{\"messages\":[{\"role\":\"user\",\"content\":\"after\"}]}").statusCode()).isEqualTo(200);
    }

    /** A body dribbled a byte at a time is cut off after the read timeout; it never held a scheduler slot. */
    @Test
    void slowBodyIsCutOffWithinTheReadTimeout() throws Exception {
        start(new FakeModel(512, 0), ServerOptions.defaults("fake").withReadTimeout(Duration.ofSeconds(1)));
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100000\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            Thread writer = dribble(s, " ".getBytes(StandardCharsets.US_ASCII), 50);
            Thread.sleep(500);
            assertThat(server.scheduler().inFlight()).as("a body still arriving holds no slot").isZero();
            readUntilClosed(s, Duration.ofSeconds(5));
            double secs = (System.nanoTime() - t0) / 1e9;
            writer.interrupt();
            assertThat(secs).isBetween(0.9, 2.5);
        }
        assertThat(server.scheduler().inFlight()).isZero();
        // the request thread that was reading the body answered (to a closed connection) with a 408, not a 5xx
        await("the cut-off request is logged", Duration.ofSeconds(2), () -> {
            try { return metric("navil4j_requests_total{route=\"/v1/chat/completions\",status=\"408\"}").equals("1"); }
            catch (Exception e) { return false; }
        });
        assertThat(post("{\"messages\":[{\"role\":\"user\",\"content\":\"after\"}]}").statusCode()).isEqualTo(200);
    }

    /** Past the wall-clock limit a request (plain or streamed) ends with a clear 504 and its slot serves the next request. */
    @Test
    void wallClockLimitEndsTheRequestAndFreesItsSlot() throws Exception {
        // one slot, no queue: the follow-up request is only admitted if the timed-out one released its slot
        start(new FakeModel(100_000, 2), ServerOptions.defaults("fake").withScheduling(1, 0, Duration.ofMillis(400)));
        long t0 = System.nanoTime();
        HttpResponse<String> r = post(LOOP);
        double secs = (System.nanoTime() - t0) / 1e9;
        assertThat(r.statusCode()).isEqualTo(504);
        JsonNode err = JSON.readTree(r.body()).path("error");
        assertThat(err.path("code").asText()).isEqualTo("request_timeout");
        assertThat(err.path("message").asText()).contains("time limit");
        assertThat(secs).isLessThan(3.0);
        await("the slot is free", Duration.ofSeconds(1), () -> server.scheduler().inFlight() == 0);
        assertThat(server.scheduler().activeBytes()).isZero();
        HttpResponse<String> s2 = post("{\"messages\":[{\"role\":\"user\",\"content\":\"LOOP\"}],\"max_tokens\":50000,\"stream\":true}");
        // streamed: the 200 is already sent with the first token; the limit arrives as an error event
        assertThat(s2.statusCode()).isEqualTo(200);
        assertThat(s2.body()).contains("\"code\":\"request_timeout\"").doesNotContain("[DONE]");
        await("the slot is free", Duration.ofSeconds(1), () -> server.scheduler().inFlight() == 0);
        HttpResponse<String> next = post("{\"messages\":[{\"role\":\"user\",\"content\":\"next\"}]}");
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(next.body()).path("choices").get(0).path("message").path("content").asText()).isEqualTo("echo: next");
    }
}
