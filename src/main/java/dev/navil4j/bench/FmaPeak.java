package dev.navil4j.bench;

import dev.navil4j.tensor.Kernels;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.tensor.Simd;

/**
 * The machine's pure-FMA throughput at the kernels' vector width, measured in the same process as the figures it is
 * the ceiling of (prefill and tile GFLOP/s are reported as a fraction of it): every thread of the {@link Parallel}
 * team runs {@link Kernels#fmaLoop} at once; the best of 5 short rounds (the machines' speed drifts).
 */
public final class FmaPeak {
    private FmaPeak() {}

    static volatile float sink;

    /** GFLOP/s (an FMA = 2 flops) on {@code threads} threads. */
    public static double gflops(int threads) {
        long iters = 4_000_000;
        Parallel.forRange(threads, 1, (a, b) -> { for (int i = a; i < b; i++) sink += Kernels.fmaLoop(iters / 20); }); // compile
        double best = 0;
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            Parallel.forRange(threads, 1, (a, b) -> { for (int i = a; i < b; i++) sink += Kernels.fmaLoop(iters); });
            double s = (System.nanoTime() - t0) * 1e-9;
            best = Math.max(best, threads * iters * 12.0 * Simd.floatLanes() * 2 / s / 1e9);
        }
        return best;
    }
}
