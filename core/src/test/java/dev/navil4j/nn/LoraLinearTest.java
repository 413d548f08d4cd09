package dev.navil4j.nn;

import dev.navil4j.tensor.WeightTensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** LoRA on the fly and merged against a plain double-precision evaluation of x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ. */
class LoraLinearTest {
    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    @Test
    void onTheFlyAndMergedEqualTheDefinition() {
        SplittableRandom rnd = new SplittableRandom(7);
        int in = 37, out = 19, rank = 3, n = 5;
        float scale = 0.5f;
        float[] w = random(rnd, out * in), b = random(rnd, out), a = random(rnd, rank * in), bb = random(rnd, out * rank), x = random(rnd, n * in);
        LoraLinear l = new LoraLinear(new Linear(WeightTensor.ofFloats("w", w, out, in), b),
                WeightTensor.ofFloats("a", a, rank, in), WeightTensor.ofFloats("b", bb, out, rank), scale);
        float[] fly = new float[n * out], merged = new float[n * out];
        l.forward(x, n, fly);
        l.merge().forward(x, n, merged);
        for (int t = 0; t < n; t++)
            for (int o = 0; o < out; o++) {
                double ref = b[o];
                for (int j = 0; j < in; j++) ref += (double) x[t * in + j] * w[o * in + j];
                for (int k = 0; k < rank; k++) {
                    double ax = 0;
                    for (int j = 0; j < in; j++) ax += (double) x[t * in + j] * a[k * in + j];
                    ref += scale * ax * bb[o * rank + k];
                }
                assertThat((double) fly[t * out + o]).isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-4));
                assertThat((double) merged[t * out + o]).isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-4));
            }
    }

    @Test
    void mismatchedShapesAreRefusedWithTheLayerName() {
        Linear base = new Linear(WeightTensor.ofFloats("proj", new float[6], 2, 3), null);
        assertThatThrownBy(() -> new LoraLinear(base, WeightTensor.ofFloats("a", new float[4], 1, 4), WeightTensor.ofFloats("b", new float[2], 2, 1), 1f))
                .hasMessageContaining("proj");
    }
}
