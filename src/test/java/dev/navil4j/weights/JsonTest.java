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
}
