package dev.navil4j.train;

import dev.navil4j.weights.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The step-0 checkpoint from a base Qwen2 + teacher: what trains, what is copied, what is zero. */
class VoRAInitTest {
    @Test
    void freshLoraEmbeddingAndHeadsFollowTheReferenceInit(@TempDir Path dir) throws Exception {
        Path base = SyntheticVoRA.baseLlm(dir.resolve("base"), 1), teacher = SyntheticVoRA.teacher(dir.resolve("teacher"), 2);
        Path init = VoRAInit.create(base, teacher, "1", 4, 56, 9, dir.resolve("init"));
        VoRATrainModel m = VoRATrainModel.load(init, teacher);
        Set<String> trainable = new TreeSet<>();
        for (Param p : m.trainable()) trainable.add(p.name);
        Set<String> want = new TreeSet<>();
        for (String t : VoRAInit.TARGETS) {
            String n = "llm.model.layers.0." + t;
            want.add(n + ".lora_A.weight");
            want.add(n + ".lora_B.weight");
            if (!t.endsWith("q_proj") && !t.endsWith("k_proj") && !t.endsWith("v_proj")) want.add(n + ".bias"); // LoRALayer's own bias
        }
        for (String v : new String[]{"pos_embed", "patchifier.proj.weight", "patchifier.proj.bias", "patchifier.norm.weight", "out_proj.weight"})
            want.add("vision_embedding." + v);
        for (int j = 0; j < 2; j++) { want.add("aux_vision.aux_layer_" + j + ".0.weight"); want.add("aux_vision.aux_layer_" + j + ".1.weight"); }
        assertThat(trainable).isEqualTo(want);
        assertThat(m.params()).doesNotContainKey("llm.model.layers.1.self_attn.q_proj.lora_A.weight");
        assertThat(m.params().get("llm.model.layers.0.mlp.up_proj.lora_B.weight").w).containsOnly(0f);
        for (float x : m.params().get("llm.model.layers.0.mlp.down_proj.lora_A.weight").w) assertThat(Math.abs(x)).isLessThanOrEqualTo((float) (1 / Math.sqrt(128)));
        assertThat(m.params().get("aux_vision.aux_layer_1.0.weight").w).containsOnly(1f);
        // reuse_aux_vision_embedding_layers "preprocessor": the student's patchifier is the teacher's
        try (SafeTensors t = SafeTensors.open(teacher)) {
            assertThat(m.params().get("vision_embedding.patchifier.proj.weight").w).isEqualTo(t.get("preprocessor.patchifier.proj.weight").toFloatArray());
            assertThat(m.params().get("vision_embedding.pos_embed").w).isEqualTo(t.get("preprocessor.pos_embed").toFloatArray());
        }
        // the same seed gives the same checkpoint
        Path again = VoRAInit.create(base, teacher, "1", 4, 56, 9, dir.resolve("again"));
        assertThat(Files.readAllBytes(again.resolve("model.safetensors"))).isEqualTo(Files.readAllBytes(init.resolve("model.safetensors")));
        assertThatThrownBy(() -> VoRAInit.create(base, teacher, "3", 4, 56, 9, dir.resolve("x"))).hasMessageContaining("outside [0, 2]");
        assertThatThrownBy(() -> VoRAInit.create(init, teacher, "1", 4, 56, 9, dir.resolve("y"))).hasMessageContaining("Qwen2");
    }
}
