package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code /metrics} parses as Prometheus text format and counts what the requests did. */
class MetricsTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private OpenAiServer server;

    @AfterEach
    void stop() { if (server != null) server.close(); }

    /** One sample: metric name, labels, value. */
    record Sample(String name, Map<String, String> labels, double value) {}

    /** Families (name → type) and samples of a Prometheus text-format (0.0.4) exposition; throws on a malformed line. */
    record Exposition(Map<String, String> types, List<Sample> samples) {
        double value(String name, Map<String, String> labels) {
            for (Sample s : samples) if (s.name.equals(name) && s.labels.equals(labels)) return s.value;
            return Double.NaN;
        }
    }

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\[\\\\\"n])*)\"\\s*(,|$)");

    static Exposition parse(String text) {
        Map<String, String> types = new LinkedHashMap<>();
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) continue;
            if (line.startsWith("#")) {
                String[] p = line.split(" ", 4);
                if (p.length >= 3 && p[1].equals("TYPE")) {
                    if (!NAME.matcher(p[2]).matches()) throw new IllegalArgumentException("bad name: " + line);
                    if (!List.of("counter", "gauge", "histogram", "summary", "untyped").contains(p[3]))
                        throw new IllegalArgumentException("bad type: " + line);
                    if (types.put(p[2], p[3]) != null) throw new IllegalArgumentException("TYPE twice: " + line);
                } else if (p.length < 3 || !p[1].equals("HELP")) throw new IllegalArgumentException("bad comment: " + line);
                continue;
            }
            Matcher m = NAME.matcher(line);
            if (!m.lookingAt()) throw new IllegalArgumentException("bad sample: " + line);
            String name = m.group();
            String rest = line.substring(m.end());
            Map<String, String> labels = new HashMap<>();
            if (rest.startsWith("{")) {
                int close = rest.indexOf('}');
                if (close < 0) throw new IllegalArgumentException("unclosed labels: " + line);
                String body = rest.substring(1, close);
                Matcher lm = LABEL.matcher(body);
                int at = 0;
                while (at < body.length()) {
                    if (!lm.find(at) || lm.start() != at) throw new IllegalArgumentException("bad labels: " + line);
                    labels.put(lm.group(1), lm.group(2));
                    at = lm.end();
                }
                rest = rest.substring(close + 1);
            }
            if (!rest.startsWith(" ")) throw new IllegalArgumentException("no value: " + line);
            String[] v = rest.trim().split(" ");
            double value = switch (v[0]) { case "+Inf" -> Double.POSITIVE_INFINITY; case "-Inf" -> Double.NEGATIVE_INFINITY; default -> Double.parseDouble(v[0]); };
            String family = name.replaceAll("_(bucket|sum|count)$", "");
            if (!types.containsKey(name) && !(types.containsKey(family) && types.get(family).equals("histogram")))
                throw new IllegalArgumentException("sample before its TYPE: " + line);
            samples.add(new Sample(name, labels, value));
        }
        // histograms: cumulative buckets, +Inf equal to _count
        for (var t : types.entrySet()) {
            if (!t.getValue().equals("histogram")) continue;
            double prev = 0, inf = Double.NaN, count = Double.NaN;
            for (Sample s : samples) {
                if (s.name.equals(t.getKey() + "_bucket")) {
                    if (s.value < prev) throw new IllegalArgumentException("buckets not cumulative: " + t.getKey());
                    prev = s.value;
                    if (s.labels.get("le").equals("+Inf")) inf = s.value;
                }
                if (s.name.equals(t.getKey() + "_count")) count = s.value;
            }
            if (!(inf == count)) throw new IllegalArgumentException("+Inf bucket != _count: " + t.getKey());
        }
        return new Exposition(types, samples);
    }

    @Test
    void parserRejectsMalformedText() {
        for (String bad : List.of("x 1\n", "# TYPE x counter\nx{a=\"b} 1\n", "# TYPE x counter\nx{a=b} 1\n", "# TYPE x counter\nx\n",
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "# TYPE x wrong\n"))
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        assertThat(parse("# HELP x y\n# TYPE x counter\nx{a=\"q\\\"\",b=\"2\"} 3\n").value("x", Map.of("a", "q\\\"", "b", "2"))).isEqualTo(3);
    }

    private HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private Exposition scrape() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain; version=0.0.4");
        return parse(r.body());
    }

    @Test
    void metricsCountRequestsTokensAndLatencies() throws Exception {
        server = OpenAiServer.start(new FakeModel(512, 0), ServerOptions.defaults("fake-model"), "127.0.0.1", 0);
        int completion = 0, prompt = 0;
        String longer = "one question long enough to be reused from the prefix cache";
        for (String q : List.of(longer, "two words", longer)) {
            HttpResponse<String> r = post(ServerTest.user(q) + "}");
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode u = ServerTest.JSON.readTree(r.body()).path("usage");
            completion += u.path("completion_tokens").asInt();
            prompt += u.path("prompt_tokens").asInt();
        }
        JsonNode n2 = ServerTest.JSON.readTree(post(ServerTest.user("x") + ",\"n\":2}").body()).path("usage");
        completion += n2.path("completion_tokens").asInt();
        prompt += n2.path("prompt_tokens").asInt();
        assertThat(post("{\"messages\":[]}").statusCode()).isEqualTo(400);
        Map<String, String> ok = Map.of("route", "/v1/chat/completions", "status", "200");
        Map<String, String> bad = Map.of("route", "/v1/chat/completions", "status", "400");
        Exposition e = scrape();
        for (long end = System.currentTimeMillis() + 5000; (e.value("navil4j_requests_total", bad) != 1) && System.currentTimeMillis() < end; e = scrape())
            Thread.sleep(20); // the request log runs just after the response
        assertThat(e.value("navil4j_requests_total", ok)).isEqualTo(4);
        assertThat(e.value("navil4j_requests_total", bad)).isEqualTo(1);
        assertThat(e.types()).containsEntry("navil4j_time_to_first_token_seconds", "histogram")
                .containsEntry("navil4j_inter_token_seconds", "histogram").containsEntry("navil4j_kv_cache_bytes", "gauge");
        assertThat(e.value("navil4j_completion_tokens_total", Map.of())).isEqualTo(completion);
        assertThat(e.value("navil4j_prompt_tokens_total", Map.of())).isEqualTo(prompt);
        // one first token per choice (3 + 2), the others are inter-token gaps
        assertThat(e.value("navil4j_time_to_first_token_seconds_count", Map.of())).isEqualTo(5);
        assertThat(e.value("navil4j_inter_token_seconds_count", Map.of())).isEqualTo(completion - 5);
        assertThat(e.value("navil4j_active_sequences", Map.of())).isZero();
        assertThat(e.value("navil4j_queue_depth", Map.of())).isZero();
        // the repeated prompt started from the cached prefix
        assertThat(e.value("navil4j_prefix_cache_hits_total", Map.of())).isGreaterThanOrEqualTo(1);
        assertThat(e.value("navil4j_kv_cache_bytes", Map.of("pool", "prefix_cache"))).isPositive();
        assertThat(e.value("navil4j_media_cache_hits_total", Map.of())).isZero();
        // unknown paths share one label
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/nope/" + System.nanoTime())).GET().build(), HttpResponse.BodyHandlers.ofString());
        e = scrape();
        for (long end = System.currentTimeMillis() + 5000; Double.isNaN(e.value("navil4j_requests_total", Map.of("route", "other", "status", "404"))) && System.currentTimeMillis() < end; e = scrape())
            Thread.sleep(20);
        assertThat(e.value("navil4j_requests_total", Map.of("route", "other", "status", "404"))).isEqualTo(1);
    }

    /**
     * The same exposition through the Prometheus project's own parser (the Python client's
     * {@code prometheus_client.parser.text_string_to_metric_families}, installed into a venv under target/ from the
     * machine's wheel directory): it must accept the text and find exactly the samples our parser finds. Skipped,
     * saying so, where neither python3 with prometheus_client nor a wheel to install it is available.
     */
    @Test
    void theExpositionParsesWithPrometheusClientsParser() throws Exception {
        java.nio.file.Path python = prometheusPython();
        org.junit.jupiter.api.Assumptions.assumeTrue(python != null, "no python3 with prometheus_client (nor its wheel in "
                + WHEELS + ") on this machine");
        server = OpenAiServer.start(new FakeModel(512, 0), ServerOptions.defaults("fake-model"), "127.0.0.1", 0);
        assertThat(post(ServerTest.user("hello there") + "}").statusCode()).isEqualTo(200);
        assertThat(post("{\"messages\":[]}").statusCode()).isEqualTo(400);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        java.nio.file.Path text = java.nio.file.Files.createTempFile("navil4j-metrics", ".txt");
        try {
            java.nio.file.Files.writeString(text, r.body());
            String script = String.join("\n",
                    "import sys, json",
                    "from prometheus_client.parser import text_string_to_metric_families",
                    "for fam in text_string_to_metric_families(open(sys.argv[1]).read()):",
                    "    for s in fam.samples:",
                    "        print(json.dumps({'family': fam.name, 'type': fam.type, 'name': s.name, 'labels': s.labels, 'value': s.value}))");
            Process p = new ProcessBuilder(python.toString(), "-c", script, text.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(out).isZero();
            List<Sample> theirs = new ArrayList<>();
            for (String line : out.strip().split("\n")) {
                JsonNode j = ServerTest.JSON.readTree(line);
                Map<String, String> labels = new HashMap<>();
                j.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
                theirs.add(new Sample(j.path("name").asText(), labels, j.path("value").asDouble()));
            }
            Exposition ours = parse(r.body());
            assertThat(theirs).hasSize(ours.samples().size());
            for (Sample s : ours.samples())
                assertThat(theirs).as(s.toString()).anyMatch(t -> t.name().equals(s.name()) && t.labels().equals(unescaped(s.labels()))
                        && (t.value() == s.value() || Double.isNaN(t.value()) && Double.isNaN(s.value())));
        } finally {
            java.nio.file.Files.deleteIfExists(text);
        }
    }

    static final java.nio.file.Path WHEELS = java.nio.file.Path.of(System.getenv().getOrDefault("OPENAI_WHEELS", "/opt/pypi/files"));

    /** Label values as the parser returns them (escapes resolved); ours keeps the escaped text. */
    private static Map<String, String> unescaped(Map<String, String> labels) {
        Map<String, String> m = new HashMap<>();
        labels.forEach((k, v) -> m.put(k, v.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\")));
        return m;
    }

    /** python3 that imports prometheus_client: the system's, else a venv in target/ with the local wheel; null if neither. */
    private static java.nio.file.Path prometheusPython() throws Exception {
        java.nio.file.Path venv = java.nio.file.Path.of("server/target/prometheus-venv").toAbsolutePath();
        for (String py : List.of("python3", venv.resolve("bin/python").toString()))
            if (runs(py, "-c", "import prometheus_client")) return java.nio.file.Path.of(py);
        if (!runs("python3", "-c", "import venv") || !java.nio.file.Files.isDirectory(WHEELS)) return null;
        if (!runs("python3", "-m", "venv", venv.toString())) return null;
        if (!runs(venv.resolve("bin/pip").toString(), "install", "-q", "--no-index", "--find-links", WHEELS.toString(), "prometheus_client"))
            return null;
        return runs(venv.resolve("bin/python").toString(), "-c", "import prometheus_client") ? venv.resolve("bin/python") : null;
    }

    private static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
