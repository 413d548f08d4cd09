package dev.navil4j.bench;

import dev.navil4j.ChatModel;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A synthetic checkpoint written to disk loads through the ordinary loader and answers an image question. */
class SyntheticCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void tinyCheckpointLoadsAndAnswers() throws Exception {
        Path dir = tmp.resolve("model");
        SyntheticCheckpoint.writeCheckpoint(dir, SyntheticCheckpoint.TINY, DType.Q8, 7, Path.of("fixtures/tokenizer-qwen2.5/model"));
        SyntheticCheckpoint.writeImages(tmp.resolve("img"), 2, 64, 48, 7);
        try (var files = Files.list(tmp.resolve("img"))) {
            var bytes = files.map(p -> { try { return Files.readAllBytes(p); } catch (Exception e) { throw new RuntimeException(e); } }).toList();
            assertThat(bytes).hasSize(2);
            assertThat(bytes.get(0)).as("every image differs (no feature-cache hits)").isNotEqualTo(bytes.get(1));
        }
        try (ChatModel m = Navil4j.load(dir)) {
            Response r = m.newSession().ask(Request.of("Describe the image.", Media.image(tmp.resolve("img/img-00000.png")))
                    .with(RequestOptions.defaults().withMaxNewTokens(4)));
            // random weights: the text is noise, but the prompt went through the tokenizer with the image tokens
            assertThat(r.promptTokens()).isGreaterThan(10);
            assertThat(r.generatedTokens()).isBetween(1, 4);
        }
    }
}
