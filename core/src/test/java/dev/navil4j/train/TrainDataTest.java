package dev.navil4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.tokenizer.Tokenizers;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The data pipeline reproduces the reference's collated batch (inputs.*) from the fixture's samples. */
class TrainDataTest {
    static final Path FX = Path.of("fixtures/vora-train-tiny");

    @Test
    void theFixtureSamplesGiveTheReferenceIdsLabelsMaskAndPixels() {
        try (Fixture fx = new Fixture(FX)) {
            TrainData data = TrainData.forModel(Tokenizers.load(FX.resolve("model")), FX.resolve("model"), 112);
            assertThat(data.padId()).isEqualTo(fx.root.path("pad_token_id").asInt());
            assertThat(data.eosId()).isEqualTo(fx.root.path("eos_token_id").asInt());
            List<TrainData.Encoded> enc = new ArrayList<>();
            for (JsonNode s : fx.root.path("samples")) {
                TrainData.Sample sample = TrainData.sample(s, FX.toAbsolutePath(), "cases.json");
                assertThat(TrainData.promptsAndAnswers(sample).getFirst()[0]).isEqualTo(s.path("prompt").asText());
                enc.add(data.encode(sample));
            }
            Batch b = data.collate(enc);
            Batch want = TrainCases.batch(fx);
            assertThat(b.ids()).isEqualTo(want.ids());
            assertThat(b.labels()).isEqualTo(want.labels());
            assertThat(b.attentionMask()).isEqualTo(want.attentionMask());
            assertThat(Compare.maxAbs(b.pixels(), want.pixels())).isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void badDataLinesGiveClearErrors(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path f = dir.resolve("d.jsonl");
        Files.writeString(f, "{\"conversations\": []}\n");
        assertThatThrownBy(() -> TrainData.read(f)).hasMessageContaining("d.jsonl:1").hasMessageContaining("\"image\"");
        Files.writeString(f, "{\"image\": \"x.png\", \"conversations\": [{\"from\": \"human\", \"value\": \"hi\"}]}\n");
        assertThatThrownBy(() -> TrainData.read(f)).hasMessageContaining("end with a gpt answer");
        Files.writeString(f, "not json\n");
        assertThatThrownBy(() -> TrainData.read(f)).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> TrainData.read(dir.resolve("missing.jsonl"))).hasMessageContaining("does not exist");
    }
}
