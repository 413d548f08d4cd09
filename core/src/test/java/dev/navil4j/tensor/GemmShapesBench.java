package dev.navil4j.tensor;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * GEMM throughput on the InternViT-300M tile's shapes (not a test): one 448² tile is 1025 tokens through
 * qkv 1024→3072, proj 1024→1024, fc1 1024→4096 and fc2 4096→1024 (f32 weights), 24 times. Prints GFLOP/s per
 * shape and for the layer's four GEMMs together, next to the FMA peak measured in the same JVM, at each thread count.
 * <pre>java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes dev.navil4j.tensor.GemmShapesBench [threads=1,2] [tokens=1025] [reps=5]</pre>
 */
public final class GemmShapesBench {
    public static void main(String[] args) {
        int[] threads = Arrays.stream((args.length > 0 ? args[0] : "1,2").split(",")).mapToInt(Integer::parseInt).toArray();
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1025;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int[][] shapes = {{3072, 1024}, {1024, 1024}, {4096, 1024}, {1024, 4096}};
        Random rnd = new Random(5);
        WeightTensor[] ws = new WeightTensor[shapes.length];
        for (int s = 0; s < shapes.length; s++) {
            float[] w = new float[shapes[s][0] * shapes[s][1]];
            for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian() * 0.02f;
            ws[s] = WeightTensor.ofFloats("w" + s, w, shapes[s][0], shapes[s][1]);
        }
        float[] x = new float[n * 4096], out = new float[n * 4096];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        System.out.println(Simd.describe() + ", MR " + Gemm.MR + " NR " + Gemm.NR + " KC " + Gemm.KC);
        if (Boolean.getBoolean("kernelOnly")) { kernelOnly(); kernel12(); return; }
        for (int t : threads) {
            Parallel.setThreads(t);
            for (int i = 0; i < 3; i++) for (WeightTensor w : ws) w.matmul(x, n, out, null); // warm-up (C2)
            double peak = fmaPeak(t);
            double[] total = new double[reps];
            double[][] per = new double[shapes.length][reps];
            for (int r = 0; r < reps; r++) {
                double sec = 0;
                for (int s = 0; s < shapes.length; s++) {
                    long t0 = System.nanoTime();
                    ws[s].matmul(x, n, out, null);
                    double dt = (System.nanoTime() - t0) * 1e-9;
                    per[s][r] = 2.0 * n * shapes[s][0] * shapes[s][1] / dt / 1e9;
                    sec += dt;
                }
                double flop = 0;
                for (int[] sh : shapes) flop += 2.0 * n * sh[0] * sh[1];
                total[r] = flop / sec / 1e9;
            }
            StringBuilder sb = new StringBuilder();
            for (int s = 0; s < shapes.length; s++) sb.append(String.format(Locale.ROOT, " %dx%d %.0f", shapes[s][0], shapes[s][1], median(per[s])));
            System.out.printf(Locale.ROOT, "%d threads: fma peak %.0f GFLOP/s; layer GEMMs median %.0f GFLOP/s (%.0f%% of peak);%s%n",
                    t, peak, median(total), 100 * median(total) / peak, sb);
        }
    }

    static double fmaPeak(int threads) {
        long iters = 20_000_000L;
        VectorKernels.fmaLoop(iters / 10);
        double best = 0;
        for (int r = 0; r < 3; r++) {
            long t0 = System.nanoTime();
            float[] sink = new float[threads];
            Parallel.forRange(threads, 1, (a, b) -> { for (int i = a; i < b; i++) sink[i] = VectorKernels.fmaLoop(iters); });
            double dt = (System.nanoTime() - t0) * 1e-9;
            best = Math.max(best, threads * iters * 12.0 * 2 * Simd.floatLanes() / dt / 1e9);
        }
        return best;
    }

