package dev.navil4j.models.internvl;

import dev.navil4j.image.RgbImage;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class InternVLImageProcessorTest {
    private static String order(int maxNum) {
        List<int[]> l = InternVLImageProcessor.candidateRatios(1, maxNum);
        return l.stream().map(r -> r[0] + "," + r[1] + ";").collect(Collectors.joining());
    }

    /**
     * Expected strings printed by CPython 3.11.7 on this machine:
     * {@code sorted(set((i,j) for n in range(1,mx+1) for i in range(1,n+1) for j in range(1,n+1)
     * if i*j<=mx and i*j>=1), key=lambda x: x[0]*x[1])} — set order decides the equal-area order.
     */
    @Test
    void candidateOrderMatchesCPythonSetOrder() {
        assertThat(order(6)).isEqualTo("1,1;1,2;2,1;3,1;1,3;4,1;1,4;2,2;1,5;5,1;6,1;2,3;1,6;3,2;");
        assertThat(order(12)).isEqualTo("1,1;1,2;2,1;3,1;1,3;2,2;4,1;1,4;5,1;1,5;1,6;6,1;3,2;2,3;7,1;1,7;4,2;2,4;"
                + "1,8;8,1;1,9;3,3;9,1;2,5;5,2;10,1;1,10;11,1;1,11;12,1;3,4;4,3;1,12;6,2;2,6;");
        assertThat(order(24)).isEqualTo("1,1;1,2;2,1;3,1;1,3;2,2;4,1;1,4;5,1;1,5;6,1;3,2;2,3;1,6;7,1;1,7;4,2;2,4;"
                + "1,8;8,1;9,1;3,3;1,9;1,10;5,2;10,1;2,5;1,11;11,1;6,2;1,12;2,6;12,1;3,4;4,3;13,1;1,13;14,1;1,14;7,2;"
                + "2,7;1,15;5,3;3,5;15,1;8,2;16,1;4,4;1,16;2,8;1,17;17,1;18,1;3,6;9,2;1,18;6,3;2,9;1,19;19,1;20,1;5,4;"
                + "2,10;1,20;4,5;10,2;7,3;1,21;3,7;21,1;2,11;11,2;22,1;1,22;1,23;23,1;1,24;24,1;6,4;3,8;4,6;2,12;8,3;12,2;");
    }

    @Test
    void tieGoesToLaterRatioOnlyForLargeImages() {
        // aspect 1.25 is equally far from 1 (1x1, 2x2) and 1.5 (3x2): later candidates win only if
        // w*h > 0.5 * s^2 * i * j.
        assertThat(InternVLImageProcessor.chooseGrid(500, 400, 1, 6, 448)).containsExactly(1, 1);
        assertThat(InternVLImageProcessor.chooseGrid(500, 400, 1, 6, 112)).containsExactly(3, 2);
    }

    @Test
    void oneByOneImageGivesOneNormalisedTile() {
        RgbImage img = RgbImage.filled(1, 1, 255, 0, 128);
        InternVLImageProcessor.Tiles t = InternVLImageProcessor.preprocess(img, 1, 12, 28, true);
        assertThat(t.numTiles()).isEqualTo(1);
        assertThat(t.pixelValues()).hasSize(3 * 28 * 28);
        // a constant image stays constant under the normalised bicubic kernel
        assertThat(t.pixelValues()[0]).isEqualTo((1f - 0.485f) / 0.229f);
        assertThat(t.pixelValues()[28 * 28]).isEqualTo((0f - 0.456f) / 0.224f);
        assertThat(t.pixelValues()[2 * 28 * 28 + 5]).isEqualTo((128f / 255f - 0.406f) / 0.225f);
    }
}
