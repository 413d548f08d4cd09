package dev.navil4j.generate;

import dev.navil4j.models.GenerationConfig;
import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.chat.Conversation;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Batched decode and chunked prefill against single runs, on the fixture checkpoints of every family: each row
 * of a batch of B = 1..8 sequences with mixed prompt lengths (text and image prompts) generates exactly the ids
 * it generates alone, and where the prompt is a fixture case's, exactly the reference's ids.
 */
class BatchedGenerationTest {
    /** fixture dir → model; closed after all tests. */
    private static final Map<String, VisionLanguageModel> MODELS = new LinkedHashMap<>();

    @BeforeAll
    static void load() {
        for (String f : List.of("internvl3-tiny", "navil-qwen3-tiny", "navil-internlm2-tiny", "vora-tiny"))
            MODELS.put(f, ModelRegistry.load(Path.of("fixtures", f, "model"), LoadOptions.defaults()));
    }

    @AfterAll
    static void close() { MODELS.values().forEach(VisionLanguageModel::close); }

    private static Conversation.Media image(String name) {
        return new Conversation.Image(Path.of("fixtures/images", name), null);
    }

    /** Distinct single-turn requests of different lengths, with and without images. */
    private static List<Conversation> requests(String fixture) {
        boolean navil = fixture.startsWith("navil");
        String photo = navil ? "navil-photo_480x358.png" : "red_panda_500x373.png";
        String other = navil ? "navil-gray_320x240.png" : "gray_300x200.png";
        return List.of(
                new Conversation(null, List.of(new Conversation.Turn("Hello, who are you?", List.of(), null))),
                new Conversation(null, List.of(new Conversation.Turn("Please describe the image shortly.", List.of(image(photo)), null))),
                new Conversation(null, List.of(new Conversation.Turn("Hi", List.of(), null))),
                new Conversation("Answer briefly.", List.of(new Conversation.Turn("What colour dominates this picture, and why?", List.of(image(other)), null))),
                new Conversation(null, List.of(new Conversation.Turn("Write a long and careful explanation of how rainbows form in the sky after rain.", List.of(), null))));
    }

    private static GenerationConfig config(VisionLanguageModel m) { return m.defaultGeneration().withMaxNewTokens(12); }

    @Test
    void everyBatchRowEqualsItsSingleRun() {
        for (Map.Entry<String, VisionLanguageModel> e : MODELS.entrySet()) {
            VisionLanguageModel m = e.getValue();
            List<PreparedPrompt> prompts = new ArrayList<>();
            for (Conversation c : requests(e.getKey())) prompts.add(m.prepare(c));
            List<int[]> single = new ArrayList<>();
            for (PreparedPrompt p : prompts) single.add(Generator.generate(m, p, config(m)).ids());
            for (int b = 1; b <= 8; b++) {
                List<Sequence> seqs = new ArrayList<>();
                for (int i = 0; i < b; i++) seqs.add(new Sequence(m, prompts.get(i % prompts.size()), config(m), m.newState(), null));
                Batch.run(m, seqs, Batch.DEFAULT_CHUNK);
                for (int i = 0; i < b; i++)
                    assertThat(seqs.get(i).result().ids()).as("%s B=%d row %d", e.getKey(), b, i).containsExactly(single.get(i % prompts.size()));
            }
        }
    }

