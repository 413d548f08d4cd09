package dev.navil4j.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link HfHub} against a fake hub (the API, resolve/ URLs answering like huggingface.co) and a separate
 * fake CDN that LFS files redirect to: cache layout, redirects, resume after a cut connection, a corrupt
 * file, tokens, offline mode and reuse of the cache.
 */
class HfHubTest {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String REPO = "org/tiny";

    @TempDir Path cache;
    HttpServer hub, cdn;
    final byte[] config = "{\"architectures\":[\"Fake\"]}".getBytes(StandardCharsets.UTF_8);
    final byte[] weights = new byte[300_000];
    final byte[] tokenizer = "{\"model\":{}}".getBytes(StandardCharsets.UTF_8);
    final List<String> cdnRequests = new CopyOnWriteArrayList<>();
    final List<String> hubRequests = new CopyOnWriteArrayList<>();
    final Map<String, String> cdnAuth = new ConcurrentHashMap<>();
    final AtomicInteger cutsLeft = new AtomicInteger();
    volatile boolean corrupt;
    volatile String requiredToken;

    @BeforeEach
    void startFakes() throws IOException {
        new Random(1).nextBytes(weights);
        cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        cdn.createContext("/blobs/weights", this::serveCdn);
        cdn.start();
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.createContext("/", this::serveHub);
        hub.start();
    }

    @AfterEach
    void stopFakes() {
        hub.stop(0);
        cdn.stop(0);
    }

    String endpoint() { return "http://127.0.0.1:" + hub.getAddress().getPort(); }

