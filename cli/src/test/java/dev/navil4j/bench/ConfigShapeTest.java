package dev.navil4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Shapes read from config.json. Expected sizes are read from the same JSON files with Jackson directly (not through
 * the code under test), or are the published sizes of InternVL3-1B that {@link BenchShape#INTERNVL3_1B} lists.
 */
class ConfigShapeTest {
    static Json.Obj config(String file) { return Json.Obj.of(Path.of(file)); }

    @Test
    void internVLOriginalLayoutFixture() {
        JsonNode c = Json.read(Path.of("fixtures/internvl3-tiny/model/config.json")), llm = c.get("llm_config"), v = c.get("vision_config");
        ConfigShape cs = ConfigShape.of("tiny", config("fixtures/internvl3-tiny/model/config.json"));
        BenchShape s = cs.shape();
        assertThat(s.llmHidden()).isEqualTo(llm.get("hidden_size").asInt());
        assertThat(s.layers()).isEqualTo(llm.get("num_hidden_layers").asInt());
        assertThat(s.heads()).isEqualTo(llm.get("num_attention_heads").asInt());
        assertThat(s.kvHeads()).isEqualTo(llm.get("num_key_value_heads").asInt());
        assertThat(s.headDim()).isEqualTo(llm.get("hidden_size").asInt() / llm.get("num_attention_heads").asInt());
        assertThat(s.intermediate()).isEqualTo(llm.get("intermediate_size").asInt());
        assertThat(s.vocab()).isEqualTo(llm.get("vocab_size").asInt());
        assertThat(s.tied()).as("InternVLChatConfig forces tie_word_embeddings off").isFalse();
        int grid = c.get("force_image_size").asInt() / v.get("patch_size").asInt();
        assertThat(s.vision().tokens()).isEqualTo(grid * grid + 1);
        assertThat(s.vision().width()).isEqualTo(v.get("hidden_size").asInt());
        assertThat(s.vision().layers()).isEqualTo(v.get("num_hidden_layers").asInt());
        assertThat(s.vision().mlp()).isEqualTo(v.get("intermediate_size").asInt());
        assertThat(cs.notes()).isEmpty();
    }

    /** The -hf conversion of the same checkpoint names the same sizes under text_config / vision_config (lists for sizes). */
    @Test
    void hfLayoutGivesTheSameShapeAsTheOriginal() {
        BenchShape hf = ConfigShape.of("x", config("fixtures/internvl3-hf/hf/config.json")).shape();
        BenchShape orig = ConfigShape.of("x", config("fixtures/internvl3-tiny/model/config.json")).shape();
        assertThat(hf.llmHidden()).isEqualTo(orig.llmHidden());
        assertThat(hf.layers()).isEqualTo(orig.layers());
        assertThat(hf.kvHeads()).isEqualTo(orig.kvHeads());
        assertThat(hf.intermediate()).isEqualTo(orig.intermediate());
        assertThat(hf.vision()).isEqualTo(orig.vision());
    }

    /** InternVL3-1B's published sizes (hub config.json): the shape bench already knows, up to the vocabulary. */
    @Test
    void internVL3OneBSizesMatchTheBuiltInShape() {
        ObjectNode c = Json.MAPPER.createObjectNode().put("model_type", "internvl_chat").put("force_image_size", 448);
        c.putObject("vision_config").put("hidden_size", 1024).put("num_hidden_layers", 24).put("num_attention_heads", 16)
                .put("intermediate_size", 4096).put("image_size", 448).put("patch_size", 14).put("norm_type", "layer_norm");
        ObjectNode l = c.putObject("llm_config");
        l.putArray("architectures").add("Qwen2ForCausalLM");
        l.put("hidden_size", 896).put("num_hidden_layers", 24).put("num_attention_heads", 14).put("num_key_value_heads", 2)
                .put("intermediate_size", 4864).put("vocab_size", 151674).put("rope_theta", 1000000.0).put("tie_word_embeddings", true);
        BenchShape s = ConfigShape.of("OpenGVLab/InternVL3-1B", new Json.Obj(c, "config.json")).shape();
        BenchShape k = BenchShape.INTERNVL3_1B;
        assertThat(new int[]{s.llmHidden(), s.layers(), s.heads(), s.kvHeads(), s.headDim(), s.intermediate()})
                .containsExactly(k.llmHidden(), k.layers(), k.heads(), k.kvHeads(), k.headDim(), k.intermediate());
        assertThat(s.vision().tokens()).isEqualTo(k.vision().tokens());
        assertThat(s.vision().width()).isEqualTo(k.vision().width());
        assertThat(s.vision().patchInputs()).isEqualTo(k.vision().patchInputs());
        assertThat(s.ropeTheta()).isEqualTo(1e6);
    }

    @Test
    void voraIsItsQwen2Decoder() {
        JsonNode c = Json.read(Path.of("fixtures/vora-tiny/model/config.json"));
        ConfigShape cs = ConfigShape.of("vora", config("fixtures/vora-tiny/model/config.json"));
        assertThat(cs.shape().llmHidden()).isEqualTo(c.get("hidden_size").asInt());
        assertThat(cs.shape().vocab()).isEqualTo(c.get("vocab_size").asInt());
        assertThat(cs.shape().vision()).isNull();
        assertThat(cs.notes()).anyMatch(n -> n.contains("patch embedding"));
    }

    @Test
    void internVitSixBIsNamedAsApproximated() {
        ConfigShape cs = ConfigShape.of("6b", config("fixtures/internvl3-6bvit-tiny/model/config.json"));
        assertThat(cs.notes()).anyMatch(n -> n.contains("InternViT-6B"));
    }

    @Test
    void whatBenchCannotSynthesizeIsOneClearError() {
        assertThatThrownBy(() -> ConfigShape.of("navil", config("fixtures/navil-qwen3-tiny/model/config.json")))
                .isInstanceOf(WeightsException.class).hasMessageContaining("--shape navil-2b");
        ObjectNode c = Json.MAPPER.createObjectNode().put("model_type", "internvl_chat");
        c.putObject("llm_config").put("hidden_size", 64).putArray("architectures").add("InternLM3ForCausalLM");
        assertThatThrownBy(() -> ConfigShape.of("9b", new Json.Obj(c, "config.json")))
                .hasMessageContaining("InternLM3ForCausalLM").hasMessageContaining("llm_config");
        ObjectNode q = Json.MAPPER.createObjectNode().put("model_type", "qwen2").put("hidden_size", 64);
        assertThatThrownBy(() -> ConfigShape.of("q", new Json.Obj(q, "config.json"))).hasMessageContaining("num_attention_heads");
    }
}
