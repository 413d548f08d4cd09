package dev.navil4j.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The spinning worker team: coverage, nesting, exceptions, concurrent callers and resizing. */
class ParallelTest {
    @AfterEach
    void restore() { Parallel.setThreads(Runtime.getRuntime().availableProcessors()); }

    @Test
    void everyIndexRunsExactlyOnceInContiguousChunks() {
        for (int threads : new int[]{1, 2, 3, 5}) {
            Parallel.setThreads(threads);
            for (int n : new int[]{0, 1, 2, 7, 100, 10_007}) {
                for (int rep = 0; rep < 50; rep++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
                    AtomicInteger calls = new AtomicInteger();
                    Parallel.forRange(n, 3, (from, to) -> {
                        assertTrue(from < to && from >= 0 && to <= n, from + ".." + to);
                        calls.incrementAndGet();
                        for (int i = from; i < to; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "threads=" + threads + " n=" + n + " i=" + i);
                    assertTrue(calls.get() <= threads, calls + " chunks for " + threads + " threads");
                }
            }
        }
    }

    @Test
    void oversplitRangesAreCoveredOnce() {
        for (int threads : new int[]{1, 2, 3}) {
            Parallel.setThreads(threads);
            for (int n : new int[]{5, 64, 1000, 4099}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                AtomicInteger calls = new AtomicInteger();
                Parallel.forRange(n, 16, 4, (from, to) -> {
                    calls.incrementAndGet();
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "threads=" + threads + " n=" + n + " i=" + i);
                assertTrue(calls.get() <= Math.max(1, 4 * threads) && (threads == 1 ? calls.get() == 1 : true), calls + " chunks");
            }
        }
    }

    @Test
    void nestedCallsRunInline() {
        Parallel.setThreads(3);
        AtomicInteger inner = new AtomicInteger();
        Parallel.forRange(30, 1, (a, b) -> Parallel.forRange(10, 1, (c, d) -> {
            assertEquals(0, c);
            assertEquals(10, d);
            inner.addAndGet(d - c);
        }));
        assertEquals(3 * 10, inner.get());
    }

    @Test
    void exceptionsReachTheCallerAndTheTeamSurvives() {
        Parallel.setThreads(2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(1000, 1, (a, b) -> {
            if (b == 1000) throw new IllegalStateException("boom in last chunk");
        }));
        assertEquals("boom in last chunk", e.getMessage());
        long[] sum = new long[1];
        Parallel.forRange(1000, 1, (a, b) -> { synchronized (sum) { for (int i = a; i < b; i++) sum[0] += i; } });
        assertEquals(999L * 1000 / 2, sum[0]);
    }

    @Test
    void concurrentCallersAllComplete() throws Exception {
        Parallel.setThreads(2);
        Thread[] callers = new Thread[4];
        long[] results = new long[callers.length];
        for (int c = 0; c < callers.length; c++) {
            int id = c;
            callers[c] = new Thread(() -> {
                for (int rep = 0; rep < 200; rep++) {
                    long[] s = new long[4096];
                    Parallel.forRange(4096, 16, (a, b) -> { for (int i = a; i < b; i++) s[i] = i * (long) id; });
                    long t = 0;
                    for (long v : s) t += v;
                    results[id] = t;
                }
            });
            callers[c].start();
        }
        for (Thread t : callers) t.join(60_000);
        for (int c = 0; c < callers.length; c++) assertEquals(4095L * 4096 / 2 * c, results[c], "caller " + c);
    }
}
