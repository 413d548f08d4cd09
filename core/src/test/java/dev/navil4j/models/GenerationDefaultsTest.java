package dev.navil4j.models;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * transformers' generate() resolution (generation/configuration_utils.py _get_default_generation_params, 5.17):
 * what the source does not set takes do_sample False, temperature 1.0, top_k 50, top_p 1.0, repetition_penalty 1.0.
 */
class GenerationDefaultsTest {
    static Json.Obj obj(ObjectNode n) { return new Json.Obj(n, "generation_config.json"); }

    @Test
    void unsetKeysTakeHfGlobalDefaults() {
        GenerationConfig g = GenerationDefaults.from(obj(Json.MAPPER.createObjectNode()), Set.of(7), true);
        assertThat(g.doSample()).isFalse();
        assertThat(g.temperature()).isEqualTo(1f);
        assertThat(g.topK()).isEqualTo(50);
        assertThat(g.topP()).isEqualTo(1f);
        assertThat(g.repetitionPenalty()).isEqualTo(1f);
        assertThat(g.stopIds()).containsExactly(7);
        assertThat(g.penalizePrompt()).isTrue();
        assertThat(GenerationDefaults.from(null, Set.of(), false).topK()).isEqualTo(50);
    }

    @Test
    void sourceKeysWinAndNullsAreUnset() {
        ObjectNode n = Json.MAPPER.createObjectNode().put("do_sample", true).put("top_k", 20).put("top_p", 0.8)
                .put("temperature", 0.7).put("repetition_penalty", 1.05).put("max_new_tokens", 64);
        n.putArray("eos_token_id").add(2).add(3);
        GenerationConfig g = GenerationDefaults.from(obj(n), null, false);
        assertThat(g.doSample()).isTrue();
        assertThat(g.topK()).isEqualTo(20);
        assertThat(g.topP()).isEqualTo(0.8f);
        assertThat(g.temperature()).isEqualTo(0.7f);
        assertThat(g.repetitionPenalty()).isEqualTo(1.05f);
        assertThat(g.maxNewTokens()).isEqualTo(64);
        assertThat(g.stopIds()).containsExactlyInAnyOrder(2, 3);
        // from_model_config drops None values, so a null key falls back to the default
        assertThat(GenerationDefaults.from(obj(Json.MAPPER.createObjectNode().putNull("top_k")), Set.of(), false).topK()).isEqualTo(50);
    }

    @Test
    void impossibleValuesNameTheField() {
        assertThatThrownBy(() -> GenerationDefaults.from(obj(Json.MAPPER.createObjectNode().put("top_p", 0)), Set.of(), false))
                .isInstanceOf(WeightsException.class).hasMessageContaining("top_p 0.0");
        assertThatThrownBy(() -> GenerationDefaults.from(obj(Json.MAPPER.createObjectNode().put("top_k", -1)), Set.of(), false))
                .isInstanceOf(WeightsException.class).hasMessageContaining("top_k -1");
    }

    /**
     * The transformers-native InternVL layout (config.json of an OpenGVLab/InternVL3-*-hf repo) goes to the InternVL
     * family; loading it for real is InternVLHfLayoutTest's.
     */
    @Test
    void hfLayoutGoesToInternVL(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"InternVLForConditionalGeneration\"], \"model_type\": \"internvl\"}");
        assertThat(ModelRegistry.detect(dir).name()).isEqualTo("internvl3");
    }
}
