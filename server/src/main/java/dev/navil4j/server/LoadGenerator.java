package dev.navil4j.server;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A bounded load test: N concurrent streaming clients, each sending a fixed number of chat requests
 * to a server on this machine, measuring time to first token and throughput. Loopback only: it refuses
 * to load anything but 127.0.0.1 / ::1 / localhost.
 */
public final class LoadGenerator {
    /** One level's figures. {@code rejected} = 429 answers; {@code failed} = anything else that is not a complete 200 stream. */
    public record Report(int clients, int requests, int ok, int rejected, int failed, double seconds,
                         double requestsPerSecond, double ttftP50Ms, double ttftP99Ms, double latencyP50Ms, double tokensPerSecond) {
        public String line() {
            return String.format(Locale.ROOT, "N=%-3d requests=%-4d ok=%-4d 429=%-4d failed=%-3d %6.2f req/s  TTFT p50 %7.1f ms  p99 %7.1f ms  latency p50 %7.1f ms  %7.1f tok/s",
                    clients, requests, ok, rejected, failed, requestsPerSecond, ttftP50Ms, ttftP99Ms, latencyP50Ms, tokensPerSecond);
        }
    }

    private record Sample(int status, long ttftNanos, long totalNanos, int tokens) {}

    private final URI url;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public LoadGenerator(String baseUrl) {
        URI u = URI.create(baseUrl.replaceAll("/+$", "") + "/v1/chat/completions");
        try {
            if (u.getHost() == null || !InetAddress.getByName(u.getHost()).isLoopbackAddress())
                throw new IllegalArgumentException("load tests only run against this machine (loopback), not " + u.getHost());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("unknown host " + u.getHost());
        }
        this.url = u;
    }

    /** Runs {@code clients} concurrent clients, {@code perClient} requests each, for at most {@code limit}. */
    public Report run(int clients, int perClient, String body, Duration limit) throws InterruptedException {
        List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime(), deadline = t0 + limit.toNanos();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < clients; c++)
                fs.add(ex.submit(() -> {
                    for (int i = 0; i < perClient && System.nanoTime() < deadline; i++) samples.add(one(body, deadline));
                }));
            ex.shutdown();
            if (!ex.awaitTermination(limit.toMillis() + 30_000, TimeUnit.MILLISECONDS)) ex.shutdownNow();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        List<Long> ttft = new ArrayList<>(), total = new ArrayList<>();
        int ok = 0, rejected = 0, failed = 0;
        long tokens = 0;
        for (Sample s : samples) {
            if (s.status == 200) { ok++; ttft.add(s.ttftNanos); total.add(s.totalNanos); tokens += s.tokens; }
            else if (s.status == 429) rejected++;
            else failed++;
        }
        return new Report(clients, samples.size(), ok, rejected, failed, secs, ok / secs,
                pct(ttft, 50), pct(ttft, 99), pct(total, 50), tokens / secs);
    }

    private Sample one(String body, long deadline) {
        long start = System.nanoTime();
        try {
            long left = Math.max(1, (deadline - start) / 1_000_000);
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofMillis(left))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            long ttft = -1;
            int tokens = 0;
            boolean done = false;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                if (r.statusCode() != 200) return new Sample(r.statusCode(), 0, 0, 0);
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.startsWith("data: ")) continue;
                    if (line.equals("data: [DONE]")) { done = true; break; }
                    if (line.contains("\"error\"")) break;
                    if (line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
                        tokens++; // one delta per token that completed text
                        if (ttft < 0) ttft = System.nanoTime() - start;
                    }
                }
            }
            if (!done) return new Sample(-1, 0, 0, 0);
            long end = System.nanoTime() - start;
            return new Sample(200, ttft < 0 ? end : ttft, end, tokens);
        } catch (Exception e) {
            return new Sample(-1, 0, 0, 0);
        }
    }

    private static double pct(List<Long> xs, int p) {
        if (xs.isEmpty()) return Double.NaN;
        List<Long> s = new ArrayList<>(xs);
        Collections.sort(s);
        int i = (int) Math.ceil(p / 100.0 * s.size()) - 1;
        return s.get(Math.max(0, Math.min(s.size() - 1, i))) / 1e6;
    }
}