    /** The micro-kernel alone on L1-resident packed panels (KC deep), 1 thread. */
    static void kernelOnly() {
        int kl = Gemm.KC;
        float[] a = new float[Gemm.MR * kl], b = new float[Gemm.NR * kl], c = new float[Gemm.MR * Gemm.NR];
        Arrays.fill(a, 0.001f); Arrays.fill(b, 0.002f);
        for (int i = 0; i < 200_000; i++) Gemm.kernel(a, 0, b, 0, kl, c, 0, Gemm.NR, Gemm.MR, Gemm.NR);
        double peak = fmaPeak(1);
        for (int r = 0; r < 3; r++) {
            int calls = 400_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) Gemm.kernel(a, 0, b, 0, kl, c, 0, Gemm.NR, Gemm.MR, Gemm.NR);
            double gf = 2.0 * calls * Gemm.MR * Gemm.NR * kl / ((System.nanoTime() - t0) * 1e-9) / 1e9;
            System.out.printf(Locale.ROOT, "kernel alone: %.0f GFLOP/s of %.0f (%.0f%%)%n", gf, peak, 100 * gf / peak);
        }
    }

    /** Experiment: a 12 x 2L tile (24 accumulators), kernel alone. */
    static void kernel12() {
        var F = VectorKernels.F; int L = VectorKernels.L, NR = 2 * L, kl = Gemm.KC;
        float[] a = new float[12 * kl], b = new float[NR * kl], c = new float[12 * NR];
        Arrays.fill(a, 0.001f); Arrays.fill(b, 0.002f);
        for (int i = 0; i < 100_000; i++) tile12(a, 0, b, 0, kl, c, 0, NR);
        double peak = fmaPeak(1);
        for (int r = 0; r < 3; r++) {
            int calls = 200_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) tile12(a, 0, b, 0, kl, c, 0, NR);
            double gf = 2.0 * calls * 12 * NR * kl / ((System.nanoTime() - t0) * 1e-9) / 1e9;
            System.out.printf(Locale.ROOT, "12-row kernel alone: %.0f GFLOP/s of %.0f (%.0f%%)%n", gf, peak, 100 * gf / peak);
        }
    }

    static void tile12(float[] a, int ao, float[] b, int bo, int kl, float[] c, int co, int ldc) {
        var F = VectorKernels.F; int L = VectorKernels.L, NR = 2 * L;
        jdk.incubator.vector.FloatVector z = jdk.incubator.vector.FloatVector.zero(F);
        var c00 = z; var c01 = z; var c10 = z; var c11 = z; var c20 = z; var c21 = z; var c30 = z; var c31 = z;
        var c40 = z; var c41 = z; var c50 = z; var c51 = z; var c60 = z; var c61 = z; var c70 = z; var c71 = z;
        var c80 = z; var c81 = z; var c90 = z; var c91 = z; var ca0 = z; var ca1 = z; var cb0 = z; var cb1 = z;
        for (int bi = bo, ai = ao, bEnd = bo + kl * NR; bi < bEnd; bi += NR, ai += 12) {
            var b0 = jdk.incubator.vector.FloatVector.fromArray(F, b, bi); var b1 = jdk.incubator.vector.FloatVector.fromArray(F, b, bi + L);
            var x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai]); c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 1]); c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 2]); c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 3]); c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 4]); c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 5]); c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 6]); c60 = b0.fma(x, c60); c61 = b1.fma(x, c61);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 7]); c70 = b0.fma(x, c70); c71 = b1.fma(x, c71);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 8]); c80 = b0.fma(x, c80); c81 = b1.fma(x, c81);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 9]); c90 = b0.fma(x, c90); c91 = b1.fma(x, c91);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 10]); ca0 = b0.fma(x, ca0); ca1 = b1.fma(x, ca1);
            x = jdk.incubator.vector.FloatVector.broadcast(F, a[ai + 11]); cb0 = b0.fma(x, cb0); cb1 = b1.fma(x, cb1);
        }
        int o = co;
        c00.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c01.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c10.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c11.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c20.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c21.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c30.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c31.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c40.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c41.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c50.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c51.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c60.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c61.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c70.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c71.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c80.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c81.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        c90.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); c91.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        ca0.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); ca1.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L); o += ldc;
        cb0.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o)).intoArray(c, o); cb1.add(jdk.incubator.vector.FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
    }

    static double median(double[] v) { double[] c = v.clone(); Arrays.sort(c); return c[c.length / 2]; }
}
