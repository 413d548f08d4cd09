package dev.navil4j.models.internvl;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Bicubic position-embedding resampling and pixel-shuffle token/channel order against hand-derived values. */
class InternVisionOpsTest {
    @Test
    void bicubicAtTheSameSizeIsTheIdentity() {
        float[] g = new float[5 * 4 * 2];
        for (int i = 0; i < g.length; i++) g[i] = (float) Math.sin(i);
        assertThat(Bicubic.resize(g, 5, 4, 2, 5, 4)).containsExactly(g);
    }

    @Test
    void bicubicHalvingSamplesMidpointsWithKeysWeights() {
        // in 8 → out 4: source = 2·o + 0.5, t = 0.5, weights (−0.09375, 0.59375, 0.59375, −0.09375), taps clamped
        int[] idx = new int[16];
        float[] w = new float[16];
        Bicubic.taps(8, 4, idx, w);
        assertThat(w).containsExactly(-0.09375f, 0.59375f, 0.59375f, -0.09375f, -0.09375f, 0.59375f, 0.59375f, -0.09375f,
                -0.09375f, 0.59375f, 0.59375f, -0.09375f, -0.09375f, 0.59375f, 0.59375f, -0.09375f);
        assertThat(idx).containsExactly(0, 0, 1, 2, 1, 2, 3, 4, 3, 4, 5, 6, 5, 6, 7, 7);
        // a linear ramp (1 row) is reproduced exactly away from the borders
        float[] ramp = new float[8];
        for (int i = 0; i < 8; i++) ramp[i] = i;
        float[] r = Bicubic.resize(ramp, 1, 8, 1, 1, 4);
        assertThat(r[1]).isCloseTo(2.5f, within(1e-6f));
        assertThat(r[2]).isCloseTo(4.5f, within(1e-6f));
        assertThat(r[0]).isCloseTo(0.59375f * 1 - 0.09375f * 2, within(1e-6f)); // left tap clamped to 0
    }

    @Test
    void upsamplingKeepsAConstantField() {
        float[] c = new float[3 * 3];
        java.util.Arrays.fill(c, 2.5f);
        for (float v : Bicubic.resize(c, 3, 3, 1, 7, 5)) assertThat(v).isCloseTo(2.5f, within(1e-6f));
    }

    @Test
    void pixelShuffleV2IsRowMajorAndV1Transposed() {
        // 4×4 grid, C = 1, value = 10·row + col; k = 2 → 2×2 tokens of 4 channels
        float[] src = new float[16];
        for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) src[r * 4 + c] = 10 * r + c;
        float[] v2 = new float[16], v1 = new float[16];
        encoder("v2").pixelShuffle(src, 0, 4, 1, 2, v2, 0);
        encoder("v1").pixelShuffle(src, 0, 4, 1, 2, v1, 0);
        // token (i, j) = [x(2i,2j), x(2i,2j+1), x(2i+1,2j), x(2i+1,2j+1)]
        assertThat(v2).containsExactly(0, 1, 10, 11, 2, 3, 12, 13, 20, 21, 30, 31, 22, 23, 32, 33);
        assertThat(v1).containsExactly(0, 1, 10, 11, 20, 21, 30, 31, 2, 3, 12, 13, 22, 23, 32, 33);
    }

    private static InternVLVisionEncoder encoder(String ps) {
        InternVisionConfig v = new InternVisionConfig(4, 1, 8, 1, 14, 56, 3, true, false, false, 1e-6f);
        InternVLChatConfig c = new InternVLChatConfig(v, null, "Qwen2ForCausalLM", 56, 0.5, ps, -1, "internvl2_5", null,
                true, true, 1, 6);
        return InternVLVisionEncoder.forTest(c);
    }
}
