package dev.navil4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Model repositories from the Hugging Face Hub, stored in the hub's own cache layout so that downloads
 * made by Python ({@code huggingface_hub}) are reused and vice versa:
 * <pre>
 * $HF_HUB_CACHE (default $HF_HOME/hub, default ~/.cache/huggingface/hub)
 *   models--{org}--{name}/refs/{revision}        the commit a branch or tag points to
 *   models--{org}--{name}/blobs/{etag}           file contents, named by their ETag (sha256 for LFS files)
 *   models--{org}--{name}/snapshots/{commit}/f   relative symlinks into blobs/
 * </pre>
 * Downloads resume from {@code blobs/{etag}.incomplete} with an HTTP Range request, are verified
 * against the ETag (sha256 for LFS files, the git blob sha1 for small files) before they become visible,
 * and show a progress bar. {@code HF_ENDPOINT}, {@code HF_TOKEN} and {@code HF_HUB_OFFLINE} are honoured;
 * offline, the network is never touched.
 */
public final class HfHub {
    /**
     * @param cache    the hub cache directory (the one holding models--*)
     * @param endpoint base URL, e.g. https://huggingface.co
     * @param token    bearer token or null
     * @param offline  never use the network
     */
    public record Settings(Path cache, String endpoint, String token, boolean offline) {
        /** The settings huggingface_hub derives from the environment. */
        public static Settings fromEnvironment() {
            // a Java system property of the same name (-DHF_HUB_OFFLINE=1) wins: a JVM cannot change its own environment
            Map<String, String> env = new java.util.HashMap<>(System.getenv());
            for (String k : List.of("HF_HOME", "XDG_CACHE_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN",
                    "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE")) {
                String v = System.getProperty(k);
                if (v != null) env.put(k, v);
            }
            return from(env);
        }

