package dev.navil4j.train;

import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.vora.VoRAForCausalLM;
import dev.navil4j.verify.Compare;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The loop on the vora-train-tiny checkpoint: resume = uninterrupted, the merged output loads and runs, the CLI. */
class TrainerTest {
    static final Path FX = Path.of("fixtures/vora-train-tiny");
    static final Path MODEL = FX.resolve("model"), TEACHER = FX.resolve("teacher");
    static List<TrainData.Sample> samples;

    @BeforeAll
    static void data() throws Exception {
        var root = Json.read(FX.resolve("cases.json"));
        samples = new java.util.ArrayList<>();
        for (var s : root.path("samples")) samples.add(TrainData.sample(s, FX.toAbsolutePath(), "cases.json"));
    }

    /** 1-sample micro-batches, 2 accumulated, warm-up + cosine, clipping: everything a resume must carry. */
    static Trainer.Options options(int steps, int saveEvery) {
        return new Trainer.Options(steps, 1, 2, 5e-4, "cosine", 1, 1.0, 7, saveEvery, 100, true);
    }

    @Test
    void resumingFromACheckpointGivesExactlyTheUninterruptedRun(@TempDir Path dir) {
        Trainer full = new Trainer(MODEL, TEACHER, samples, options(4, 2), dir.resolve("full"), false, null);
        full.runAll();
        Trainer resumed = new Trainer(dir.resolve("full/checkpoint-2"), TEACHER, samples, options(4, 0), dir.resolve("resumed"), true, null);
        assertThat(resumed.step()).isEqualTo(2);
        resumed.runAll();
        for (Param p : full.model().trainable())
            assertThat(resumed.model().params().get(p.name).w).as(p.name).isEqualTo(p.w); // bit for bit
        assertThat(resumed.history()).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(resumed.history().get(i).loss()).isEqualTo(full.history().get(i).loss());
            assertThat(resumed.history().get(i).gradNorm()).isEqualTo(full.history().get(i).gradNorm());
        }
        // the weights moved: the test compares trained weights, not the initial ones twice
        Trainer fresh = new Trainer(MODEL, TEACHER, samples, options(4, 0), null, false, null);
        Param a = fresh.model().params().get("vision_embedding.out_proj.weight");
        assertThat(full.model().params().get(a.name).w).isNotEqualTo(a.w);
        // a resume with another data order is refused
        assertThatThrownBy(() -> new Trainer(dir.resolve("full/checkpoint-2"), TEACHER, samples,
                new Trainer.Options(4, 1, 2, 5e-4, "cosine", 1, 1.0, 8, 0, 100, true), null, true, null))
                .hasMessageContaining("seed");
    }

    @Test
    void theMergedCheckpointLoadsInTheInferenceEngineAndMatchesTheUnmergedModel(@TempDir Path dir) throws Exception {
        Trainer t = new Trainer(MODEL, TEACHER, samples, options(2, 0), dir, false, null);
        t.runAll();
        assertThat(dir.resolve("loss.csv")).exists();
        assertThat(Files.readAllLines(dir.resolve("loss.csv"))).hasSize(3);
        assertThat(dir.resolve("loss.png")).exists();
        TrainData data = TrainData.forModel(dev.navil4j.tokenizer.Tokenizers.load(MODEL), MODEL, 112);
        TrainData.Encoded e = data.encode(samples.getFirst());
        int[] ones = new int[e.ids().length];
        Arrays.fill(ones, 1);
        float[] unmerged = t.model().forward(new Batch(1, e.ids().length, e.ids(), null, ones, e.pixels(), 112), false).logits();
        try (VoRAForCausalLM m = VoRAForCausalLM.load(dir.resolve("merged"), LoadOptions.defaults())) {
            float[] merged = m.forwardAll(m.prepare(e.ids(), List.of(e.pixels()), 112, null));
            assertThat(Compare.maxAbs(merged, unmerged)).isLessThan(1e-3f);
        }
        // merge_lora: lora and aux_vision tensors gone, W + B @ A in place, the fresh biases kept
        try (SafeTensors st = SafeTensors.open(dir.resolve("merged"))) {
            assertThat(st.names()).noneMatch(n -> n.contains("lora_") || n.startsWith("aux_vision"));
            assertThat(st.names()).contains("llm.model.layers.0.mlp.down_proj.bias");
            Map<String, float[]> want = t.model().mergedWeights();
            TensorInfo q = st.get("llm.model.layers.1.self_attn.q_proj.weight");
            assertThat(q.toFloatArray()).isEqualTo(want.get(q.name()));
        }
    }


    @Test
    void withoutTeacherTheConfigsRelativeAuxVisionIsResolvedAgainstTheCheckpoint(@TempDir Path dir) {
        Trainer t = new Trainer(MODEL, null, samples, new Trainer.Options(1, 2, 1, 2e-4, "constant", 0, 0, 1, 0, 1, false), dir, false, null);
        t.runAll();
        assertThat(t.history().getFirst().loss()).isCloseTo(11.626783, org.assertj.core.data.Offset.offset(5e-5)); // the fixture's total loss
        String aux = Json.Obj.of(dir.resolve("checkpoint-1/config.json")).string("aux_vision");
        assertThat(Path.of(aux)).isAbsolute().isEqualTo(TEACHER.toAbsolutePath().normalize());
    }

    @Test
    void schedulesFollowTransformers() {
        Trainer.Options cos = new Trainer.Options(10, 1, 1, 1.0, "cosine", 2, 0, 1, 0, 1, false);
        assertThat(Trainer.lr(cos, 0)).isZero();
        assertThat(Trainer.lr(cos, 1)).isEqualTo(0.5);
        assertThat(Trainer.lr(cos, 2)).isEqualTo(1.0);
        assertThat(Trainer.lr(cos, 6)).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
        Trainer.Options cw = new Trainer.Options(10, 1, 1, 1.0, "constant_with_warmup", 4, 0, 1, 0, 1, false);
        assertThat(Trainer.lr(cw, 1)).isEqualTo(0.25);
        assertThat(Trainer.lr(cw, 9)).isEqualTo(1.0);
        assertThatThrownBy(() -> new Trainer.Options(10, 1, 1, 1.0, "linear", 0, 0, 1, 0, 1, false)).hasMessageContaining("schedule");
    }
}
