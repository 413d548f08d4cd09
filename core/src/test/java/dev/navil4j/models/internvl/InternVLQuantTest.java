package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Generator;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.tensor.DType;
import dev.navil4j.verify.Fixture;
import dev.navil4j.verify.QuantAgreement;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --weights q8|q4} on the InternVL3 fixtures: quantized LLM layers against the full-precision model on every
 * forward case (teacher-forced logits) and generate case (greedy steps along the full-precision trajectory, and
 * free-running greedy ids). Prints the report; see the assertions for what is required.
 */
class InternVLQuantTest {
    static final List<String> DIRS = List.of("fixtures/internvl3-tiny", "fixtures/internvl3-6bvit-tiny");

    @Test
    void quantizedLoadKeepsVisionAndEmbeddingsAndQuantizesLinears() {
        Path dir = Path.of(DIRS.getFirst(), "model");
        try (InternVLChatModel full = InternVLFamily.loadChatModel(dir, LoadOptions.defaults());
             InternVLChatModel q8 = InternVLFamily.loadChatModel(dir, LoadOptions.defaults().withWeights("q8"));
             InternVLChatModel q4 = InternVLFamily.loadChatModel(dir, LoadOptions.defaults().withWeights("q4"))) {
            long f = full.languageModel.linearWeightBytes(), b8 = q8.languageModel.linearWeightBytes(), b4 = q4.languageModel.linearWeightBytes();
            // bf16 checkpoint: 2 bytes/weight; Q8 36 bytes / 32 weights; Q4 20 bytes / 32 weights
            assertEquals(f / 2 * 36 / 32, b8);
            assertEquals(f / 2 * 20 / 32, b4);
            assertEquals(DType.BF16, full.languageModel.lmHead().dtype());
            assertEquals(DType.Q8, q8.languageModel.lmHead().dtype());
            assertEquals(DType.Q8, q4.languageModel.lmHead().dtype(), "the lm_head stays at 8 bits under q4");
            // same embeddings (not quantized)
            assertArrayEquals(full.languageModel.embed(new int[] {1, 7, 100}), q4.languageModel.embed(new int[] {1, 7, 100}));
        }
    }

    @Test
    void report() {
        List<String> failures = new ArrayList<>();
        for (String d : DIRS) {
            for (String w : List.of("q8", "q4")) {
                try (Fixture full = new Fixture(Path.of(d)); Fixture quant = new Fixture(Path.of(d), LoadOptions.defaults().withWeights(w))) {
                    InternVLChatModel mf0 = InternVLFamily.loadForFixture(full, full.cases().getFirst());
                    InternVLChatModel mq0 = InternVLFamily.loadForFixture(quant, quant.cases().getFirst());
                    System.out.printf(Locale.ROOT, "%s %s: LLM linear weights %d -> %d bytes, lm_head %d -> %d bytes%n", full.name, w,
                            mf0.languageModel.linearWeightBytes(), mq0.languageModel.linearWeightBytes(),
                            mf0.languageModel.lmHead().byteSize(), mq0.languageModel.lmHead().byteSize());
                    for (JsonNode c : full.cases()) {
                        String kind = c.path("kind").asText(), name = full.name + "/" + c.path("name").asText() + " " + w;
                        InternVLChatModel mf = InternVLFamily.loadForFixture(full, c), mq = InternVLFamily.loadForFixture(quant, c);
                        if (kind.equals("forward")) {
                            QuantAgreement.Forward r = QuantAgreement.compareLogits(forward(full, c, mf), forward(full, c, mq), mf.languageModel.vocabSize());
                            System.out.println("  forward  " + name + ": " + r.summary());
                            if (w.equals("q8")) QuantAgreement.checkQ8(name, r, failures);
                        } else if (kind.equals("generate")) {
                            PreparedPrompt p = InternVLCases.chatPrompt(full, c, mf);
                            GenerationConfig g = mf.defaultGeneration().withMaxNewTokens(c.path("generation").path("max_new_tokens").asInt());
                            QuantAgreement.Result r = QuantAgreement.teacherForced(mf, mq, p, g);
                            boolean same = java.util.Arrays.equals(Generator.generate(mf, p, g).ids(), Generator.generate(mq, p, g).ids());
                            System.out.println("  generate " + name + ": free-running " + (same ? "identical" : "differs") + "; " + r.summary());
                            if (w.equals("q8")) QuantAgreement.checkQ8(name, r, failures);
                        }
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /** InternVLFamily's forward case: teacher-forced logits of every position. */
    private static float[] forward(Fixture fx, JsonNode c, InternVLChatModel m) {
        int[] ids = fx.ints(c.get("input_ids"));
        float[] features = null;
        if (c.hasNonNull("pixel_values")) {
            int tiles = (int) fx.tensor(c.get("pixel_values").asText()).shape()[0];
            float[] all = m.vision.extractFeature(fx.floats(c.get("pixel_values")), tiles);
            features = InternVLFamily.keepFlagged(all, tiles, c.hasNonNull("image_flags") ? fx.ints(c.get("image_flags")) : null);
        }
        return m.forward(m.newState(), ids, features, true);
    }
}
