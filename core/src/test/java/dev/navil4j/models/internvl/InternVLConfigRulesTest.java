package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.ConfigVariant;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import static dev.navil4j.models.ConfigVariant.llm;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The InternVL config rules of docs/CONFIG.md, each on a variant of fixtures/internvl3-tiny whose expected output
 * follows from the rule: a field the reference overrides or ignores leaves the reference's logits unchanged, so the
 * fixture's own vision/forward cases must still pass on the variant (and fail when the rule is broken).
 */
class InternVLConfigRulesTest {
    static final Set<String> MODEL_CASES = Set.of("vision", "forward");

    static Path variant(Consumer<ObjectNode> edit) { return ConfigVariant.of("internvl3-tiny", edit); }

    static InternVLChatModel load(Path fixture) { return InternVLFamily.loadChatModel(fixture.resolve("model"), LoadOptions.defaults()); }

    /** configuration_internvl_chat.py:78-79: tie_word_embeddings is forced false; lm_head.weight is always used. */
    @Test
    void tieWordEmbeddingsIsIgnored() {
        ConfigVariant.assertCasesPass(variant(c -> {
            c.put("tie_word_embeddings", true);
            llm(c).put("tie_word_embeddings", true);
        }), MODEL_CASES);
    }

    /** modeling_internvl_chat.py:266: only "v1" leaves the transposed order; any other value swaps back (v2). */
    @Test
    void psVersionOtherThanV1ActsAsV2() {
        ConfigVariant.assertCasesPass(variant(c -> c.put("ps_version", "v3")), MODEL_CASES);
        ConfigVariant.assertCasesPass(variant(c -> c.putNull("ps_version")), MODEL_CASES);
    }

    /** extract_feature: hidden_states[select_layer]; index num_hidden_layers is the last hidden state, as -1. */
    @Test
    void selectLayerCountsHiddenStatesLikePython() {
        ConfigVariant.assertCasesPass(variant(c -> c.put("select_layer", c.get("vision_config").get("num_hidden_layers").asInt())),
                MODEL_CASES);
    }

    /** modeling_internvl_chat.py:52: force_image_size or vision_config.image_size (null and 0 fall back; the fixture's are equal). */
    @Test
    void forceImageSizeFallsBackToTheVitImageSize() {
        ConfigVariant.assertCasesPass(variant(c -> c.putNull("force_image_size")), Set.of("forward"));
        ConfigVariant.assertCasesPass(variant(c -> c.put("force_image_size", 0)), Set.of("forward"));
    }

    /** Qwen2 rope: a legacy "type" is read when rope_type is absent; rope_type wins over type; theta in the dict wins. */
    @Test
    void ropeScalingForms() {
        ConfigVariant.assertCasesPass(variant(c -> {
            ObjectNode rs = llm(c).putObject("rope_scaling");
            rs.put("type", "linear"); // ignored: rope_type says dynamic
            rs.put("rope_type", "dynamic");
            rs.put("factor", 2.0);
        }), Set.of("forward"));
        // rope_theta inside rope_scaling overrides the top-level value (a wrong top-level theta must not matter)
        ConfigVariant.assertCasesPass(variant(c -> {
            ObjectNode l = llm(c);
            double theta = l.get("rope_theta").asDouble();
            l.put("rope_theta", 10000.0);
            ((ObjectNode) l.get("rope_scaling")).put("rope_theta", theta);
        }), Set.of("forward"));
        // the transformers-5 key rope_parameters is read like rope_scaling
        ConfigVariant.assertCasesPass(variant(c -> llm(c).set("rope_parameters", llm(c).remove("rope_scaling"))), Set.of("forward"));
    }

    @Test
    void unsupportedRopeTypeIsNamed() {
        Path v = variant(c -> ((ObjectNode) llm(c).get("rope_scaling")).put("rope_type", "yarn"));
        assertThatThrownBy(() -> load(v)).isInstanceOf(WeightsException.class)
                .hasMessageContaining("rope_scaling.rope_type \"yarn\" is not supported");
    }

    /** use_sliding_window only matters for layers at or past max_window_layers (70 here, the LLM has 2 layers). */
    @Test
    void slidingWindowFlagWithoutSlidingLayersRuns() {
        ConfigVariant.assertCasesPass(variant(c -> {
            llm(c).put("use_sliding_window", true);
            llm(c).put("sliding_window", 4);
        }), Set.of("forward"));
        Path sliding = variant(c -> {
            llm(c).put("use_sliding_window", true);
            llm(c).put("sliding_window", 4);
            llm(c).put("max_window_layers", 1);
        });
        assertThatThrownBy(() -> load(sliding)).isInstanceOf(WeightsException.class).hasMessageContaining("use_sliding_window");
    }

