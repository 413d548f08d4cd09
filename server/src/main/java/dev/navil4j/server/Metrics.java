package dev.navil4j.server;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The server's counters and latency histograms, written in the Prometheus text exposition format (version 0.0.4:
 * {@code # HELP}/{@code # TYPE} lines, cumulative {@code _bucket{le="…"}} with {@code +Inf}, {@code _sum}, {@code _count}).
 * Thread-safe; observations are lock-free.
 */
public final class Metrics {
    /** Requests answered, by route and HTTP status. */
    private final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();
    final Histogram ttft = new Histogram(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);
    final Histogram interToken = new Histogram(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5);
    final AtomicLong promptTokens = new AtomicLong(), completionTokens = new AtomicLong();

    /** Fixed buckets (upper bounds in seconds); cumulative counts are formed when written. */
    static final class Histogram {
        final double[] bounds;
        final AtomicLongArray counts;
        final AtomicLong count = new AtomicLong();
        final AtomicLong sumNanos = new AtomicLong();

        Histogram(double... bounds) {
            this.bounds = bounds;
            this.counts = new AtomicLongArray(bounds.length + 1);
        }

        void observeNanos(long nanos) {
            double s = nanos / 1e9;
            int b = 0;
            while (b < bounds.length && s > bounds[b]) b++;
            counts.incrementAndGet(b);
            count.incrementAndGet();
            sumNanos.addAndGet(nanos);
        }
    }

    void request(String route, int status) {
        requests.computeIfAbsent(route + "\u0000" + status, k -> new AtomicLong()).incrementAndGet();
    }

    /** Gauges read at scrape time. */
    record Gauges(int queued, int activeSequences, long kvBytesActive, long kvBytesPrefixCache, long mediaCacheHits,
                  long mediaCacheMisses, long prefixCacheHits, long prefixCacheLookups, long prefixCacheReusedTokens) {}

    String render(Gauges g) {
        StringBuilder sb = new StringBuilder(4096);
        header(sb, "navil4j_requests_total", "counter", "HTTP requests answered, by route and status code");
        Map<String, Long> sorted = new TreeMap<>();
        requests.forEach((k, v) -> sorted.put(k, v.get()));
        for (var e : sorted.entrySet()) {
            String[] rs = e.getKey().split("\u0000", 2);
            sb.append("navil4j_requests_total{route=\"").append(escape(rs[0])).append("\",status=\"").append(rs[1]).append("\"} ")
                    .append(e.getValue()).append('\n');
        }
        gauge(sb, "navil4j_queue_depth", "requests waiting for a batch slot (prepared or being prepared)", g.queued());
        gauge(sb, "navil4j_active_sequences", "sequences in the running batch", g.activeSequences());
        counter(sb, "navil4j_prompt_tokens_total", "prompt tokens of finished choices", promptTokens.get());
        counter(sb, "navil4j_completion_tokens_total", "generated tokens of finished choices", completionTokens.get());
        histogram(sb, "navil4j_time_to_first_token_seconds", "request submission to its first generated token", ttft);
        histogram(sb, "navil4j_inter_token_seconds", "time between consecutive generated tokens of a sequence", interToken);
        counter(sb, "navil4j_media_cache_hits_total", "encoded images/videos taken from the media cache", g.mediaCacheHits());
        counter(sb, "navil4j_media_cache_misses_total", "images/videos encoded", g.mediaCacheMisses());
        counter(sb, "navil4j_prefix_cache_hits_total", "admissions that started from a cached KV prefix", g.prefixCacheHits());
        counter(sb, "navil4j_prefix_cache_lookups_total", "admissions that looked up the prefix cache", g.prefixCacheLookups());
        counter(sb, "navil4j_prefix_cache_reused_tokens_total", "prompt tokens not recomputed thanks to the prefix cache", g.prefixCacheReusedTokens());
        header(sb, "navil4j_kv_cache_bytes", "gauge", "KV-cache bytes held");
        sb.append("navil4j_kv_cache_bytes{pool=\"active\"} ").append(g.kvBytesActive()).append('\n');
        sb.append("navil4j_kv_cache_bytes{pool=\"prefix_cache\"} ").append(g.kvBytesPrefixCache()).append('\n');
        return sb.toString();
    }

    private static void header(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long v) {
        header(sb, name, "gauge", help);
        sb.append(name).append(' ').append(v).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long v) {
        header(sb, name, "counter", help);
        sb.append(name).append(' ').append(v).append('\n');
    }

    private static void histogram(StringBuilder sb, String name, String help, Histogram h) {
        header(sb, name, "histogram", help);
        // _count is the +Inf bucket as written, so the two always agree even while observations land
        long cum = 0;
        for (int b = 0; b < h.bounds.length; b++) {
            cum += h.counts.get(b);
            sb.append(name).append("_bucket{le=\"").append(num(h.bounds[b])).append("\"} ").append(cum).append('\n');
        }
        cum += h.counts.get(h.bounds.length);
        sb.append(name).append("_bucket{le=\"+Inf\"} ").append(cum).append('\n');
        sb.append(name).append("_sum ").append(num(h.sumNanos.get() / 1e9)).append('\n');
        sb.append(name).append("_count ").append(cum).append('\n');
    }

    private static String num(double d) { return String.format(Locale.ROOT, "%s", d); }

    private static String escape(String s) { return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"); }
}
