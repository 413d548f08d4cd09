package dev.navil4j;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The pieces of an answer as they are generated, as a blocking {@link Iterator}: {@code hasNext()} waits
 * for the next piece. Generation runs on its own thread and never waits for the reader (pieces are
 * buffered). {@link #close()} stops generation early; use try-with-resources. An error during generation
 * is rethrown by {@code hasNext()}/{@code next()} and by {@link #response()}.
 * <p>Use a stream from one thread.
 */
public final class TokenStream implements Iterator<String>, AutoCloseable {
    private static final Object END = new Object();
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean cancelled;
    private volatile Response response;
    private volatile Throwable error;
    private String next;
    private boolean ended;

    TokenStream(ChatSession session, Request request) {
        worker = Thread.ofPlatform().name("navil4j-generate").daemon(true).unstarted(() -> {
            try {
                response = session.run(request, queue::add, () -> cancelled);
            } catch (Throwable t) {
                error = t;
            } finally {
                session.release();
                queue.add(END);
            }
        });
        worker.start();
    }

    @Override
    public boolean hasNext() {
        if (next != null) return true;
        if (ended) return false;
        Object o;
        try {
            o = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the answer", e);
        }
        if (o == END) {
            ended = true;
            rethrow();
            return false;
        }
        next = (String) o;
        return true;
    }

    @Override
    public String next() {
        if (!hasNext()) throw new NoSuchElementException("the answer is complete");
        String s = next;
        next = null;
        return s;
    }

    /** Waits for generation to end and returns the response (finish CANCELLED when closed early). */
    public Response response() {
        join();
        rethrow();
        return response;
    }

    /** Stops generation (if still running) and waits for it to end; idempotent. */
    @Override
    public void close() {
        cancelled = true;
        join();
    }

    private void join() {
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the answer", e);
        }
    }

    private void rethrow() {
        Throwable t = error;
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error er) throw er;
        if (t != null) throw new IllegalStateException(t);
    }
}
