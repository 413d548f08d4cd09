package dev.navil4j.models.vora;

import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.ConfigVariant;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** VoRA config rules of docs/CONFIG.md on variants of fixtures/vora-tiny. */
class VoRAConfigRulesTest {
    static VoRAForCausalLM load(Path fixture) { return VoRAForCausalLM.load(fixture.resolve("model"), LoadOptions.defaults()); }

    /** configuration_vora.py: vision_attention_mask defaults to "bidirectional" (the fixture's value). */
    @Test
    void attentionMaskDefaultsToBidirectional() {
        Path v = ConfigVariant.of("vora-tiny", c -> c.remove("vision_attention_mask"));
        try (VoRAForCausalLM m = load(v)) {
            assertThat(m.config.bidirectionalImages()).isTrue();
        }
        // forward_image_causal_mask overrides the mask to "default" itself; the others run the default
        ConfigVariant.assertCasesPass(v, Set.of("forward"));
    }

    /** The reference default vision_embedding "AIMv2" is no class of vision_embedding.py: getattr fails. */
    @Test
    void missingVisionEmbeddingIsRefused() {
        assertThatThrownBy(() -> load(ConfigVariant.of("vora-tiny", c -> c.remove("vision_embedding"))))
                .isInstanceOf(WeightsException.class).hasMessageContaining("vision_embedding is missing");
    }

    /** modeling_vora.py:47 `if config.lora:` — an empty dict applies no LoRA layer (the merged checkpoint runs as is). */
    @Test
    void emptyLoraDictMeansNoLora() {
        Path v = ConfigVariant.of("vora-tiny", c -> c.putObject("lora"));
        try (VoRAForCausalLM m = load(v)) {
            assertThat(m.config.loraLayers()).isEmpty();
        }
    }

    /** generation_config.json keys (max_new_tokens included) over HF's defaults (top_k 50 when the file sets none). */
    @Test
    void generationConfigFileIsResolvedLikeHf() {
        try (VoRAForCausalLM m = load(Path.of("fixtures/vora-tiny"))) {
            GenerationConfig g = m.defaultGeneration();
            assertThat(g.topK()).isEqualTo(20);
            assertThat(g.repetitionPenalty()).isEqualTo(1.05f);
            assertThat(g.stopIds()).containsExactlyInAnyOrder(2002, 2000);
            assertThat(g.maxNewTokens()).isEqualTo(1024);
        }
        Path v = ConfigVariant.of("vora-tiny", "generation_config.json", g -> {
            g.remove("top_k");
            g.put("max_new_tokens", 9);
        });
        try (VoRAForCausalLM m = load(v)) {
            GenerationConfig g = m.defaultGeneration();
            assertThat(g.topK()).isEqualTo(50);
            assertThat(g.maxNewTokens()).isEqualTo(9);
        }
    }
}
