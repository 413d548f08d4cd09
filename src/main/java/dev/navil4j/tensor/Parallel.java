package dev.navil4j.tensor;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The engine's fixed pool of platform threads for compute (virtual threads are not time-sliced, so
 * kernels never run on them). Size: {@code -Dnavil4j.threads=N} or {@link #setThreads}, default the
 * number of cores. A call made from inside a worker runs inline, so kernels may nest without deadlock.
 */
public final class Parallel {
    public interface RangeTask { void run(int from, int to); }

    private static volatile int threads = Integer.getInteger("navil4j.threads", Runtime.getRuntime().availableProcessors());
    private static volatile ExecutorService pool;
    private static final ThreadLocal<Boolean> IN_WORKER = ThreadLocal.withInitial(() -> false);

    private Parallel() {}

    public static int threads() { return threads; }

    /** Sets the worker count for subsequent calls (1 = everything on the caller's thread). */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        if (n != threads && pool != null) { pool.shutdown(); pool = null; }
        threads = n;
    }

    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                if (pool == null) {
                    pool = Executors.newFixedThreadPool(Math.max(1, threads - 1), r -> {
                        Thread t = new Thread(() -> { IN_WORKER.set(true); r.run(); }, "navil4j-compute");
                        t.setDaemon(true);
                        return t;
                    });
                }
                p = pool;
            }
        }
        return p;
    }

    /**
     * Runs task over [0, n) split into at most {@code threads} contiguous chunks, each at least {@code grain}
     * long; the caller runs the first chunk. Exceptions in a chunk are rethrown here.
     */
    public static void forRange(int n, int grain, RangeTask task) {
        int t = threads;
        int chunks = Math.min(t, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || IN_WORKER.get()) {
            if (n > 0) task.run(0, n);
            return;
        }
        CountDownLatch done = new CountDownLatch(chunks - 1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        ExecutorService p = pool();
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
            p.execute(() -> {
                try { task.run(from, to); } catch (Throwable e) { error.compareAndSet(null, e); } finally { done.countDown(); }
            });
        }
        try {
            task.run(0, (int) ((long) n / chunks));
        } catch (Throwable e) {
            error.compareAndSet(null, e);
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while computing", e);
        }
        Throwable e = error.get();
        if (e instanceof RuntimeException re) throw re;
        if (e instanceof Error er) throw er;
        if (e != null) throw new IllegalStateException(e);
    }
}
