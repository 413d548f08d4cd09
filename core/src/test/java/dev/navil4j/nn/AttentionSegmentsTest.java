package dev.navil4j.nn;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Segment attention against a plain double-precision softmax (erf: see ActivationsTableTest). */
class AttentionSegmentsTest {
    @Test
    void segmentAttentionMatchesANaiveSoftmaxPerSegment() {
        int heads = 3, hd = 5, n = 300, dim = heads * hd;
        int[] cu = {0, 7, 7, 170, 300};    // includes an empty segment and one longer than a query block
        Random r = new Random(3);
        float[] q = new float[n * dim], k = new float[n * dim], v = new float[n * dim], out = new float[n * dim];
        for (int i = 0; i < q.length; i++) { q[i] = (float) r.nextGaussian(); k[i] = (float) r.nextGaussian(); v[i] = (float) r.nextGaussian(); }
        float scale = 0.4f;
        Attention.segments(q, k, v, n, heads, hd, scale, cu, out);
        double worst = 0;
        for (int s = 0; s + 1 < cu.length; s++)
            for (int t = cu[s]; t < cu[s + 1]; t++)
                for (int h = 0; h < heads; h++) {
                    int len = cu[s + 1] - cu[s];
                    double[] p = new double[len];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < len; j++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += (double) q[t * dim + h * hd + d] * k[(cu[s] + j) * dim + h * hd + d];
                        p[j] = dot * scale;
                        max = Math.max(max, p[j]);
                    }
                    for (int j = 0; j < len; j++) { p[j] = Math.exp(p[j] - max); sum += p[j]; }
                    for (int d = 0; d < hd; d++) {
                        double o = 0;
                        for (int j = 0; j < len; j++) o += p[j] / sum * v[(cu[s] + j) * dim + h * hd + d];
                        worst = Math.max(worst, Math.abs(o - out[t * dim + h * hd + d]));
                    }
                }
        assertThat(worst).isLessThan(2e-6);
        assertThatThrownBy(() -> Attention.segments(q, k, v, n, heads, hd, scale, new int[] {0, 5}, out))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cu_seqlens");
    }
}
