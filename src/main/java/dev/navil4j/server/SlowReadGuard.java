package dev.navil4j.server;

import io.javalin.http.Context;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpConnection;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Closes connections whose request arrives too slowly (slow-loris): the request headers, and separately the body,
 * must each arrive within {@code limit} of their first byte. Jetty's idle timeout alone does not stop a client that
 * sends one byte just before every timeout, and its {@code minRequestDataRate} checks only when body bytes arrive
 * (and fails with an unchecked exception the handler would answer 500). Headers that time out are answered
 * {@code 408} and the connection closed; a body that times out is cut off by closing the connection, and the
 * request thread reading it answers 408 ({@link #timedOut}). Neither ever reaches the scheduler: the body is read
 * before a job is submitted.
 * <p>A sampler thread looks at each open connection's parser state every {@code limit / 8} (at most 250 ms), so a
 * connection is closed between {@code limit} and {@code limit} plus one period after its headers or body began.
 */
final class SlowReadGuard implements Connection.Listener, AutoCloseable {
    /** Where a connection's current request was first seen unfinished: its message count, phase, and time. */
    private record Reading(long messages, boolean body, long sinceNanos) {}

    private static final byte[] TIMEOUT_BODY = ("{\"error\":{\"message\":\"the request headers were not received in time\","
            + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"request_timeout\"}}").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] REQUEST_TIMEOUT = ("HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
            + "Connection: close\r\nContent-Length: " + TIMEOUT_BODY.length + "\r\n\r\n" + new String(TIMEOUT_BODY, StandardCharsets.US_ASCII))
            .getBytes(StandardCharsets.US_ASCII);

    private final long limitNanos;
    private final Duration limit;
    private final Map<HttpConnection, Reading> open = new ConcurrentHashMap<>();
    /** Endpoints cut off mid-body; weak: the request thread still holds its endpoint when it asks, after the close. */
    private final Map<EndPoint, Boolean> timedOut = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    private final ScheduledExecutorService sampler;

    SlowReadGuard(Duration limit) {
        this.limit = limit;
        this.limitNanos = limit.toNanos();
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("navil4j-slow-reads").daemon(true).unstarted(r));
        long period = Math.max(10, Math.min(250, limit.toMillis() / 8));
        sampler.scheduleWithFixedDelay(this::sample, period, period, TimeUnit.MILLISECONDS);
    }

    Duration limit() { return limit; }

    private static final Reading IDLE = new Reading(-1, false, 0);

    @Override
    public void onOpened(Connection c) { if (c instanceof HttpConnection h) open.put(h, IDLE); }

    @Override
    public void onClosed(Connection c) {
        if (c instanceof HttpConnection h) open.remove(h);
    }

    /** Whether this request's connection was closed because its body did not arrive in time. */
    boolean timedOut(Context ctx) {
        try {
            org.eclipse.jetty.server.Request base = org.eclipse.jetty.server.Request.getBaseRequest(ctx.req());
            return base != null && base.getHttpChannel() != null && timedOut.containsKey(base.getHttpChannel().getEndPoint());
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void sample() {
        long now = System.nanoTime();
        for (Map.Entry<HttpConnection, Reading> e : open.entrySet()) {
            try {
                HttpConnection h = e.getKey();
                HttpParser parser = h.getParser();
                // START: idle between requests (Jetty's idle timeout governs it); END..CLOSED: read completely
                if (parser.isIdle() || parser.isComplete()) {
                    if (e.getValue() != IDLE) e.setValue(IDLE);
                    continue;
                }
                boolean body = parser.inContentState() || parser.isState(HttpParser.State.TRAILER);
                Reading r = e.getValue();
                if (r.messages != h.getMessagesIn() || r.body != body) {
                    e.setValue(new Reading(h.getMessagesIn(), body, now));
                    continue;
                }
                if (now - r.sinceNanos > limitNanos) {
                    open.remove(h);
                    expire(h.getEndPoint(), body);
                }
            } catch (RuntimeException ex) {
                // a connection closing meanwhile: nothing to do
            }
        }
    }

    private void expire(EndPoint ep, boolean body) {
        timedOut.put(ep, Boolean.TRUE);
        System.err.println("navil4j: closing a connection from " + ep.getRemoteSocketAddress() + ": request "
                + (body ? "body" : "headers") + " not received within " + limit.toSeconds() + " s");
        if (body) { ep.close(); return; } // the request thread owns the response; it answers 408 (see timedOut)
        try {
            ep.write(Callback.from(ep::close, x -> ep.close()), ByteBuffer.wrap(REQUEST_TIMEOUT));
        } catch (RuntimeException x) {
            ep.close();
        }
    }

    @Override
    public void close() { sampler.shutdownNow(); }
}
