package dev.navil4j.video;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FrameSamplerTest {
    /** The indices recorded in fixtures/internvl3-video/README.md for the 60-frame 24 fps clip. */
    @Test
    void readmeIndices() {
        assertThat(FrameSampler.getIndex(null, 24.0, 59, 4)).containsExactly(7, 22, 37, 51);
        assertThat(FrameSampler.getIndex(null, 24.0, 59, 8)).containsExactly(3, 10, 18, 25, 33, 40, 47, 55);
        double[] bound = {0.1875, 2.1875};
        assertThat(FrameSampler.getIndex(bound, 24.0, 59, 4)).containsExactly(10, 22, 34, 46);
        assertThat(FrameSampler.getIndex(bound, 24.0, 59, 8)).containsExactly(7, 13, 19, 25, 31, 37, 43, 49);
    }

    /** Half-to-even: 4.5 → 4 and 52.5 → 52 (half-up would give 5 and 53), and np.round(2.5) = 2. */
    @Test
    void halfToEvenRounding() {
        int[] idx = FrameSampler.getIndex(new double[]{0.1875, 2.1875}, 24.0, 59, 1);
        // start 4, end 52: seg 48, idx = int(4 + 24 + 0)
        assertThat(idx).containsExactly(28);
        // seg_size 5/2 = 2.5: k=1 → np.round(2.5) = 2, so int(0 + 1.25 + 2) = 3 (half-up would give 4)
        assertThat(FrameSampler.getIndex(new double[]{0, 5}, 1.0, 100, 2)).containsExactly(1, 3);
    }
}
