package dev.navil4j.models.vora;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Generator;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.nn.LoraLinear;
import dev.navil4j.tensor.DType;
import dev.navil4j.verify.Fixture;
import dev.navil4j.verify.QuantAgreement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --weights q8|q4} on vora-tiny: the quantized LLM (LoRA merged in f32 and then quantized, or kept as
 * factors beside a quantized base) against full precision on every forward and generate case.
 */
class VoRAQuantTest {
    static final Path DIR = Path.of("fixtures/vora-tiny");
    static final Map<String, VoRAForCausalLM> MODELS = new HashMap<>();

    static VoRAForCausalLM model(Path dir, JsonNode override, boolean merge, String weights) {
        return MODELS.computeIfAbsent(dir + ":" + override + ":" + merge + ":" + weights, k -> VoRAForCausalLM.load(dir,
                LoadOptions.defaults().withConfigOverride(override).withMergeLora(merge).withWeights(weights)));
    }

    @AfterAll
    static void close() { MODELS.values().forEach(VoRAForCausalLM::close); }

    @Test
    void mergedLoraIsQuantizedAfterTheF32MergeAndUnmergedFactorsStayStored() {
        Path unmerged = DIR.resolve("model_unmerged");
        VoRAForCausalLM mergedQ8 = model(unmerged, null, true, "q8"), flyQ8 = model(unmerged, null, false, "q8");
        VoRAForCausalLM full = model(unmerged, null, true, "auto");
        // f32 checkpoint: 4 bytes/weight -> Q8 36/32 bytes; LoRA factors (on-the-fly path) are extra and f32
        long f = full.llm.linearWeightBytes();
        assertEquals(f / 4 * 36 / 32, mergedQ8.llm.linearWeightBytes());
        assertTrue(flyQ8.llm.linearWeightBytes() > mergedQ8.llm.linearWeightBytes());
        assertEquals(DType.Q8, mergedQ8.llm.lmHead().dtype());
        assertEquals(DType.F32, full.llm.lmHead().dtype());
        // both LoRA paths under q8 stay close to each other (they differ only in whether B·A is quantized)
        float[] a = mergedQ8.forwardText(new int[] {5, 17, 300, 42}), b = flyQ8.forwardText(new int[] {5, 17, 300, 42});
        assertTrue(dev.navil4j.verify.Compare.maxAbs(a, b) < 0.5, "merged-then-quantized vs quantized base + f32 LoRA");
        assertNotNull(LoraLinear.class);
    }

    @Test
    void report() {
        List<String> failures = new ArrayList<>();
        try (Fixture fx = new Fixture(DIR)) {
            for (String w : List.of("q8", "q4")) {
                VoRAForCausalLM f0 = model(fx.modelDir(fx.cases().getFirst()), null, true, "auto"), q0 = model(fx.modelDir(fx.cases().getFirst()), null, true, w);
                System.out.printf(Locale.ROOT, "%s %s: LLM linear weights %d -> %d bytes, lm_head %d -> %d bytes%n", fx.name, w,
                        f0.llm.linearWeightBytes(), q0.llm.linearWeightBytes(), f0.llm.lmHead().byteSize(), q0.llm.lmHead().byteSize());
                for (JsonNode c : fx.cases()) {
                    String kind = c.path("kind").asText();
                    if (!kind.equals("forward") && !kind.equals("generate")) continue;
                    Path dir = fx.modelDir(c);
                    JsonNode override = c.get("config_override");
                    // the unmerged checkpoint: both LoRA paths, as the fixture runner checks
                    for (boolean merge : dir.endsWith("model_unmerged") ? List.of(true, false) : List.of(true)) {
                        VoRAForCausalLM mf = model(dir, override, merge, "auto"), mq = model(dir, override, merge, w);
                        String name = fx.name + "/" + c.path("name").asText() + (merge ? "" : "[lora on the fly]") + " " + w;
                        if (kind.equals("forward")) {
                            QuantAgreement.Forward r = QuantAgreement.compareLogits(forward(fx, c, mf), forward(fx, c, mq), mf.llm.vocabSize());
                            System.out.println("  forward  " + name + ": " + r.summary());
                            if (w.equals("q8")) QuantAgreement.checkQ8(name, r, failures);
                        } else {
                            GenerationConfig g = VoRAFamily.generationFor(mf.defaultGeneration(), c.path("generation"));
                            PreparedPrompt p = mf.prepare(VoRAFamily.conversation(fx, c.path("messages")));
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

    private static float[] forward(Fixture fx, JsonNode c, VoRAForCausalLM m) {
        int[] ids = fx.ints(c.get("input_ids"));
        if (!c.hasNonNull("pixel_values")) return m.forwardText(ids);
        var pv = fx.tensor(c.get("pixel_values").asText());
        return m.forwardAll(m.prepare(ids, List.of(pv.toFloatArray()), pv.dim(2), null));
    }
}
