package dev.navil4j.image;

import dev.navil4j.models.navil.NaViLImageProcessor;
import dev.navil4j.models.vora.VoRAImageProcessor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Processor settings read from the fixture checkpoints equal the settings the fixture cases record. */
class ProcessorConfigTest {
    @Test
    void voraFromModelDir() {
        VoRAImageProcessor.Params p = VoRAImageProcessor.Params.fromModelDir(Path.of("fixtures/vora-tiny/model"));
        assertThat(p.size()).isEqualTo(112);
        assertThat(p.cropSize()).isEqualTo(112);
        assertThat(p.patchSize()).isEqualTo(14);
        assertThat(p.mean()).containsExactly(VoRAImageProcessor.CLIP_MEAN);
        assertThat(p.std()).containsExactly(VoRAImageProcessor.CLIP_STD);
        assertThat(p.rescaleFactor()).isEqualTo(1.0 / 255);
    }

    @Test
    void navilFromConfig() {
        NaViLImageProcessor.Params q = NaViLImageProcessor.Params.fromConfig(Path.of("fixtures/navil-qwen3-tiny/model/config.json"));
        assertThat(q.minPixels()).isEqualTo(3072);
        assertThat(q.maxPixels()).isEqualTo(20480);
        assertThat(q.scaleDownsampleRatio()).isEqualTo(0.7071);
        NaViLImageProcessor.Params i = NaViLImageProcessor.Params.fromConfig(Path.of("fixtures/navil-internlm2-tiny/model/config.json"));
        assertThat(i.minPixels()).isEqualTo(16 * 256);
        assertThat(i.maxPixels()).isEqualTo(64 * 256);
    }
}
