package dev.navil4j.models.qwen2;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** transformers' Qwen2Config (v5) resolution rules, on small configs whose expected values are the class's own. */
class Qwen2ConfigTest {
    static ObjectNode base() {
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.put("hidden_size", 64).put("num_attention_heads", 4).put("num_key_value_heads", 2).put("intermediate_size", 96)
                .put("num_hidden_layers", 2).put("vocab_size", 100);
        return c;
    }

    static Qwen2Config of(ObjectNode c) { return Qwen2Config.of(new Json.Obj(c, "config.json")); }

    @Test
    void absentKeysTakeTheClassDefaults() {
        Qwen2Config q = of(Json.MAPPER.createObjectNode());
        assertThat(q.hiddenSize()).isEqualTo(4096);
        assertThat(q.intermediateSize()).isEqualTo(22016);
        assertThat(q.numHiddenLayers()).isEqualTo(32);
        assertThat(q.numAttentionHeads()).isEqualTo(32);
        assertThat(q.numKeyValueHeads()).isEqualTo(32);
        assertThat(q.vocabSize()).isEqualTo(151936);
        assertThat(q.maxPositionEmbeddings()).isEqualTo(32768);
        assertThat(q.ropeTheta()).isEqualTo(10000.0);
        assertThat(q.rmsNormEps()).isEqualTo(1e-6f);
        assertThat(q.tieWordEmbeddings()).isFalse();
        assertThat(q.ropeScalingType()).isNull();
    }

    /** __post_init__: num_key_value_heads None -> num_attention_heads (absent -> the default 32). */
    @Test
    void nullKeyValueHeadsMeansMultiHead() {
        assertThat(of(base().putNull("num_key_value_heads")).numKeyValueHeads()).isEqualTo(4);
    }

    @Test
    void legacyTypeKeyIsReadWhenRopeTypeIsAbsent() {
        ObjectNode c = base();
        c.putObject("rope_scaling").put("type", "dynamic").put("factor", 4.0);
        Qwen2Config q = of(c);
        assertThat(q.ropeScalingType()).isEqualTo("dynamic");
        assertThat(q.ropeScalingFactor()).isEqualTo(4.0);
    }

    @Test
    void ropeTypeWinsOverType() {
        ObjectNode c = base();
        c.putObject("rope_scaling").put("rope_type", "default").put("type", "dynamic").put("factor", 4.0);
        assertThat(of(c).ropeScalingType()).isNull();
    }

    @Test
    void ropeThetaInsideTheDictWins() {
        ObjectNode c = base().put("rope_theta", 5.0);
        c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 7.0);
        assertThat(of(c).ropeTheta()).isEqualTo(7.0);
        assertThat(of(base().put("rope_theta", 5.0)).ropeTheta()).isEqualTo(5.0);
    }

    @Test
    void unsupportedVariantsNameFieldAndValue() {
        ObjectNode yarn = base();
        yarn.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        assertThatThrownBy(() -> of(yarn)).isInstanceOf(WeightsException.class)
                .hasMessage("config.json: rope_scaling.rope_type \"yarn\" is not supported (navil4j implements \"default\" and \"dynamic\")");
        ObjectNode dynNoFactor = base();
        dynNoFactor.putObject("rope_scaling").put("rope_type", "dynamic");
        assertThatThrownBy(() -> of(dynNoFactor)).hasMessageContaining("needs a \"factor\"");
        assertThatThrownBy(() -> of(base().put("hidden_act", "gelu"))).hasMessageContaining("hidden_act \"gelu\"");
        ObjectNode types = base();
        types.putArray("layer_types").add("full_attention").add("sliding_attention");
        assertThatThrownBy(() -> of(types)).hasMessageContaining("layer_types \"sliding_attention\"");
    }

    /** sliding_window: absent means 4096, null means none; only layers >= max_window_layers slide. */
    @Test
    void slidingWindowOnlyWhenALayerSlides() {
        assertThat(of(base().put("use_sliding_window", true).put("max_window_layers", 2))).isNotNull();
        assertThat(of(base().put("use_sliding_window", true).put("max_window_layers", 0).putNull("sliding_window"))).isNotNull();
        assertThatThrownBy(() -> of(base().put("use_sliding_window", true).put("max_window_layers", 1)))
                .hasMessageContaining("use_sliding_window=true");
    }
}
