package dev.navil4j.nn;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The blocked attention paths against the plain row-at-a-time reference, on odd lengths and head sizes. */
class AttentionBlockedTest {
    static float[] random(Random rnd, int n, float s) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian() * s;
        return a;
    }

    static void close(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++)
            if (Math.abs(want[i] - got[i]) > 1e-5f) fail(what + " at " + i + ": " + got[i] + " vs reference " + want[i]);
    }

    @Test
    void segmentsMatchReference() {
        Random rnd = new Random(9);
        int[][] cus = {{0, 33}, {0, 5, 75, 150}, {0, 40, 41, 131}, {0, 257}};
        for (int headDim : new int[]{20, 64, 17}) {
            for (int heads : new int[]{1, 3}) {
                for (int[] cu : cus) {
                    int n = cu[cu.length - 1], dim = heads * headDim;
                    // scores of a few units, like real attention logits
                    float[] q = random(rnd, n * dim, 1f), k = random(rnd, n * dim, 1f), v = random(rnd, n * dim, 1f);
                    float scale = (float) (1 / Math.sqrt(headDim));
                    float[] ref = new float[n * dim], got = new float[n * dim];
                    Attention.segmentsReference(q, k, v, n, heads, headDim, scale, cu, ref);
                    Attention.segments(q, k, v, n, heads, headDim, scale, cu, got);
                    close(ref, got, "segments hd=" + headDim + " heads=" + heads + " cu=" + java.util.Arrays.toString(cu));
                }
            }
        }
    }

    @Test
    void causalMatchesReference() {
        Random rnd = new Random(4);
        for (int headDim : new int[]{16, 24, 64}) {
            for (int[] pn : new int[][]{{0, 37}, {0, 130}, {21, 45}, {5, 1}}) {
                int past = pn[0], n = pn[1], heads = 4, kvHeads = 2, total = past + n;
                float[] q = random(rnd, n * heads * headDim, 1f);
                float[] keys = random(rnd, total * kvHeads * headDim, 1f), values = random(rnd, total * kvHeads * headDim, 1f);
                float scale = (float) (1 / Math.sqrt(headDim));
                float[] ref = new float[n * heads * headDim], got = new float[n * heads * headDim];
                Attention.causalReference(q, n, past, keys, values, heads, kvHeads, headDim, scale, null, ref);
                Attention.causal(q, n, past, keys, values, heads, kvHeads, headDim, scale, null, got);
                close(ref, got, "causal hd=" + headDim + " past=" + past + " n=" + n);
            }
        }
    }

    @Test
    void badCuSeqlensIsAClearError() {
        float[] x = new float[8];
        assertThrows(IllegalArgumentException.class, () -> Attention.segments(x, x, x, 4, 1, 2, 1f, new int[]{0, 3}, new float[8]));
    }
}
