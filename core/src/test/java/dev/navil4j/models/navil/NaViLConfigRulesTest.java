package dev.navil4j.models.navil;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.ConfigVariant;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Set;
import java.util.function.Consumer;

import static dev.navil4j.models.ConfigVariant.llm;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * NaViL config rules of docs/CONFIG.md on variants of the NaViL fixtures: fields the reference ignores leave its
 * outputs unchanged (the fixture's own vision/forward cases pass on the variant), values it refuses are refused.
 */
class NaViLConfigRulesTest {
    static final Set<String> MODEL_CASES = Set.of("vision", "forward");

    static NaViL load(Path fixture) {
        Path dir = fixture.resolve("model");
        return NaViL.load(dir, LoadOptions.defaults(), NaViLTokenizers.load(dir));
    }

    /** extract_feature always runs pixel_shuffle_v2 on last_hidden_state: ps_version and select_layer are ignored. */
    @Test
    void psVersionAndSelectLayerAreIgnored() {
        ConfigVariant.assertCasesPass(ConfigVariant.of("navil-qwen3-tiny", c -> {
            c.put("ps_version", "v1");
            c.put("select_layer", -2);
        }), MODEL_CASES);
    }

    /** InternLM2Attention: head_dim = hidden_size // num_heads; a head_dim key in the config is not read. */
    @Test
    void internlm2IgnoresHeadDim() {
        ConfigVariant.assertCasesPass(ConfigVariant.of("navil-internlm2-tiny", c -> llm(c).put("head_dim", 7)), Set.of("forward"));
    }

    /** InternLM2Config._rope_scaling_validation: exactly {type, factor}, type linear/dynamic, a float factor >= 1. */
    @Test
    void internlm2RopeScalingValidation() {
        Consumer<ObjectNode> intFactor = c -> ((ObjectNode) llm(c).get("rope_scaling")).put("factor", 2);
        assertThatThrownBy(() -> load(ConfigVariant.of("navil-internlm2-tiny", intFactor)))
                .isInstanceOf(WeightsException.class).hasMessageContaining("rope_scaling.factor 2 must be a float");
        Consumer<ObjectNode> threeKeys = c -> ((ObjectNode) llm(c).get("rope_scaling")).put("rope_type", "dynamic");
        assertThatThrownBy(() -> load(ConfigVariant.of("navil-internlm2-tiny", threeKeys)))
                .isInstanceOf(WeightsException.class).hasMessageContaining("exactly the fields type and factor");
        Consumer<ObjectNode> yarn = c -> ((ObjectNode) llm(c).get("rope_scaling")).put("type", "yarn");
        assertThatThrownBy(() -> load(ConfigVariant.of("navil-internlm2-tiny", yarn)))
                .isInstanceOf(WeightsException.class).hasMessageContaining("rope_scaling.type \"yarn\"");
    }

    /** Qwen3VEConfig: a legacy 'type' overwrites rope_type (transformers 4.x), so type "default" wins over rope_type yarn. */
    @Test
    void qwen3LegacyTypeOverwritesRopeType() {
        ConfigVariant.assertCasesPass(ConfigVariant.of("navil-qwen3-tiny", c -> {
            ObjectNode rs = llm(c).putObject("rope_scaling");
            rs.put("rope_type", "yarn");
            rs.put("type", "default");
        }), Set.of("forward"));
        Consumer<ObjectNode> yarn = c -> llm(c).putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        assertThatThrownBy(() -> load(ConfigVariant.of("navil-qwen3-tiny", yarn)))
                .isInstanceOf(WeightsException.class).hasMessageContaining("rope_scaling.rope_type \"yarn\" is not supported");
    }

    @Test
    void unsupportedValuesAreNamed() {
        assertThatThrownBy(() -> load(ConfigVariant.of("navil-qwen3-tiny", c -> llm(c).putArray("architectures").add("Qwen2VEForCausalLM"))))
                .isInstanceOf(WeightsException.class).hasMessageContaining("architectures[0] \"Qwen2VEForCausalLM\" is not supported");
        assertThatThrownBy(() -> load(ConfigVariant.of("navil-qwen3-tiny", c -> c.remove("template"))))
                .isInstanceOf(WeightsException.class).hasMessageContaining("template is missing");
        assertThatThrownBy(() -> load(ConfigVariant.of("navil-internlm2-tiny", c -> llm(c).put("bias", true))))
                .isInstanceOf(WeightsException.class).hasMessageContaining("bias true");
        assertThatThrownBy(() -> load(ConfigVariant.of("navil-qwen3-tiny", c -> llm(c).put("attention_bias", true))))
                .isInstanceOf(WeightsException.class).hasMessageContaining("attention_bias true");
    }

    /** language_model.generate: from_model_config(llm_config) over HF defaults; eos = the template separator only. */
    @Test
    void generationDefaultsFollowHf() {
        try (NaViL m = load(Path.of("fixtures/navil-qwen3-tiny"))) {
            GenerationConfig g = m.defaultGeneration();
            assertThat(g.topK()).isEqualTo(50); // llm_config top_k 50 (= HF's default)
            assertThat(g.doSample()).isFalse();
            assertThat(g.stopIds()).containsExactly(m.imEndId);
            assertThat(g.penalizePrompt()).isFalse();
        }
        try (NaViL m = load(ConfigVariant.of("navil-qwen3-tiny", c -> {
            llm(c).put("top_k", 5);
            llm(c).put("top_p", 0.9);
            llm(c).put("repetition_penalty", 1.1);
        }))) {
            GenerationConfig g = m.defaultGeneration();
            assertThat(g.topK()).isEqualTo(5);
            assertThat(g.topP()).isEqualTo(0.9f);
            assertThat(g.repetitionPenalty()).isEqualTo(1.1f);
        }
    }
}
