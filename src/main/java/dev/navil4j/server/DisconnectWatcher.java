package dev.navil4j.server;

import io.javalin.http.Context;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * Notices a client that closes its connection while its request is computed, so that the job is cancelled and
 * its batch slot and KV cache are freed at once. A streamed answer notices on its next write; a non-streamed one
 * writes nothing until the end, and Jetty (11) does not read a connection while its request is being handled, so
 * a dropped non-streaming client used to keep its job running to the last token (minutes were seen).
 * <p>One platform thread selects on the watched sockets with its own {@link Selector} (a channel may be registered
 * with several selectors; Jetty's own registration is untouched, and nothing is read). A socket that turns readable
 * with no bytes available has reached end of stream or was reset: the client is gone. Bytes from the client (a
 * pipelined next request) end the watch without a verdict and are left for Jetty.
 */
final class DisconnectWatcher implements AutoCloseable {
    /** A registration; closing it ends the watch (the request finished). */
    interface Watch extends AutoCloseable {
        @Override void close();
    }

    private static final Watch NONE = () -> {};

    private final Selector selector;
    private final Thread thread;
    private volatile boolean closed;

    DisconnectWatcher() {
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector for client disconnects", e);
        }
        this.thread = Thread.ofPlatform().name("navil4j-disconnects").daemon(true).start(this::loop);
    }

    /**
     * Calls {@code onGone} (once, on the watcher thread; it must not block) if the request's client closes its
     * connection before the returned watch is closed. Connections that are not plain sockets are not watched.
     */
    Watch watch(Context ctx, Runnable onGone) {
        SocketChannel channel = channel(ctx);
        if (channel == null || closed) return NONE;
        try {
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ, onGone);
            selector.wakeup(); // the registration takes effect at the next select
            return () -> {
                key.cancel();
                selector.wakeup(); // deregister now: the channel's socket is only released once no selector holds it
            };
        } catch (ClosedChannelException e) {
            onGone.run(); // already closed by the client (or Jetty)
            return NONE;
        } catch (RuntimeException e) {
            return NONE; // e.g. a blocking channel: no verdict possible, the job runs as before
        }
    }

    private static SocketChannel channel(Context ctx) {
        try {
            org.eclipse.jetty.server.Request base = org.eclipse.jetty.server.Request.getBaseRequest(ctx.req());
            if (base == null || base.getHttpChannel() == null) return null;
            EndPoint ep = base.getHttpChannel().getEndPoint();
            return ep instanceof SocketChannelEndPoint s ? s.getChannel() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void loop() {
        while (!closed) {
            try {
                selector.select(1000);
                for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey key = it.next();
                    it.remove();
                    SocketChannel ch = (SocketChannel) key.channel();
                    boolean gone = !ch.isOpen() || available(ch) == 0;
                    key.cancel(); // one verdict per watch
                    if (gone) ((Runnable) key.attachment()).run();
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) System.err.println("navil4j: disconnect watcher: " + e);
            }
        }
    }

    /** Bytes readable without blocking (FIONREAD); 0 on a readable socket means end of stream or reset. */
    private static int available(SocketChannel ch) {
        try {
            return ch.socket().getInputStream().available();
        } catch (IOException e) {
            return 0; // closed or reset
        }
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try { thread.join(2000); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        try { selector.close(); } catch (IOException ignored) { }
    }
}
