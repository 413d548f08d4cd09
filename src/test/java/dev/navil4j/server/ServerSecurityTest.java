package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Auth, Host/Origin checks, CORS, Content-Type, model names, honour-or-refuse fields and media safety through HTTP. */
class ServerSecurityTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    OpenAiServer server;

    void start(ServerOptions.Access access) {
        server = OpenAiServer.start(new FakeModel(512, 0), ServerOptions.defaults("fake-model").withAccess(access), "127.0.0.1", 0);
    }

    @AfterEach
    void stop() { if (server != null) server.close(); }

    String url(String path) { return "http://127.0.0.1:" + server.port() + path; }

    static final String HELLO = "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    HttpResponse<String> post(String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String body) throws Exception { return post(body, Map.of("Content-Type", "application/json")); }

    static JsonNode error(HttpResponse<String> r) throws Exception {
        JsonNode e = JSON.readTree(r.body()).path("error");
        assertThat(e.has("message") && e.has("type") && e.has("param") && e.has("code")).as(r.body()).isTrue();
        return e;
    }

    /** A raw HTTP/1.1 exchange, for headers the JDK client will not set (Host). */
    String raw(String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void apiKeyIsRequiredAndCompared() throws Exception {
        start(new ServerOptions.Access("s3cret-key", null, List.of(), List.of(), false));
        HttpResponse<String> none = post(HELLO);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(error(none).path("code").asText()).isEqualTo("invalid_api_key");
        assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        HttpResponse<String> wrong = post(HELLO, Map.of("Content-Type", "application/json", "Authorization", "Bearer s3cret-kez"));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(error(wrong).path("message").asText()).doesNotContain("s3cret");
        HttpResponse<String> ok = post(HELLO, Map.of("Content-Type", "application/json", "Authorization", "Bearer s3cret-key"));
        assertThat(ok.statusCode()).isEqualTo(200);
        HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(url("/v1/models"))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(models.statusCode()).isEqualTo(401);
        // the health probe stays open
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(url("/health"))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
    }

    /** DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends Host: evil.example; a loopback-bound server refuses it. */
    @Test
    void foreignHostHeaderIsRefusedOnLoopback() throws Exception {
        start(ServerOptions.Access.OPEN);
        String body = HELLO;
        String evil = raw("POST /v1/chat/completions HTTP/1.1\r\nHost: evil.example:" + server.port() + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
        assertThat(evil).startsWith("HTTP/1.1 403").contains("host_not_allowed");
        String local = raw("GET /v1/models HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\nConnection: close\r\n\r\n");
        assertThat(local).startsWith("HTTP/1.1 200");
        String v6 = raw("GET /v1/models HTTP/1.1\r\nHost: [::1]:" + server.port() + "\r\nConnection: close\r\n\r\n");
        assertThat(v6).startsWith("HTTP/1.1 200");
    }

    @Test
    void allowedHostsCanBeConfigured() throws Exception {
        start(new ServerOptions.Access(null, List.of("models.internal"), List.of(), List.of(), false));
        assertThat(raw("GET /v1/models HTTP/1.1\r\nHost: models.internal:80\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
        assertThat(raw("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 403");
    }

    @Test
    void crossOriginRequestsAreRefusedUnlessCorsIsEnabled() throws Exception {
        start(ServerOptions.Access.OPEN);
        HttpResponse<String> cross = post(HELLO, Map.of("Content-Type", "application/json", "Origin", "https://evil.example"));
        assertThat(cross.statusCode()).isEqualTo(403);
        assertThat(error(cross).path("code").asText()).isEqualTo("origin_not_allowed");
        assertThat(cross.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        // same origin (a page this server served) is fine
        HttpResponse<String> same = post(HELLO, Map.of("Content-Type", "application/json", "Origin", "http://127.0.0.1:" + server.port()));
        assertThat(same.statusCode()).isEqualTo(200);
        HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(preflight.statusCode()).isEqualTo(403);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void corsForConfiguredOrigins() throws Exception {
        start(new ServerOptions.Access("k", null, List.of("http://localhost:3000"), List.of(), false));
        HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "http://localhost:3000")
                .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(preflight.statusCode()).isEqualTo(204);   // no key needed: browsers send none in a preflight
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).contains("http://localhost:3000");
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("")).contains("Authorization");
        HttpResponse<String> r = post(HELLO, Map.of("Content-Type", "application/json", "Origin", "http://localhost:3000",
                "Authorization", "Bearer k"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).contains("http://localhost:3000");
        assertThat(post(HELLO, Map.of("Content-Type", "application/json", "Origin", "http://localhost:3001",
                "Authorization", "Bearer k")).statusCode()).isEqualTo(403);
    }

    /** A body without Content-Type (or a form/text type a page can send without a preflight) is 415. */
    @Test
    void jsonContentTypeIsRequired() throws Exception {
        start(ServerOptions.Access.OPEN);
        assertThat(post(HELLO, Map.of()).statusCode()).isEqualTo(415);
        assertThat(post(HELLO, Map.of("Content-Type", "text/plain")).statusCode()).isEqualTo(415);
        assertThat(post(HELLO, Map.of("Content-Type", "application/jsonx")).statusCode()).isEqualTo(415);
        assertThat(post(HELLO, Map.of("Content-Type", "application/json; charset=utf-8")).statusCode()).isEqualTo(200);
    }

    @Test
    void modelMustNameTheServedModelOrAnAlias() throws Exception {
        start(new ServerOptions.Access(null, null, List.of(), List.of("gpt-4o-mini"), false));
        HttpResponse<String> wrong = post(HELLO.replace("fake-model", "gpt-4"));
        assertThat(wrong.statusCode()).isEqualTo(404);
        assertThat(error(wrong).path("code").asText()).isEqualTo("model_not_found");
        assertThat(error(wrong).path("param").asText()).isEqualTo("model");
        assertThat(post(HELLO.replace("fake-model", "gpt-4o-mini")).statusCode()).isEqualTo(200);
        assertThat(post(HELLO.replace("\"model\":\"fake-model\",", "")).statusCode()).isEqualTo(200);
    }

    /** Every field navil4j does not implement is a 400 naming it; its no-op value is accepted. */
    @Test
    void unimplementedFieldsAreRefusedByName() throws Exception {
        start(ServerOptions.Access.OPEN);
        String[][] refused = {
                {"response_format", "{\"type\":\"json_object\",\"schema\":{}}"},
                {"tools", "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]"}, {"tool_choice", "\"required\""},
                {"logit_bias", "{\"50256\":-100}"}, {"best_of", "2"}, {"use_beam_search", "true"},
                {"audio", "{}"}, {"prediction", "{}"}, {"reasoning_effort", "\"low\""}, {"modalities", "[\"text\",\"audio\"]"},
                {"store", "true"}, {"service_tier", "\"flex\""}, {"web_search_options", "{}"}, {"functions", "[{\"name\":\"f\"}]"},
                {"verbosity", "\"low\""}, {"nonsense_field", "1"}, {"stream_options", "{\"include_obfuscation\":true}"},
        };
        for (String[] f : refused) {
            String body = HELLO.substring(0, HELLO.length() - 1) + ",\"" + f[0] + "\":" + f[1]
                    + (f[0].equals("stream_options") ? ",\"stream\":true" : "") + "}";
            HttpResponse<String> r = post(body);
            assertThat(r.statusCode()).as(f[0] + "=" + f[1]).isEqualTo(400);
            JsonNode e = error(r);
            assertThat(e.path("code").asText()).as(f[0]).isEqualTo("unsupported_parameter");
            assertThat(e.path("param").asText()).startsWith(f[0]);
            assertThat(e.path("message").asText()).contains(f[0].equals("stream_options") ? "include_obfuscation" : f[0]);
        }
        String[][] accepted = {
                {"n", "1"}, {"presence_penalty", "0"}, {"frequency_penalty", "0.0"}, {"logprobs", "false"}, {"top_logprobs", "0"},
                {"response_format", "{\"type\":\"text\"}"}, {"response_format", "{\"type\":\"json_object\"}"},
                {"response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{}}}"}, {"tools", "[]"}, {"tool_choice", "\"none\""}, {"parallel_tool_calls", "true"},
                {"store", "false"}, {"user", "\"u-1\""}, {"metadata", "{\"a\":\"b\"}"}, {"service_tier", "\"auto\""},
                {"top_k", "5"}, {"top_k", "-1"}, {"repetition_penalty", "1.1"}, {"logit_bias", "{}"}, {"modalities", "[\"text\"]"},
                {"n", "2"}, {"logprobs", "true"}, {"top_logprobs", "0"}, {"logprobs", "true,\"top_logprobs\":3"}, {"presence_penalty", "0.5"}, {"frequency_penalty", "-1"}, {"min_p", "0.1"},
                {"seed", "7"}, {"temperature", "0"}, {"top_p", "0.9"}, {"stop", "[\"x\"]"}, {"max_tokens", "4"}, {"response_format", "null"},
        };
        for (String[] f : accepted) {
            HttpResponse<String> r = post(HELLO.substring(0, HELLO.length() - 1) + ",\"" + f[0] + "\":" + f[1] + "}");
            assertThat(r.statusCode()).as(f[0] + "=" + f[1] + ": " + r.body()).isEqualTo(200);
        }
        HttpResponse<String> named = post("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"name\":\"bob\"}]}");
        assertThat(named.statusCode()).isEqualTo(400);
        assertThat(error(named).path("param").asText()).isEqualTo("messages[0].name");
    }

    static String videoUri(byte[] b) { return "data:video/mp4;base64," + Base64.getEncoder().encodeToString(b); }

    static String videoBody(String uri) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what happens?\"},"
                + "{\"type\":\"video_url\",\"video_url\":{\"url\":\"" + uri + "\",\"num_frames\":2}}]}]}";
    }

    /**
     * The local-file read through video_url: a data: URI holding a DASH manifest or an ffconcat list that names a local
     * file is a 400, the same whether the file exists or not, and the message names no path. (The old server answered
     * 200 for an existing file, 500 for a missing one.)
     */
    @Test
    void videoManifestsNamingLocalFilesAreRefused() throws Exception {
        start(ServerOptions.Access.OPEN);
        Path clip = Path.of("fixtures/images/moving_shapes_96x72_24fps.mp4").toAbsolutePath();
        String[][] pairs = {
                {dashManifest("file://" + clip), dashManifest("file:///nonexistent/clip.mp4")},
                {"ffconcat version 1.0\nfile '" + clip + "'\n", "ffconcat version 1.0\nfile '/nonexistent/clip.mp4'\n"},
                {"#EXTM3U\n#EXTINF:2.5,\nfile://" + clip + "\n#EXT-X-ENDLIST\n", "#EXTM3U\n#EXTINF:2.5,\nfile:///nonexistent/x.mp4\n#EXT-X-ENDLIST\n"},
        };
        for (String[] p : pairs) {
            HttpResponse<String> a = post(videoBody(videoUri(p[0].getBytes(StandardCharsets.UTF_8))));
            HttpResponse<String> b = post(videoBody(videoUri(p[1].getBytes(StandardCharsets.UTF_8))));
            assertThat(a.statusCode()).as(p[0]).isEqualTo(400);
            assertThat(b.statusCode()).isEqualTo(400);
            assertThat(error(a).path("message").asText()).isEqualTo(error(b).path("message").asText())
                    .doesNotContain("/nonexistent", clip.toString(), "/tmp");
            assertThat(error(a).path("param").asText()).isEqualTo("messages[0].content[1].video_url");
        }
    }

    static String dashManifest(String url) {
        return "<?xml version=\"1.0\"?><MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" mediaPresentationDuration=\"PT2.5S\">"
                + "<Period><AdaptationSet mimeType=\"video/mp4\"><Representation id=\"1\" bandwidth=\"1\"><BaseURL>" + url
                + "</BaseURL></Representation></AdaptationSet></Period></MPD>";
    }

    /** The 8000×8000-frame GIF posted as a video: a 400 from the header, the server stays healthy. */
    @Test
    void hugeVideoFramesAndCorruptVideosAre400WithoutInternals() throws Exception {
        start(ServerOptions.Access.OPEN);
        HttpResponse<String> bomb = post(videoBody(videoUri(dev.navil4j.video.VideoReaderTestAccess.gif(8000, 8000, 40))));
        assertThat(bomb.statusCode()).isEqualTo(400);
        assertThat(error(bomb).path("message").asText()).contains("8000x8000");
        byte[] clip = Files.readAllBytes(Path.of("fixtures/images/moving_shapes_96x72_24fps.mp4"));
        for (byte[] bad : new byte[][]{java.util.Arrays.copyOf(clip, 48), "RIFF....AVI LIST".getBytes(StandardCharsets.ISO_8859_1)}) {
            HttpResponse<String> r = post(videoBody(videoUri(bad)));
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(error(r).path("message").asText()).doesNotContain("setFormat", "avformat", "/tmp", "navil4j-video", "Exception");
        }
        assertThat(post(videoBody(videoUri(clip))).statusCode()).isEqualTo(200);
        assertThat(post(HELLO).statusCode()).isEqualTo(200);
    }

    @Test
    void staleVideoTempFilesOfOlderVersionsAreRemoved(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path old = Files.write(dir.resolve("navil4j-video-123.bin"), new byte[]{1});
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minusSeconds(7200)));
        Path fresh = Files.write(dir.resolve("navil4j-video-456.bin"), new byte[]{1});
        Path other = Files.write(dir.resolve("other.bin"), new byte[]{1});
        Files.setLastModifiedTime(other, FileTime.from(Instant.now().minusSeconds(7200)));
        assertThat(OpenAiServer.removeStaleVideoFiles(dir, java.time.Duration.ofHours(1))).isEqualTo(1);
        assertThat(old).doesNotExist();
        assertThat(fresh).exists();
        assertThat(other).exists();
    }
}
