package dev.navil4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine's fixed team of platform threads for compute (virtual threads are not time-sliced, so
 * kernels never run on them). Size: {@code -Dnavil4j.threads=N} or {@link #setThreads}, default the
 * number of cores.
 * <p>Decode issues a few hundred small parallel regions per token (every projection is one), so the
 * hand-off must cost microseconds, not the 20–100 µs of an executor's queue + park/unpark: workers spin on
 * a generation counter for {@code -Dnavil4j.spinMicros} (default 200) after each region before parking, as
 * llama.cpp's thread pool does. The caller works on the chunks too.
 * <p>A call made from inside a region (a worker, or the caller while it runs its chunk) runs inline, so
 * kernels may nest without deadlock; a call from a second thread while the team is busy also runs inline.
 * Every user splits work so that results do not depend on the chunking (disjoint outputs), which keeps
 * 1 thread and N threads bit-identical.
 */
public final class Parallel {
    public interface RangeTask { void run(int from, int to); }

    private static volatile int threads = Integer.getInteger("navil4j.threads", Runtime.getRuntime().availableProcessors());
    private static final long SPIN_NANOS = Long.getLong("navil4j.spinMicros", 200) * 1000;
    private static volatile Team team;
    private static final ThreadLocal<boolean[]> IN_REGION = ThreadLocal.withInitial(() -> new boolean[1]);

    private Parallel() {}

    public static int threads() { return threads; }

    /** Sets the worker count for subsequent calls (1 = everything on the caller's thread). */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        if (n != threads && team != null) { team.shutdown(); team = null; }
        threads = n;
    }

    private static Team team() {
        Team t = team;
        if (t == null) {
            synchronized (Parallel.class) {
                if (team == null) team = new Team(threads - 1);
                t = team;
            }
        }
        return t;
    }

    /**
     * Runs task over [0, n) split into at most {@code threads} contiguous chunks, each at least {@code grain}
     * long; the caller works on chunks too. Exceptions in a chunk are rethrown here.
     */
    public static void forRange(int n, int grain, RangeTask task) {
        forRange(n, grain, 1, task);
    }

    /**
     * As {@link #forRange(int, int, RangeTask)} with up to {@code chunksPerThread} chunks per thread, claimed
     * dynamically: memory-bound loops (the decode GEMV) finish together even when one core is slower or
     * briefly busy, instead of the caller waiting for the last static half.
     */
    public static void forRange(int n, int grain, int chunksPerThread, RangeTask task) {
        int chunks = Math.min(threads * Math.max(1, chunksPerThread), Math.max(1, n / Math.max(1, grain)));
        if (threads == 1) chunks = 1;
        boolean[] inRegion = IN_REGION.get();
        if (chunks <= 1 || inRegion[0]) {
            if (n > 0) task.run(0, n);
            return;
        }
        Team t = team();
        if (!t.lock.tryLock()) {
            // another thread owns the team (or it is being resized): same result, computed here
            task.run(0, n);
            return;
        }
        inRegion[0] = true;
        try {
            t.run(n, chunks, task);
        } finally {
            inRegion[0] = false;
            t.lock.unlock();
        }
    }

    /**
     * One parallel region, published to the workers through a single volatile write. Chunks are claimed from
     * {@code next} by whoever is free (the caller included), so a worker the OS has descheduled delays nothing:
     * its chunk is taken by the caller. Chunk boundaries depend only on (n, chunks), never on who runs them.
     */
    private record Job(RangeTask task, int n, int chunks, AtomicInteger next, AtomicInteger done, AtomicReference<Throwable> error) {
        /** Claims and runs chunks until none is left. */
        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    task.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    /** The worker team: one job at a time, guarded by {@link #lock}. */
    private static final class Team {
        final ReentrantLock lock = new ReentrantLock();
        final Worker[] workers;
        volatile Job job;
        volatile boolean stopped;

        Team(int size) {
            workers = new Worker[size];
            for (int i = 0; i < size; i++) {
                workers[i] = new Worker(this, i + 1);
                workers[i].start();
            }
        }

        void run(int n, int chunks, RangeTask task) {
            Job j = new Job(task, n, chunks, new AtomicInteger(), new AtomicInteger(), new AtomicReference<>());
            job = j;
            for (int i = 0; i < Math.min(chunks - 1, workers.length); i++) if (workers[i].parked) LockSupport.unpark(workers[i]);
            j.work();
            // chunks still running elsewhere are about as long as ours: spin, then yield
            long spins = 0;
            while (j.done.get() != chunks) {
                if (++spins < 1 << 16) Thread.onSpinWait();
                else Thread.yield();
            }
            Throwable e = j.error.get();
            if (e instanceof RuntimeException re) throw re;
            if (e instanceof Error er) throw er;
            if (e != null) throw new IllegalStateException(e);
        }

        void shutdown() {
            stopped = true;
            for (Worker w : workers) LockSupport.unpark(w);
        }
    }

    private static final class Worker extends Thread {
        final Team team;
        final int chunk;
        volatile boolean parked;

        Worker(Team team, int chunk) {
            super("navil4j-compute-" + chunk);
            this.team = team;
            this.chunk = chunk;
            setDaemon(true);
        }

        @Override
        public void run() {
            IN_REGION.get()[0] = true;
            Job seen = null; // never a published job: the first one is always run
            while (!team.stopped) {
                Job j = team.job;
                if (j == seen) {
                    j = awaitJob(seen);
                    if (j == seen) continue;
                }
                seen = j;
                j.work();
            }
        }

        /** Spins for SPIN_NANOS, then parks; returns the job seen on waking (may still be {@code seen}). */
        private Job awaitJob(Job seen) {
            long start = System.nanoTime();
            int spins = 0;
            while (team.job == seen && !team.stopped) {
                Thread.onSpinWait();
                if ((++spins & 255) == 0 && System.nanoTime() - start > SPIN_NANOS) {
                    parked = true;
                    if (team.job == seen && !team.stopped) LockSupport.park(this);
                    parked = false;
                    break;
                }
            }
            return team.job;
        }
    }
}
