package dev.navil4j.models.vora;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Sampler;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.LoraLinear;
import dev.navil4j.nn.Projection;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** VoRA against the vora-tiny reference outputs: masks, LoRA paths, cached generation, template. */
class VoRAModelTest {
    static final Path DIR = Path.of("fixtures/vora-tiny");
    static Fixture fx;
    static VoRAForCausalLM merged, unmergedMerged, unmergedOnTheFly, causal;

    @BeforeAll
    static void load() {
        fx = new Fixture(DIR);
        merged = VoRAForCausalLM.load(DIR.resolve("model"), LoadOptions.defaults());
        unmergedMerged = VoRAForCausalLM.load(DIR.resolve("model_unmerged"), LoadOptions.defaults());
        unmergedOnTheFly = VoRAForCausalLM.load(DIR.resolve("model_unmerged"), LoadOptions.defaults().withMergeLora(false));
        causal = VoRAForCausalLM.load(DIR.resolve("model"), LoadOptions.defaults()
                .withConfigOverride(Json.MAPPER.createObjectNode().put("vision_attention_mask", "default")));
    }

    @AfterAll
    static void close() {
        for (VoRAForCausalLM m : List.of(merged, unmergedMerged, unmergedOnTheFly, causal)) m.close();
        fx.close();
    }

    static float[] imageLogits(VoRAForCausalLM m) {
        int[] ids = fx.ints(Json.MAPPER.getNodeFactory().textNode("forward_image.input_ids"));
        float[] pv = fx.tensor("forward_image.pixel_values").toFloatArray();
        return m.forwardAll(m.prepare(ids, List.of(pv), 112, null));
    }

    @Test
    void aCausalMaskOverTheImageBlockChangesTheLogitsBeyondAtol() {
        float[] bi = imageLogits(merged), ca = imageLogits(causal);
        assertThat(Compare.maxAbs(bi, fx.tensor("forward_image.logits").toFloatArray())).isLessThanOrEqualTo(1e-3);
        assertThat(Compare.maxAbs(ca, fx.tensor("forward_image_causal_mask.logits").toFloatArray())).isLessThanOrEqualTo(1e-3);
        // the mask is what matters: the two differ by far more than the tolerance (reference: 9.72)
        assertThat(Compare.maxAbs(bi, ca)).isGreaterThan(1.0);
        // and text before the image is unaffected by the block (positions 0..k are causal either way)
        int vocab = merged.vocabSize();
        int firstImage = 0;
        int[] ids = fx.ints(Json.MAPPER.getNodeFactory().textNode("forward_image.input_ids"));
        while (ids[firstImage] != VoRAConfig.IMAGE_TOKEN_INDEX) firstImage++;
        assertThat(Compare.maxAbs(Arrays.copyOf(bi, firstImage * vocab), Arrays.copyOf(ca, firstImage * vocab))).isLessThan(1e-4);
    }

    @Test
    void unmergedLoraOnTheFlyEqualsMergedAtLoadEqualsTheMergedCheckpoint() {
        float[] a = imageLogits(merged), b = imageLogits(unmergedMerged), c = imageLogits(unmergedOnTheFly);
        assertThat(Compare.maxAbs(b, a)).isLessThan(1e-4);
        assertThat(Compare.maxAbs(c, a)).isLessThan(1e-4);
        assertThat(Compare.maxAbs(c, fx.tensor("forward_image_unmerged.logits").toFloatArray())).isLessThanOrEqualTo(1e-3);
    }

    @Test
    void mergeAtLoadReproducesMergeLoraWeights() {
        // W + B @ A, no alpha/r scaling, bias kept: compare one merged module against model/ (made by tools/merge_lora.py)
        try (SafeTensors un = SafeTensors.open(DIR.resolve("model_unmerged")); SafeTensors m = SafeTensors.open(DIR.resolve("model"))) {
            for (String name : List.of("llm.model.layers.0.self_attn.q_proj", "llm.model.layers.1.mlp.down_proj")) {
                VoRAConfig cfg = VoRAConfig.load(DIR.resolve("model_unmerged"), null);
                TensorInfoShape s = TensorInfoShape.of(un, name);
                Projection p = VoRALora.loader(cfg, "llm.", false).load(un, name, s.in, s.out);
                assertThat(p).isInstanceOf(LoraLinear.class);
                Linear mergedHere = ((LoraLinear) p).merge();
                float[] want = m.get(name + ".weight").toFloatArray();
                assertThat(Compare.maxAbs(mergedHere.weight().toFloatArray(), want)).as(name).isLessThan(1e-6);
                assertThat(Compare.maxAbs(mergedHere.bias(), m.get(name + ".bias").toFloatArray())).isEqualTo(0.0);
            }
        }
    }

