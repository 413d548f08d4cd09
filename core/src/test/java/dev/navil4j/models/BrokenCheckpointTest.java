package dev.navil4j.models;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Checkpoints that used to load with a silent mistake (or fail with "/ by zero") are load errors naming the file
 * and the field or tensor: non-integral integer fields, zero head counts, invalid JSON in a config file the engine
 * does not read, and missing biases the reference modules have.
 */
class BrokenCheckpointTest {
    static final Path TINY = Path.of("fixtures/internvl3-tiny/model");
    static final ObjectMapper JSON = new ObjectMapper();

    static Path copy(Path tmp) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("model"));
        try (var files = Files.list(TINY)) {
            for (Path f : (Iterable<Path>) files::iterator) Files.copy(f, d.resolve(f.getFileName()));
        }
        return d;
    }

    static void editConfig(Path dir, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode c = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        edit.accept(c);
        JSON.writeValue(dir.resolve("config.json").toFile(), c);
    }

    /** Rewrites model.safetensors without one tensor's header entry (its bytes stay, unreferenced). */
    static void dropTensor(Path dir, String name) throws Exception {
        byte[] b = Files.readAllBytes(dir.resolve("model.safetensors"));
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode h = (ObjectNode) JSON.readTree(new String(b, 8, (int) n, StandardCharsets.UTF_8));
        assertThat(h.remove(name)).as(name).isNotNull();
        byte[] header = JSON.writeValueAsBytes(h);
        int pad = (8 - header.length % 8) % 8;
        byte[] hp = Arrays.copyOf(header, header.length + pad);
        Arrays.fill(hp, header.length, hp.length, (byte) ' ');
        ByteBuffer out = ByteBuffer.allocate(8 + hp.length + (b.length - 8 - (int) n)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(hp.length).put(hp).put(b, 8 + (int) n, b.length - 8 - (int) n);
        Files.write(dir.resolve("model.safetensors"), out.array());
    }

    static void assertLoadFails(Path dir, String... inMessage) {
        assertThatThrownBy(() -> ModelRegistry.load(dir, LoadOptions.defaults()).close())
                .isInstanceOf(WeightsException.class).message().contains(inMessage);
    }

    @Test
    void theUnmodifiedCopyLoads(@TempDir Path tmp) throws Exception {
        ModelRegistry.load(copy(tmp), LoadOptions.defaults()).close();
    }

    @Test
    void nonIntegralLayerCount(@TempDir Path tmp) throws Exception {
        Path d = copy(tmp);
        editConfig(d, c -> ((ObjectNode) c.get("llm_config")).put("num_hidden_layers", 1.5));
        assertLoadFails(d, "config.json", "num_hidden_layers", "must be an integer", "1.5");
    }

    @Test
    void zeroAttentionHeads(@TempDir Path tmp) throws Exception {
        Path d = copy(tmp);
        editConfig(d, c -> ((ObjectNode) c.get("vision_config")).put("num_attention_heads", 0));
        assertLoadFails(d, "config.json", "num_attention_heads", "at least 1");
        Path e = copy(tmp.resolve("llm"));
        editConfig(e, c -> ((ObjectNode) c.get("llm_config")).put("num_attention_heads", 0));
        assertLoadFails(e, "config.json", "num_attention_heads", "at least 1");
    }

    @Test
    void invalidGenerationConfig(@TempDir Path tmp) throws Exception {
        Path d = copy(tmp);
        Files.writeString(d.resolve("generation_config.json"), "{\"eos_token_id\": [1, 2,");
        assertLoadFails(d, "generation_config.json", "invalid JSON");
        Files.writeString(d.resolve("generation_config.json"), "[1, 2]");
        assertLoadFails(d, "generation_config.json", "JSON object");
    }

    @Test
    void missingAttentionBias(@TempDir Path tmp) throws Exception {
        for (String p : new String[]{"q_proj", "k_proj", "v_proj"}) {
            Path d = copy(tmp.resolve(p));
            dropTensor(d, "language_model.model.layers.0.self_attn." + p + ".bias");
            assertLoadFails(d, d.toString(), "language_model.model.layers.0.self_attn." + p + ".bias");
        }
    }

    @Test
    void missingPatchEmbeddingBias(@TempDir Path tmp) throws Exception {
        Path d = copy(tmp);
        dropTensor(d, "vision_model.embeddings.patch_embedding.bias");
        assertLoadFails(d, "vision_model.embeddings.patch_embedding.bias");
    }
}
