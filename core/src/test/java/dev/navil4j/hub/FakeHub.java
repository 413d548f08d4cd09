package dev.navil4j.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * A local stand-in for the hub serving one directory as repo {@code repo} at one commit: the model-info API
 * (sha + siblings) and {@code resolve/} URLs answering HEAD with an ETag (the file's sha256, as for LFS files) and
 * GET with the bytes. Enough for {@link HfHub} to download a snapshot the way it does from huggingface.co.
 */
public final class FakeHub implements AutoCloseable {
    public static final String COMMIT = "89abcdef0123456789abcdef0123456789abcdef";
    private final HttpServer server;
    private final Path dir;
    private final String repo;
    public final List<String> requests = new CopyOnWriteArrayList<>();

    public FakeHub(String repo, Path dir) {
        this.repo = repo;
        this.dir = dir;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", this::serve);
        server.start();
    }

    public String endpoint() { return "http://127.0.0.1:" + server.getAddress().getPort(); }

    /** Settings that download from this fake into {@code cache}. */
    public HfHub.Settings settings(Path cache) { return new HfHub.Settings(cache, endpoint(), null, false); }

    private List<String> files() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) out.add(dir.relativize(p).toString().replace('\\', '/'));
        }
        return out;
    }

    private void serve(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(ex.getRequestMethod() + " " + path);
        try (ex) {
            if (path.equals("/api/models/" + repo + "/revision/main")) {
                StringBuilder b = new StringBuilder("{\"sha\":\"" + COMMIT + "\",\"siblings\":[");
                List<String> fs = files();
                for (int i = 0; i < fs.size(); i++) b.append(i > 0 ? "," : "").append("{\"rfilename\":\"").append(fs.get(i)).append("\"}");
                reply(ex, 200, b.append("]}").toString().getBytes(), null);
                return;
            }
            String prefix = "/" + repo + "/resolve/" + COMMIT + "/";
            if (path.startsWith(prefix) && Files.isRegularFile(dir.resolve(path.substring(prefix.length())))) {
                byte[] bytes = Files.readAllBytes(dir.resolve(path.substring(prefix.length())));
                reply(ex, 200, ex.getRequestMethod().equals("HEAD") ? null : bytes, bytes);
                return;
            }
            reply(ex, 404, new byte[0], null);
        }
    }

    private static void reply(HttpExchange ex, int status, byte[] body, byte[] etagOf) throws IOException {
        if (etagOf != null) {
            ex.getResponseHeaders().add("ETag", "\"" + sha256(etagOf) + "\"");
            ex.getResponseHeaders().add("X-Linked-Size", Long.toString(etagOf.length));
        }
        if (body == null) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream o = ex.getResponseBody()) { o.write(body); }
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() { server.stop(0); }
}