    record TensorInfoShape(int in, int out) {
        static TensorInfoShape of(SafeTensors st, String name) {
            var t = st.get(name + ".weight");
            return new TensorInfoShape(t.dim(1), t.dim(0));
        }
    }

    /** Greedy decoding through prefill + KV-cached decode from the processor outputs recorded in the fixture. */
    static int[] greedy(VoRAForCausalLM m, PreparedPrompt p, GenerationConfig g) {
        InferenceState st = m.newState();
        float[] logits = m.prefill(st, p);
        Sampler sampler = new Sampler(g);
        int[] seen = new int[g.maxNewTokens()];
        List<Integer> out = new ArrayList<>();
        while (out.size() < g.maxNewTokens()) {
            int next = sampler.next(logits, seen, out.size());
            seen[out.size()] = next;
            out.add(next);
            if (g.stopIds().contains(next)) break;
            logits = m.decode(st, next);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void cachedGenerationReproducesTheReferenceTokens() {
        int checked = 0;
        for (JsonNode c : fx.cases()) {
            if (!c.path("kind").asText().equals("generate")) continue;
            JsonNode exp = c.path("expect");
            boolean unmerged = c.path("model_dir").asText("model").equals("model_unmerged");
            for (VoRAForCausalLM m : unmerged ? List.of(unmergedMerged, unmergedOnTheFly) : List.of(merged)) {
                int[] ids = fx.ints(exp.get("prompt_ids"));
                String pvName = exp.has("pixel_values") ? exp.get("pixel_values").asText()
                        : c.path("images").isEmpty() ? null : "gen_image_autoplace.pixel_values";
                List<float[]> pv = pvName == null ? List.of() : List.of(fx.tensor(pvName).toFloatArray());
                PreparedPrompt p = m.prepare(ids, pv, 112, null);
                GenerationConfig g = VoRAFamily.generationFor(m.defaultGeneration(), c.path("generation"));
                int[] got = greedy(m, p, g);
                assertThat(Compare.ids(got, fx.ints(exp.get("generated_ids")))).as(c.path("name").asText()).isNull();
                checked++;
            }
        }
        assertThat(checked).isEqualTo(8);
    }

    @Test
    void prefillThenDecodeEqualsOneForwardOverTheWholeSequence() {
        int[] ids = fx.ints(Json.MAPPER.getNodeFactory().textNode("forward_image.input_ids"));
        float[] pv = fx.tensor("forward_image.pixel_values").toFloatArray();
        int[] more = {5, 77, 1234};
        // one pass: the prompt with three more text tokens appended (they attend causally to the whole block)
        int[] longer = Arrays.copyOf(ids, ids.length + more.length);
        System.arraycopy(more, 0, longer, ids.length, more.length);
        float[] all = merged.forwardAll(merged.prepare(longer, List.of(pv), 112, null));
        int v = merged.vocabSize(), n = all.length / v;
        InferenceState st = merged.newState();
        float[] l = merged.prefill(st, merged.prepare(ids, List.of(pv), 112, null));
        assertThat(Compare.maxAbs(l, Arrays.copyOfRange(all, (n - 4) * v, (n - 3) * v))).isLessThan(1e-4);
        for (int k = 0; k < more.length; k++) {
            l = merged.decode(st, more[k]);
            int row = n - 3 + k;
            assertThat(Compare.maxAbs(l, Arrays.copyOfRange(all, row * v, (row + 1) * v))).as("decode step " + k).isLessThan(1e-4);
        }
        assertThat(st.length()).isEqualTo(n);
    }

    @Test
    void processorPixelValuesMatchTheReferenceForEveryImageCase() {
        VoRAProcessor proc = VoRAProcessor.load(DIR.resolve("model"));
        int checked = 0;
        for (JsonNode c : fx.cases()) {
            JsonNode exp = c.path("expect");
            if (!c.path("kind").asText().equals("generate") || !exp.has("pixel_values")) continue;
            float[] got = proc.pixelValues(new dev.navil4j.chat.Conversation.Image(fx.resolve(c.path("images").get(0).asText()), null));
            assertThat(Compare.maxAbs(got, fx.tensor(exp.get("pixel_values").asText()).toFloatArray())).as(c.path("name").asText()).isLessThanOrEqualTo(1e-6);
            checked++;
        }
        assertThat(checked).isEqualTo(5);
        assertThat(proc.cropSize()).isEqualTo(112);
    }

    @Test
    void configAndCheckpointMismatchesAreClearErrors() {
        var noLora = Json.MAPPER.createObjectNode();
        noLora.putObject("lora").put("layers", 2).put("r", -1);
        assertThatThrownBy(() -> VoRAForCausalLM.load(DIR.resolve("model_unmerged"), LoadOptions.defaults().withConfigOverride(noLora)))
                .hasMessageContaining("has LoRA weights but config.json lora");
        var loraEverywhere = Json.MAPPER.createObjectNode();
        loraEverywhere.putObject("lora").put("layers", "all").put("r", 4);
        assertThatThrownBy(() -> VoRAForCausalLM.load(DIR.resolve("model_unmerged"), LoadOptions.defaults().withConfigOverride(loraEverywhere)))
                .hasMessageContaining("llm.model.layers.2.").hasMessageContaining("lacks lora_A/lora_B");
        assertThatThrownBy(() -> VoRAForCausalLM.load(DIR.resolve("model"), LoadOptions.defaults()
                .withConfigOverride(Json.MAPPER.createObjectNode().put("vision_embedding", "SigLIPEmbedding"))))
                .hasMessageContaining("vision_embedding \"SigLIPEmbedding\" is not supported");
        assertThatThrownBy(() -> VoRAForCausalLM.load(DIR.resolve("model"), LoadOptions.defaults()
                .withConfigOverride(Json.MAPPER.createObjectNode().put("vision_attention_mask", "full"))))
                .hasMessageContaining("vision_attention_mask \"full\"");
    }

    @Test
    void defaultGenerationFollowsGenerationConfigJson() {
        GenerationConfig g = merged.defaultGeneration();
        assertThat(g.stopIds()).containsExactlyInAnyOrder(2002, 2000);
        assertThat(g.repetitionPenalty()).isEqualTo(1.05f);
        assertThat(g.penalizePrompt()).as("the prompt enters as inputs_embeds").isFalse();
        assertThat(g.doSample()).isTrue();
        assertThat(g.topK()).isEqualTo(20);
        assertThat(merged.cleanResponse(" a b \n")).isEqualTo(" a b \n");
    }

    @Test
    void chatTemplateRendersEveryFixturePrompt() {
        int checked = 0;
        for (JsonNode c : fx.cases()) {
            if (!c.path("kind").asText().equals("generate") || !c.path("expect").has("prompt")) continue;
            String got = VoRAChatTemplate.render(VoRAFamily.conversation(fx, c.path("messages")));
            assertThat(Compare.text(got, c.path("expect").get("prompt").asText())).as(c.path("name").asText()).isNull();
            checked++;
        }
        assertThat(checked).isGreaterThanOrEqualTo(6);
    }

    @Test
    void splicingMarksImagePositionsAndBlocks() {
        int[] ids = fx.ints(Json.MAPPER.getNodeFactory().textNode("forward_image.input_ids"));
        float[] pv = fx.tensor("forward_image.pixel_values").toFloatArray();
        PreparedPrompt s = merged.prepare(ids, List.of(pv), 112, null);
        assertThat(s.length()).isEqualTo(100);
        int[] mask = VoRAForCausalLM.visionMask(s);
        assertThat(Compare.ids(mask, fx.ints(Json.MAPPER.getNodeFactory().textNode("forward_image.vision_mask")))).isNull();
        int images = 0;
        for (int i = 0; i < s.length(); i++) {
            assertThat(s.id(i) == VoRAConfig.IMAGE_TOKEN_INDEX).isEqualTo(mask[i] == 1);
            if (s.imageBlock(i) >= 0) { images++; assertThat(s.imageBlock(i)).isZero(); }
        }
        assertThat(images).isEqualTo(64);
        assertThat(s.mediaTokens()).isEqualTo(64);
        // the flag, not the prompt, decides whether image blocks attend bidirectionally
        assertThat(merged.flags().bidirectionalImageBlocks()).isTrue();
        assertThat(causal.flags().bidirectionalImageBlocks()).as("default mask = plain causal").isFalse();
        assertThatThrownBy(() -> merged.prepare(ids, List.of(), 112, null)).hasMessageContaining("1 image placeholder(s) but 0 image(s)");
    }
}