    /** template defaults to None in the reference, and get_conv_template(None) fails. */
    @Test
    void missingTemplateIsRefused() {
        Path v = variant(c -> c.remove("template"));
        assertThatThrownBy(() -> load(v)).isInstanceOf(WeightsException.class).hasMessageContaining("template is missing");
    }

    /**
     * hasattr(config, 'system_message'): a config key replaces the template's message, a JSON null prints as "None";
     * the expected prompts follow from the internvl2_5 template (system_template + sep, roles, sep).
     */
    @Test
    void systemMessageKeyReplacesTheTemplates() {
        Conversation ask = new Conversation(null, List.of(new Conversation.Turn("Hi", List.of(), null)));
        String tail = "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        try (InternVLChatModel m = load(variant(c -> c.put("system_message", "Be brief.")))) {
            assertThat(m.prepare(ask).text()).isEqualTo("<|im_start|>system\nBe brief." + tail);
        }
        try (InternVLChatModel m = load(variant(c -> c.putNull("system_message")))) {
            assertThat(m.prepare(ask).text()).isEqualTo("<|im_start|>system\nNone" + tail);
        }
        try (InternVLChatModel m = load(variant(c -> c.put("system_message", "")))) {
            assertThat(m.prepare(ask).text()).isEqualTo("<|im_start|>system\n" + tail);
        }
        try (InternVLChatModel m = load(variant(c -> c.remove("system_message")))) {
            assertThat(m.prepare(ask).text()).isEqualTo("<|im_start|>system\n" + InternVLTemplate.INTERNVL2_5_SYSTEM + tail);
        }
    }

    /** InternVL3-9B's InternLM3 LLM: the reference config class raises; navil4j names the architecture. */
    @Test
    void unsupportedLlmArchitecturesAreNamed() {
        Path internlm3 = variant(c -> llm(c).putArray("architectures").add("InternLM3ForCausalLM"));
        assertThatThrownBy(() -> load(internlm3)).isInstanceOf(WeightsException.class)
                .hasMessageContaining("architectures[0] \"InternLM3ForCausalLM\" is not supported")
                .hasMessageContaining("trust_remote_code");
        Path llama = variant(c -> llm(c).putArray("architectures").add("LlamaForCausalLM"));
        assertThatThrownBy(() -> load(llama)).isInstanceOf(WeightsException.class)
                .hasMessageContaining("\"LlamaForCausalLM\" is not supported");
    }

    @Test
    void loraWrappedCheckpointsAreRefused() {
        Path v = variant(c -> c.put("use_llm_lora", 128));
        assertThatThrownBy(() -> load(v)).isInstanceOf(WeightsException.class).hasMessageContaining("use_llm_lora 128");
    }

    /**
     * generate()'s resolution for the LLM built from llm_config: from_model_config(llm_config) over HF's defaults;
     * chat() sets eos to <|im_end|> only. The fixture's llm_config sets no sampling key, so HF's defaults apply.
     */
    @Test
    void generationDefaultsFollowHf() {
        try (InternVLChatModel m = load(Path.of("fixtures/internvl3-tiny"))) {
            GenerationConfig g = m.defaultGeneration();
            assertThat(g.doSample()).isFalse();
            assertThat(g.topK()).isEqualTo(50);
            assertThat(g.topP()).isEqualTo(1f);
            assertThat(g.temperature()).isEqualTo(1f);
            assertThat(g.repetitionPenalty()).isEqualTo(1f);
            assertThat(g.stopIds()).containsExactly(m.stopId());
            assertThat(g.penalizePrompt()).isFalse();
        }
        try (InternVLChatModel m = load(variant(c -> {
            llm(c).put("top_k", 7);
            llm(c).put("temperature", 0.5);
            llm(c).put("do_sample", true);
            llm(c).put("max_new_tokens", 33);
        }))) {
            GenerationConfig g = m.defaultGeneration();
            assertThat(g.topK()).isEqualTo(7);
            assertThat(g.temperature()).isEqualTo(0.5f);
            assertThat(g.doSample()).isTrue();
            assertThat(g.maxNewTokens()).isEqualTo(33);
            assertThat(g.stopIds()).containsExactly(m.stopId()); // llm_config eos_token_id 2000 is replaced by chat()
        }
    }
}