        static Settings from(Map<String, String> env) {
            Path home = Path.of(System.getProperty("user.home"));
            String hfHome = env.getOrDefault("HF_HOME",
                    Path.of(env.getOrDefault("XDG_CACHE_HOME", home.resolve(".cache").toString()), "huggingface").toString());
            Path cache = Path.of(env.getOrDefault("HF_HUB_CACHE", env.getOrDefault("HUGGINGFACE_HUB_CACHE",
                    Path.of(hfHome, "hub").toString())));
            String token = env.get("HF_TOKEN");
            if (token == null) token = env.get("HUGGING_FACE_HUB_TOKEN");
            if (token == null) {
                Path f = Path.of(hfHome, "token"); // written by `huggingface-cli login`
                try { if (Files.isRegularFile(f)) token = Files.readString(f).strip(); } catch (IOException ignored) { }
            }
            if (token != null && token.isBlank()) token = null;
            String endpoint = env.getOrDefault("HF_ENDPOINT", "https://huggingface.co").replaceAll("/+$", "");
            String off = env.getOrDefault("HF_HUB_OFFLINE", "").toLowerCase(Locale.ROOT);
            return new Settings(cache, endpoint, token, off.equals("1") || off.equals("true") || off.equals("yes") || off.equals("on"));
        }
    }

    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    /** Files an engine run needs: configs, weights, tokenizer files and chat templates. */
    private static final List<String> WANTED = List.of(".json", ".safetensors", ".model", ".txt", ".tiktoken", ".jinja");
    private static final int ATTEMPTS = 4;

    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "navil4j-download-watchdog");
                t.setDaemon(true);
                return t;
            });

    private final Settings settings;
    private final PrintStream progress;
    private final dev.navil4j.ProgressListener listener;
    private final Duration stallTimeout;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();

    public HfHub(Settings settings, PrintStream progress) { this(settings, progress, Duration.ofSeconds(60)); }

    /** @param stallTimeout a download that receives nothing for this long is cut and resumed */
    public HfHub(Settings settings, PrintStream progress, Duration stallTimeout) {
        this(settings, progress, null, stallTimeout);
    }

    /**
     * @param progress     the stderr-style bar (null = none)
     * @param listener     gets {@link dev.navil4j.ProgressEvent.Stage#DOWNLOAD} events per downloaded file (null = none)
     * @param stallTimeout a download that receives nothing for this long is cut and resumed
     */
    public HfHub(Settings settings, PrintStream progress, dev.navil4j.ProgressListener listener, Duration stallTimeout) {
        this.settings = settings;
        this.progress = progress;
        this.listener = listener;
        this.stallTimeout = stallTimeout;
        // redirects are followed by hand: the token must only go to the hub, never to the CDN it redirects to
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(20)).build();
    }

    /** Whether a --model value names a hub repository ("org/name" or "org/name@revision"). */
    public static boolean isRepoId(String s) {
        int at = s.indexOf('@');
        return REPO_ID.matcher(at < 0 ? s : s.substring(0, at)).matches();
    }

    /** Resolves "org/name[@revision]" to a local snapshot directory, downloading what is missing. */
    public Path snapshot(String spec) { return snapshot(spec, f -> true); }

    /**
     * As {@link #snapshot(String)}, downloading only the model files {@code include} accepts (e.g. only config.json
     * for `bench --config`); config.json is always fetched.
     */
    public Path snapshot(String spec, java.util.function.Predicate<String> include) {
        int at = spec.indexOf('@');
        String repo = at < 0 ? spec : spec.substring(0, at);
        String revision = at < 0 ? "main" : spec.substring(at + 1);
        if (!REPO_ID.matcher(repo).matches()) throw new HubException("'" + repo + "' is not a hub repo id (org/name)");
        if (revision.isEmpty() || revision.contains("..")) throw new HubException("invalid revision '" + revision + "'");
        return settings.offline() ? cached(repo, revision, "HF_HUB_OFFLINE is set", "unset HF_HUB_OFFLINE to download it")
                : download(repo, revision, include);
    }

    /** The repo's folder in the cache: models--org--name. */
    public Path repoDir(String repo) { return settings.cache().resolve("models--" + repo.replace("/", "--")); }

    /** The cached snapshot; else an error saying why the hub was not asked ({@code why}) and what to do ({@code fix}). */
    private Path cached(String repo, String revision, String why, String fix) {
        Path dir = repoDir(repo);
        String commit = revision;
        if (!COMMIT.matcher(revision).matches()) {
            Path ref = dir.resolve("refs").resolve(revision);
            try {
                commit = Files.isRegularFile(ref) ? Files.readString(ref).strip() : null;
            } catch (IOException e) {
                commit = null;
            }
        }
        Path snap = commit == null ? null : dir.resolve("snapshots").resolve(commit);
        if (snap == null || !Files.isRegularFile(snap.resolve("config.json")))
            throw new HubException(repo + "@" + revision + " is not in the Hugging Face cache " + settings.cache()
                    + " and " + why + "; " + fix + ", or pass a model directory");
        return snap;
    }

    private Path download(String repo, String revision, java.util.function.Predicate<String> include) {
        JsonNode info;
        try {
            info = api(repo, revision);
        } catch (IOException e) {
            // as huggingface_hub does: without a network, fall back to what the cache already has
            return cached(repo, revision, "the hub " + settings.endpoint() + " is unreachable (" + describe(e) + ")",
                    "check the network connection or HF_ENDPOINT");
        }
        String commit = info.path("sha").asText("");
        if (!COMMIT.matcher(commit).matches()) throw new HubException(repo + ": the hub returned no commit for " + revision);
        Path dir = repoDir(repo);
        Path snap = dir.resolve("snapshots").resolve(commit);
        List<String> files = new ArrayList<>();
        for (JsonNode s : info.path("siblings")) {
            String f = s.path("rfilename").asText("");
            if (WANTED.stream().anyMatch(f::endsWith) && (f.equals("config.json") || include.test(f))) files.add(checkedName(f));
        }
        if (!files.contains("config.json")) throw new HubException(repo + "@" + revision + " has no config.json: not a model repository");
        try {
            Files.createDirectories(snap);
            for (String f : files) if (!Files.exists(snap.resolve(f))) fetch(repo, commit, f, dir, snap);
            if (!revision.equals(commit)) {
                Path ref = dir.resolve("refs").resolve(revision);
                Files.createDirectories(ref.getParent());
                Files.writeString(ref, commit);
            }
        } catch (IOException e) {
            throw new HubException(repo + ": download failed: " + e.getMessage(), e);
        }
        return snap;
    }

    /** An I/O failure in words: its message, else its type (a refused connection has no message), with its cause's. */
    static String describe(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null && b.length() < 300; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            // the JDK client's refused connection is a message-less ConnectException caused by a ClosedChannelException
            if (t instanceof java.nio.channels.ClosedChannelException && !b.isEmpty()) break;
            String part = m != null && !m.isBlank() ? m
                    : t instanceof java.net.ConnectException ? "cannot connect" : t.getClass().getSimpleName();
            if (b.indexOf(part) >= 0) continue;
            if (!b.isEmpty()) b.append(": ");
            b.append(part);
        }
        return b.toString();
    }

    /** A repo file name is used as a path under the snapshot: refuse anything that could leave it. */
    private static String checkedName(String f) {
        if (f.isEmpty() || f.startsWith("/") || f.contains("\\") || f.contains("\0")
                || List.of(f.split("/")).stream().anyMatch(p -> p.isEmpty() || p.equals("..") || p.equals(".")))
            throw new HubException("the hub listed an unsafe file name: '" + f + "'");
        return f;
    }

    private JsonNode api(String repo, String revision) throws IOException {
        String url = settings.endpoint() + "/api/models/" + repo + "/revision/" + encode(revision);
        HttpResponse<byte[]> r = send(request(url, true).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 401 || r.statusCode() == 403)
            throw new HubException(repo + " is gated or private (HTTP " + r.statusCode() + "): "
                    + (settings.token() == null ? "set HF_TOKEN to a token with access" : "the token in HF_TOKEN has no access"));
        if (r.statusCode() == 404) throw new HubException(repo + "@" + revision + " does not exist on " + settings.endpoint());
        if (r.statusCode() != 200) throw new IOException("HTTP " + r.statusCode() + " from " + url);
        return json.readTree(r.body());
    }

    private record Head(String etag, long size, String url) {}

    /** Downloads one file into blobs/ (verified) and links it into the snapshot. */
    private void fetch(String repo, String commit, String file, Path dir, Path snap) throws IOException {
        String url = settings.endpoint() + "/" + repo + "/resolve/" + commit + "/" + file;
        Head head = head(url, file);
        Path blob = dir.resolve("blobs").resolve(head.etag());
        Files.createDirectories(blob.getParent());
        if (!Files.exists(blob)) {
            Path part = blob.resolveSibling(head.etag() + ".incomplete");
            IOException last = null;
            for (int attempt = 1; attempt <= ATTEMPTS && !Files.exists(blob); attempt++) {
                try {
                    get(head, part, file);
                    verify(part, head, file);
                    move(part, blob);
                } catch (IOException e) {
                    last = e; // connection cut: the next attempt resumes from what part/ holds
                    if (progress != null) progress.println("\n" + file + ": " + e.getMessage() + (attempt < ATTEMPTS ? "; resuming" : ""));
                }
            }
            if (!Files.exists(blob)) throw new IOException(file + ": " + (last == null ? "download failed" : last.getMessage()), last);
        }
        Path link = snap.resolve(file);
        Files.createDirectories(link.getParent());
        Path target = link.getParent().relativize(blob);
        try {
            Files.createSymbolicLink(link, target);
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, link, StandardCopyOption.REPLACE_EXISTING); // file systems without symlinks
        }
    }

    /**
     * HEAD without following the CDN redirect, as huggingface_hub does: LFS files answer with a redirect
     * whose X-Linked-Etag / X-Linked-Size describe the real content; relative redirects (renamed repos)
     * are followed.
     */
    private Head head(String url, String file) throws IOException {
        for (int hop = 0; hop < 5; hop++) {
            HttpResponse<Void> r = send(request(url, isHub(url)).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .header("Accept-Encoding", "identity").build(), HttpResponse.BodyHandlers.discarding());
            int s = r.statusCode();
            HttpHeaders h = r.headers();
            if (s == 401 || s == 403) throw new HubException(file + ": access denied (HTTP " + s + "); set HF_TOKEN");
            if (s == 404) throw new HubException(file + ": not found on the hub");
            String location = h.firstValue("Location").orElse(null);
            if (s >= 300 && s < 400 && location != null && !URI.create(location).isAbsolute()) {
                url = URI.create(url).resolve(location).toString();
                continue;
            }
            String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null);
            if (etag == null) throw new IOException(file + ": the hub sent no ETag; cannot verify the download");
            etag = etag.replaceFirst("^W/", "").replace("\"", "");
            if (!etag.matches("[A-Za-z0-9._-]+")) throw new HubException(file + ": unusable ETag '" + etag + "'");
            long size = h.firstValueAsLong("X-Linked-Size").orElse(h.firstValueAsLong("Content-Length").orElse(-1));
            String content = s >= 300 && s < 400 && location != null ? location : url;
            return new Head(etag, size, content);
        }
        throw new IOException(file + ": too many redirects");
    }

    /** GET into part, resuming with a Range request when part already holds bytes. */
    private void get(Head head, Path part, String file) throws IOException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (head.size() >= 0 && have > head.size()) { Files.delete(part); have = 0; }
        String url = head.url();
        HttpResponse<InputStream> r = null;
        for (int hop = 0; hop < 5; hop++) {
            HttpRequest.Builder b = request(url, isHub(url)).GET();
            if (have > 0) b.header("Range", "bytes=" + have + "-");
            r = send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            String location = r.headers().firstValue("Location").orElse(null);
            if (r.statusCode() >= 300 && r.statusCode() < 400 && location != null) {
                r.body().close();
                url = URI.create(url).resolve(location).toString();
                continue;
            }
            break;
        }
        int s = r.statusCode();
        if (s == 416 && head.size() >= 0 && have == head.size()) { r.body().close(); return; } // already complete
        if (s != 200 && s != 206) { r.body().close(); throw new IOException("HTTP " + s + " downloading " + file); }
        boolean append = s == 206;
        if (!append) have = 0; // the server ignored the Range: start over
        Progress bar = new Progress(progress, listener, file, head.size(), have);
        try (InputStream in = r.body();
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 16];
            // HttpClient has no read timeout on a body: a watchdog closes the stream when no byte arrives
            java.util.concurrent.atomic.AtomicLong lastByte = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
            var watch = WATCHDOG.scheduleAtFixedRate(() -> {
                if (System.nanoTime() - lastByte.get() > stallTimeout.toNanos()) {
                    try { in.close(); } catch (IOException ignored) { }
                }
            }, 100, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
            try {
                for (int n; (n = in.read(buf)) > 0; ) { out.write(buf, 0, n); bar.add(n); lastByte.set(System.nanoTime()); }
            } finally {
                watch.cancel(false);
            }
        }
        bar.finish();
        if (head.size() >= 0 && Files.size(part) < head.size())
            throw new IOException("connection closed after " + Files.size(part) + " of " + head.size() + " bytes");
    }

    /** LFS ETags are the sha256 of the content; small files carry the git blob sha1 ("blob N\0" + content). */
    private static void verify(Path part, Head head, String file) throws IOException {
        long size = Files.size(part);
        if (head.size() >= 0 && size != head.size()) {
            Files.delete(part);
            throw new HubException(file + ": downloaded " + size + " bytes, the hub announced " + head.size());
        }
        String expect = head.etag().toLowerCase(Locale.ROOT);
        String got;
        if (expect.matches("[0-9a-f]{64}")) got = digest(part, "SHA-256", null);
        else if (expect.matches("[0-9a-f]{40}")) got = digest(part, "SHA-1", ("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
        else return; // an opaque ETag: only the size could be checked
        if (!got.equals(expect)) {
            Files.delete(part); // a corrupt file must never be resumed nor used
            throw new HubException(file + ": checksum mismatch (expected " + expect + ", got " + got + "); the download was discarded");
        }
    }

    private static String digest(Path f, String algorithm, byte[] prefix) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            if (prefix != null) md.update(prefix);
            try (InputStream in = Files.newInputStream(f)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private boolean isHub(String url) {
        URI u = URI.create(url), e = URI.create(settings.endpoint());
        return u.getHost() != null && u.getHost().equalsIgnoreCase(e.getHost()) && u.getPort() == e.getPort();
    }

    private HttpRequest.Builder request(String url, boolean withToken) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(2))
                .header("User-Agent", "navil4j/0.1");
        if (withToken && settings.token() != null) b.header("Authorization", "Bearer " + settings.token());
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(req, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static String encode(String s) { return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8); }
}