    static String sha256(byte[] b) throws Exception { return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b)); }

    static String gitSha1(byte[] b) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-1");
        md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().formatHex(md.digest(b));
    }

    private void serveHub(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        hubRequests.add(ex.getRequestMethod() + " " + path);
        try {
            if (requiredToken != null && !("Bearer " + requiredToken).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                reply(ex, 401, Map.of(), new byte[0]);
                return;
            }
            if (path.equals("/api/models/" + REPO + "/revision/main")) {
                reply(ex, 200, Map.of(), ("{\"sha\":\"" + COMMIT + "\",\"siblings\":[{\"rfilename\":\"config.json\"},"
                        + "{\"rfilename\":\"model.safetensors\"},{\"rfilename\":\"README.md\"},{\"rfilename\":\"tok/tokenizer.json\"}]}")
                        .getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/old/tiny/resolve/" + COMMIT + "/config.json")) {
                reply(ex, 307, Map.of("Location", "/" + REPO + "/resolve/" + COMMIT + "/config.json"), new byte[0]); // renamed repo
            } else if (path.equals("/" + REPO + "/resolve/" + COMMIT + "/config.json")) {
                reply(ex, 307, Map.of("Location", "/old/tiny/resolve/" + COMMIT + "/config.json.real"), new byte[0]);
            } else if (path.equals("/old/tiny/resolve/" + COMMIT + "/config.json.real")) {
                reply(ex, 200, Map.of("ETag", "\"" + gitSha1(config) + "\""), config);
            } else if (path.equals("/" + REPO + "/resolve/" + COMMIT + "/tok/tokenizer.json")) {
                reply(ex, 200, Map.of("ETag", "W/\"" + gitSha1(tokenizer) + "\""), tokenizer);
            } else if (path.equals("/" + REPO + "/resolve/" + COMMIT + "/model.safetensors")) {
                // LFS: redirect to the CDN; the real ETag/size travel in X-Linked-* headers
                reply(ex, 302, Map.of("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/weights?sig=x",
                        "X-Linked-Etag", "\"" + sha256(weights) + "\"", "X-Linked-Size", Integer.toString(weights.length),
                        "X-Repo-Commit", COMMIT), new byte[0]);
            } else reply(ex, 404, Map.of(), new byte[0]);
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private void serveCdn(HttpExchange ex) throws IOException {
        String range = ex.getRequestHeaders().getFirst("Range");
        cdnRequests.add(ex.getRequestMethod() + " " + (range == null ? "full" : range));
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null) cdnAuth.put("auth", auth);
        byte[] body = weights.clone();
        if (corrupt) body[1234] ^= 1;
        int from = 0;
        if (range != null) from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1"));
        byte[] part = java.util.Arrays.copyOfRange(body, from, body.length);
        ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        if (range != null) ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
        if ("HEAD".equals(ex.getRequestMethod())) { ex.sendResponseHeaders(range != null ? 206 : 200, -1); ex.close(); return; }
        ex.sendResponseHeaders(range != null ? 206 : 200, part.length);
        OutputStream out = ex.getResponseBody();
        if (cutsLeft.getAndDecrement() > 0) {
            out.write(part, 0, part.length / 3); // the connection dies a third of the way in
            out.flush();
            // then nothing more: the client must notice the stall, drop the connection and resume
            try { out.close(); } catch (IOException ignored) { }
            return;
        }
        out.write(part);
        out.close();
    }

    private static void reply(HttpExchange ex, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        if ("HEAD".equals(ex.getRequestMethod())) {
            if (status == 200) ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            ex.sendResponseHeaders(status, -1);
        } else {
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) ex.getResponseBody().write(body);
        }
        ex.close();
    }

    HfHub hub(String token, boolean offline, PrintStream out) {
        return new HfHub(new HfHub.Settings(cache, endpoint(), token, offline), out, java.time.Duration.ofMillis(500));
    }

    @Test
    void downloadsIntoTheHfCacheLayout() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Path snap = hub(null, false, new PrintStream(log, true, StandardCharsets.UTF_8)).snapshot(REPO);
        Path repo = cache.resolve("models--org--tiny");
        assertThat(snap).isEqualTo(repo.resolve("snapshots").resolve(COMMIT));
        assertThat(Files.readString(repo.resolve("refs/main"))).isEqualTo(COMMIT);
        assertThat(Files.readAllBytes(snap.resolve("config.json"))).isEqualTo(config);
        assertThat(Files.readAllBytes(snap.resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(Files.readAllBytes(snap.resolve("tok/tokenizer.json"))).isEqualTo(tokenizer);
        assertThat(snap.resolve("README.md")).doesNotExist(); // not needed to run the model
        // snapshot entries are relative symlinks into blobs/, named by ETag, as huggingface_hub lays them out
        assertThat(Files.isSymbolicLink(snap.resolve("model.safetensors"))).isTrue();
        assertThat(Files.readSymbolicLink(snap.resolve("model.safetensors")).toString()).isEqualTo("../../blobs/" + sha256(weights));
        assertThat(Files.readSymbolicLink(snap.resolve("tok/tokenizer.json")).toString()).isEqualTo("../../../blobs/" + gitSha1(tokenizer));
        assertThat(repo.resolve("blobs/" + gitSha1(config))).exists();
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("model.safetensors [").contains("100%");
        // a second resolve reuses the cache: no file is fetched again
        int cdnBefore = cdnRequests.size();
        assertThat(hub(null, false, null).snapshot(REPO)).isEqualTo(snap);
        assertThat(cdnRequests).hasSize(cdnBefore);
    }

    @Test
    void resumesAfterACutConnection() throws Exception {
        cutsLeft.set(2);
        Path snap = hub(null, false, null).snapshot(REPO);
        assertThat(Files.readAllBytes(snap.resolve("model.safetensors"))).isEqualTo(weights);
        // first GET from 0, then resumed twice with Range from where each cut left off
        List<String> gets = cdnRequests.stream().filter(s -> s.startsWith("GET")).toList();
        assertThat(gets).hasSize(3);
        assertThat(gets.get(0)).isEqualTo("GET full");
        assertThat(gets.get(1)).startsWith("GET bytes=").isNotEqualTo("GET bytes=0-");
        assertThat(gets.get(2)).startsWith("GET bytes=");
        assertThat(cache.resolve("models--org--tiny/blobs/" + sha256(weights) + ".incomplete")).doesNotExist();
    }

    @Test
    void corruptFileIsDiscardedNeverUsed() throws Exception {
        corrupt = true;
        assertThatThrownBy(() -> hub(null, false, null).snapshot(REPO))
                .isInstanceOf(HubException.class).hasMessageContaining("checksum mismatch").hasMessageContaining("model.safetensors");
        Path repo = cache.resolve("models--org--tiny");
        assertThat(repo.resolve("blobs/" + sha256(weights))).doesNotExist();
        assertThat(repo.resolve("blobs/" + sha256(weights) + ".incomplete")).doesNotExist();
        assertThat(repo.resolve("snapshots/" + COMMIT + "/model.safetensors")).doesNotExist();
        corrupt = false; // the hub is fixed: the next run downloads a good copy
        assertThat(Files.readAllBytes(hub(null, false, null).snapshot(REPO).resolve("model.safetensors"))).isEqualTo(weights);
    }

    @Test
    void tokenGoesToTheHubOnlyNeverToTheCdn() {
        requiredToken = "hf_secret";
        assertThatThrownBy(() -> hub(null, false, null).snapshot(REPO)).isInstanceOf(HubException.class).hasMessageContaining("HF_TOKEN");
        hub("hf_secret", false, null).snapshot(REPO);
        assertThat(cdnRequests).isNotEmpty();
        assertThat(cdnAuth).isEmpty();
    }

    @Test
    void offlineModeUsesOnlyTheCache() throws Exception {
        assertThatThrownBy(() -> hub(null, true, null).snapshot(REPO))
                .isInstanceOf(HubException.class).hasMessageContaining("HF_HUB_OFFLINE");
        assertThat(hubRequests).isEmpty();
        Path snap = hub(null, false, null).snapshot(REPO);
        hubRequests.clear();
        cdnRequests.clear();
        assertThat(hub(null, true, null).snapshot(REPO)).isEqualTo(snap);
        assertThat(hub(null, true, null).snapshot(REPO + "@" + COMMIT)).isEqualTo(snap);
        assertThat(hubRequests).isEmpty();
        assertThat(cdnRequests).isEmpty();
        // an unreachable hub falls back to the cache as well
        hub.stop(0);
        assertThat(hub(null, false, null).snapshot(REPO)).isEqualTo(snap);
    }

    @Test
    void environmentSettings() {
        HfHub.Settings s = HfHub.Settings.from(Map.of("HF_HOME", "/data/hf", "HF_ENDPOINT", "http://mirror:8000/",
                "HF_TOKEN", "t", "HF_HUB_OFFLINE", "1"));
        assertThat(s.cache()).isEqualTo(Path.of("/data/hf/hub"));
        assertThat(s.endpoint()).isEqualTo("http://mirror:8000");
        assertThat(s.token()).isEqualTo("t");
        assertThat(s.offline()).isTrue();
        assertThat(HfHub.Settings.from(Map.of("HF_HUB_CACHE", "/c")).cache()).isEqualTo(Path.of("/c"));
        assertThat(HfHub.Settings.from(Map.of()).offline()).isFalse();
        assertThat(HfHub.isRepoId("OpenGVLab/InternVL3-1B")).isTrue();
        assertThat(HfHub.isRepoId("OpenGVLab/InternVL3-1B@main")).isTrue();
        assertThat(HfHub.isRepoId("/abs/path")).isFalse();
        assertThat(HfHub.isRepoId("a/b/c")).isFalse();
    }

    @Test
    void unknownRepoAndBadNames() {
        assertThatThrownBy(() -> hub(null, false, null).snapshot("org/missing"))
                .isInstanceOf(HubException.class).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> hub(null, false, null).snapshot("../etc"))
                .isInstanceOf(HubException.class).hasMessageContaining("not a hub repo id");
    }
}
