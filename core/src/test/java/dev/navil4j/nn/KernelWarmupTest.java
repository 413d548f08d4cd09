package dev.navil4j.nn;

import dev.navil4j.tensor.WeightTensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelWarmupTest {
    @Test
    void warmupRunsEveryFormatAndLeavesKernelResultsUnchanged() {
        Random rnd = new Random(3);
        int rows = 37, cols = 1100, n = 9;
        float[] v = new float[rows * cols], x = new float[n * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        WeightTensor w = WeightTensor.ofFloats("w", v, rows, cols);
        float[] before = new float[n * rows], after = new float[n * rows];
        w.matmul(x, n, before, null);
        double s = KernelWarmup.run("q4", 2); // f32, bf16, f16, q4 layers and the q8 head
        assertTrue(KernelWarmup.run("auto", 1) >= 0);
        assertTrue(s >= 0 && Double.isFinite(s));
        w.matmul(x, n, after, null);
        // the warm-up only compiles code: a kernel's result may not depend on it (bit-identical)
        assertArrayEquals(before, after);
    }
}
