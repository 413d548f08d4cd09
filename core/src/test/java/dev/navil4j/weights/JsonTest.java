package dev.navil4j.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonTest {
    @TempDir
    Path tmp;

    @Test
    void typedAccessIgnoresUnknownKeysAndNamesMissingOnes() throws IOException {
        Path f = tmp.resolve("config.json");
        Files.writeString(f, "{\"hidden_size\": 64, \"rope_theta\": 1e6, \"some_future_key\": {\"x\": 1}, \"llm_config\": {\"vocab_size\": 10}, \"flag\": true}");
        Json.Obj o = Json.Obj.of(f);
        assertThat(o.integer("hidden_size")).isEqualTo(64);
        assertThat(o.number("rope_theta")).isEqualTo(1e6);
        assertThat(o.integer("num_layers", 7)).isEqualTo(7);
        assertThat(o.bool("flag", false)).isTrue();
        assertThat(o.obj("llm_config").integer("vocab_size")).isEqualTo(10);
        assertThatThrownBy(() -> o.integer("num_attention_heads"))
                .hasMessageContaining(f.toString()).hasMessageContaining("missing required key \"num_attention_heads\"");
        assertThatThrownBy(() -> o.obj("llm_config").integer("hidden_size"))
                .hasMessageContaining("llm_config").hasMessageContaining("\"hidden_size\"");
        assertThatThrownBy(() -> o.string("hidden_size")).hasMessageContaining("must be a string");
        // a float where Python needs an int (a size, an index) is refused, not truncated
        assertThatThrownBy(() -> o.integer("rope_theta")).hasMessageContaining("\"rope_theta\" must be an integer, got 1000000.0");
    }

    @Test
    void invalidJsonIsAClearError() throws IOException {
        Path f = tmp.resolve("bad.json");
        Files.writeString(f, "{\"a\": ");
        assertThatThrownBy(() -> Json.read(f)).isInstanceOf(WeightsException.class).hasMessageContaining("invalid JSON");
        assertThatThrownBy(() -> Json.read(tmp.resolve("none.json"))).hasMessageContaining("no such file");
    }

    /** Jackson's canConvertToInt accepts 1.5 (asInt gives 1): integer fields must be integral, counts at least 1. */
    @Test
    void integersMustBeIntegralAndCountsPositive() throws IOException {
        Path f = tmp.resolve("config.json");
        Files.writeString(f, "{\"num_hidden_layers\": 1.5, \"num_attention_heads\": 0, \"select_layer\": -1, \"window_size\": 0,"
                + " \"hidden_size\": 2.0, \"ids\": [1, 2.5]}");
        Json.Obj o = Json.Obj.of(f);
        assertThatThrownBy(() -> o.integer("num_hidden_layers")).hasMessageContaining(f.toString())
                .hasMessageContaining("\"num_hidden_layers\" must be an integer, got 1.5");
        assertThatThrownBy(() -> o.integer("hidden_size")).hasMessageContaining("must be an integer");
        assertThatThrownBy(() -> o.integer("num_attention_heads")).hasMessageContaining("\"num_attention_heads\" must be at least 1, got 0");
        assertThat(o.integer("select_layer")).isEqualTo(-1);   // not a count: negative values have a meaning
        assertThat(o.integer("window_size")).isZero();
        assertThatThrownBy(() -> o.intList("ids")).hasMessageContaining("must hold integers, got 2.5");
    }

    @Test
    void everyConfigFileOfTheCheckpointMustParse() throws IOException {
        Files.writeString(tmp.resolve("config.json"), "{}");
        Json.checkConfigFiles(tmp);
        Files.writeString(tmp.resolve("preprocessor_config.json"), "{\"size\": ");
        assertThatThrownBy(() -> Json.checkConfigFiles(tmp)).hasMessageContaining("preprocessor_config.json").hasMessageContaining("invalid JSON");
    }
}