    /**
     * A batch row's logits do not depend on what else is in the batch (same kernel per row whatever its neighbours;
     * only the JIT's switch from the Vector API's fallback to its intrinsics can reorder a lane reduction, ≤ 1e-5 here),
     * and equal one row's (GEMV) within rounding.
     */
    @Test
    void batchedLogitsDoNotDependOnTheOtherRows() {
        for (Map.Entry<String, VisionLanguageModel> e : MODELS.entrySet()) {
            VisionLanguageModel m = e.getValue();
            List<PreparedPrompt> prompts = new ArrayList<>();
            for (Conversation c : requests(e.getKey())) prompts.add(m.prepare(c));
            float[][] alone = new float[prompts.size()][];
            var states = new ArrayList<dev.navil4j.models.InferenceState>();
            for (int i = 0; i < prompts.size(); i++) {
                var s = m.newState();
                m.prefill(s, prompts.get(i));
                states.add(s);
                var s2 = m.newState();
                m.prefill(s2, prompts.get(i));
                alone[i] = m.decode(s2, 100);
            }
            List<dev.navil4j.models.Step> steps = new ArrayList<>();
            for (var s : states) steps.add(new dev.navil4j.models.Step.Decode(s, 100));
            float[][] batched = m.step(steps);
            for (int i = 0; i < prompts.size(); i++) {
                double err = 0;
                for (int v = 0; v < alone[i].length; v++) err = Math.max(err, Math.abs(alone[i][v] - batched[i][v]));
                assertThat(err).as("%s row %d vs single decode", e.getKey(), i).isLessThan(2e-4);
            }
            // the same rows again in another order and with fewer neighbours
            for (var s : states) s.truncate(s.length() - 1);
            List<dev.navil4j.models.Step> two = List.of(new dev.navil4j.models.Step.Decode(states.get(3), 100),
                    new dev.navil4j.models.Step.Decode(states.get(1), 100));
            float[][] again = m.step(two);
            for (int v = 0; v < again[0].length; v++) {
                assertThat((double) again[0][v]).as(e.getKey()).isCloseTo(batched[3][v], org.assertj.core.data.Offset.offset(1e-5));
                assertThat((double) again[1][v]).as(e.getKey()).isCloseTo(batched[1][v], org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    /** A prompt prefilled in small chunks (interleaved with other sequences' decodes) generates what one prefill does. */
    @Test
    void chunkedPrefillEqualsWholePrefill() {
        for (Map.Entry<String, VisionLanguageModel> e : MODELS.entrySet()) {
            VisionLanguageModel m = e.getValue();
            List<PreparedPrompt> prompts = new ArrayList<>();
            for (Conversation c : requests(e.getKey())) prompts.add(m.prepare(c));
            for (PreparedPrompt p : prompts) {
                int[] whole = Generator.generate(m, p, config(m)).ids();
                List<Sequence> seqs = List.of(new Sequence(m, p, config(m), m.newState(), null),
                        new Sequence(m, prompts.get(0), config(m), m.newState(), null));
                Batch.run(m, seqs, 7);
                assertThat(seqs.get(0).result().ids()).as("%s chunked %s", e.getKey(), p).containsExactly(whole);
            }
        }
    }

    /** The text and image prompts built through prepare() equal the fixture cases' and generate the reference ids in a batch. */
    @Test
    void batchRowsReproduceTheReference() throws Exception {
        Fixture fx = new Fixture(Path.of("fixtures/internvl3-tiny"));
        VisionLanguageModel m = MODELS.get("internvl3-tiny");
        JsonNode text = named(fx, "gen_text");
        PreparedPrompt p = m.prepare(new Conversation(null, List.of(new Conversation.Turn(text.get("question").asText(), List.of(), null))));
        assertThat(p.ids()).containsExactly(fx.ints(text.get("expect").get("prompt_ids")));
        int[] want = fx.ints(text.get("expect").get("generated_ids"));
        GenerationConfig g = m.defaultGeneration().withMaxNewTokens(text.get("generation").get("max_new_tokens").asInt());
        List<Sequence> seqs = new ArrayList<>();
        PreparedPrompt other = m.prepare(requests("internvl3-tiny").get(1));
        for (int i = 0; i < 6; i++) seqs.add(new Sequence(m, i % 2 == 0 ? p : other, g, m.newState(), null));
        Batch.run(m, seqs, 16);
        for (int i = 0; i < 6; i += 2) assertThat(seqs.get(i).result().ids()).as("row %d", i).containsExactly(want);
        assertThat(Arrays.equals(seqs.get(1).result().ids(), want)).isFalse();
    }

    static JsonNode named(Fixture fx, String name) {
        for (JsonNode c : fx.cases()) if (c.path("name").asText().equals(name)) return c;
        throw new AssertionError("no case " + name);
    }
}
