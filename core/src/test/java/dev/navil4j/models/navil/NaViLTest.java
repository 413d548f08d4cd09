package dev.navil4j.models.navil;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.generate.Sampler;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * NaViL against its fixtures beyond the verify runner: routing sensitivity (what wrong expert routing changes),
 * prefill = token-by-token decode, greedy generation from the reference's prompt ids and pixel values, and the
 * chat template / image block layout.
 */
class NaViLTest {
    private static final Map<String, Fixture> FIXTURES = new HashMap<>();
    /** generate case → the preprocess case holding the same images' pixel values. */
    private static final Map<String, String> PIXELS = Map.of("gen_image", "pre_photo", "gen_round1", "pre_photo_png",
            "gen_round2", "pre_photo_png", "gen_two_images", "pre_pair_wide_gray", "gen_two_images_explicit", "pre_pair_tiny_rgba");

    @BeforeAll
    static void open() {
        for (String f : List.of("navil-internlm2-tiny", "navil-qwen3-tiny")) FIXTURES.put(f, new Fixture(Path.of("fixtures", f)));
    }

    @AfterAll
    static void close() { FIXTURES.values().forEach(Fixture::close); }

    private static NaViL model(Fixture fx) {
        return fx.cached("navil-test", k -> NaViL.load(fx.resolve("model"), dev.navil4j.models.LoadOptions.defaults(), null));
    }

    private static JsonNode testCase(Fixture fx, String name) {
        return fx.cases().stream().filter(c -> c.path("name").asText().equals(name)).findFirst().orElseThrow();
    }

    @ParameterizedTest
    @ValueSource(strings = {"navil-internlm2-tiny", "navil-qwen3-tiny"})
    void wrongRoutingChangesLogitsBeyondAtol(String name) {
        Fixture fx = FIXTURES.get(name);
        NaViL m = model(fx);
        for (String cn : List.of("fwd_image", "fwd_two_images")) {
            JsonNode c = testCase(fx, cn);
            int[] ids = NaViLFamily.idsOf(fx, c.get("input_ids"));
            float[] features = m.extractFeature(fx.floats(c.get("pixel_values")), NaViLFamily.grids(fx, c.get("grid_thw")));
            float[] expected = fx.floats(c.path("expect").get("logits"));
            double atol = c.path("atol").asDouble();
            assertThat(Compare.maxAbs(m.forwardLogits(ids, features, null), expected)).isLessThanOrEqualTo(atol);

            boolean[] allText = new boolean[ids.length];
            assertThat(Compare.maxAbs(m.forwardLogits(ids, features, allText), expected)).as("visual tokens through the text expert").isGreaterThan(100 * atol);
            boolean[] noStart = m.visualMask(ids);
            int starts = 0;
            for (int t = 0; t < ids.length; t++) if (ids[t] == m.imgStartId) { noStart[t] = false; starts++; }
            assertThat(starts).isPositive();
            assertThat(Compare.maxAbs(m.forwardLogits(ids, features, noStart), expected)).as("<img> dropped from the visual mask").isGreaterThan(100 * atol);
        }
    }

    /** Prefill of the whole prompt = prefill of its first token + one decode step per later token (text prompt). */
    @ParameterizedTest
    @ValueSource(strings = {"navil-internlm2-tiny", "navil-qwen3-tiny"})
    void prefillEqualsTokenByTokenDecode(String name) {
        Fixture fx = FIXTURES.get(name);
        NaViL m = model(fx);
        int[] ids = NaViLFamily.idsOf(fx, testCase(fx, "fwd_text").get("input_ids"));
        for (int id : ids) for (int s : m.specialTokenIds) assertThat(id).isNotEqualTo(s); // decode embeds raw rows
        float[] all = m.forwardLogits(ids, null, null);
        int v = m.llm.vocab();
        var state = m.newState();
        float[] step = m.prefill(state, PreparedPrompt.text(new int[] {ids[0]}, ""));
        double err = Compare.maxAbs(step, Arrays.copyOfRange(all, 0, v));
        for (int t = 1; t < ids.length; t++) {
            step = m.decode(state, ids[t]);
            err = Math.max(err, Compare.maxAbs(step, Arrays.copyOfRange(all, t * v, (t + 1) * v)));
        }
        assertThat(state.length()).isEqualTo(ids.length);
        assertThat(err).isLessThan(1e-4);
        float[] prefillLast = m.prefill(m.newState(), PreparedPrompt.text(ids, ""));
        assertThat(Compare.maxAbs(prefillLast, Arrays.copyOfRange(all, (ids.length - 1) * v, ids.length * v))).isLessThan(1e-5);
    }

    /** Greedy chat from the reference's prompt ids and the case's image files: the generated ids of every generate case. */
    @ParameterizedTest
    @ValueSource(strings = {"navil-internlm2-tiny", "navil-qwen3-tiny"})
    void greedyGenerationFromReferenceInputs(String name) {
        Fixture fx = FIXTURES.get(name);
        NaViL m = model(fx);
        for (JsonNode c : fx.cases()) {
            if (!c.path("kind").asText().equals("generate")) continue;
            String cn = c.path("name").asText();
            int[] ids = NaViLFamily.idsOf(fx, c.path("expect").get("prompt_ids"));
            float[] features = null;
            if (c.path("images").size() > 0) {
                // the case's image files through the real preprocessing: same grids and pixels as the reference
                List<dev.navil4j.image.RgbImage> rgb = new ArrayList<>();
                c.path("images").forEach(p -> rgb.add(NaViLPreprocess.rgb(new dev.navil4j.chat.Conversation.Image(fx.resolve(p.asText()), null))));
                NaViL.Images images = NaViLPreprocess.load(rgb, m.cfg);
                var grids = images.allGrids();
                List<int[]> want = new ArrayList<>();
                c.path("grid_thw").forEach(g -> want.add(new int[] {g.get(0).asInt(), g.get(1).asInt(), g.get(2).asInt()}));
                assertThat(grids).hasSize(want.size());
                for (int i = 0; i < want.size(); i++) assertThat(new int[] {grids.get(i).t(), grids.get(i).h(), grids.get(i).w()}).isEqualTo(want.get(i));
                float[] refPixels = fx.floats(com.fasterxml.jackson.databind.node.TextNode.valueOf(PIXELS.get(cn) + ".pixel_values"));
                assertThat(Compare.maxAbs(images.pixels(), refPixels)).as(cn + " pixel values").isLessThanOrEqualTo(1e-6);
                features = m.extractFeature(images.pixels(), grids);
            }
            var state = m.newState();
            float[] logits = m.prefill(state, m.prompt(ids, features));
            int max = c.path("generation").path("max_new_tokens").asInt();
            List<Integer> out = new ArrayList<>();
            while (out.size() < max) {
                int next = Sampler.argmax(logits);
                out.add(next);
                if (m.defaultGeneration().stopIds().contains(next)) break;
                if (out.size() < max) logits = m.decode(state, next);
            }
            int[] got = out.stream().mapToInt(Integer::intValue).toArray();
            assertThat(Compare.ids(got, NaViLFamily.idsOf(fx, c.path("expect").get("generated_ids")))).as(name + "/" + cn).isNull();
        }
    }

    /** Template string = the reference's prompt before image expansion; image blocks = its image token layout. */
    @ParameterizedTest
    @ValueSource(strings = {"navil-internlm2-tiny", "navil-qwen3-tiny"})
    void templateAndImageBlocks(String name) {
        Fixture fx = FIXTURES.get(name);
        NaViL m = model(fx);
        for (JsonNode c : fx.cases()) {
            if (!c.path("kind").asText().equals("generate")) continue;
            List<NaViLTemplate.Exchange> ex = new ArrayList<>();
            String q = c.path("question").asText();
            JsonNode h = c.get("history");
            int nImages = c.path("images").size();
            if (h != null && h.isArray()) h.forEach(e -> ex.add(new NaViLTemplate.Exchange(e.get(0).asText(), e.get(1).asText())));
            else if (nImages > 0 && !q.contains("<image>")) q = "<image>\n".repeat(nImages) + q;
            ex.add(new NaViLTemplate.Exchange(q, null));
            String prompt = m.template.prompt(m.cfg.systemMessage(), ex);
            assertThat(prompt).as(c.path("name").asText()).isEqualTo(c.path("prompt_before_image_expansion").asText());

            // expanded blocks: the sequence of image tokens must be the one in the reference's prompt ids
            String expanded = prompt;
            if (nImages > 0) {
                List<NaViLVisionModelAnyRes.Grid> grids = new ArrayList<>();
                c.path("grid_thw").forEach(g -> grids.add(new NaViLVisionModelAnyRes.Grid(g.get(0).asInt(), g.get(1).asInt(), g.get(2).asInt())));
                int k = 0;
                for (JsonNode ns : c.path("num_scales")) {
                    expanded = expanded.replaceFirst("<image>", Matcher.quoteReplacement(m.imageTokens(grids.subList(k, k + ns.asInt()))));
                    k += ns.asInt();
                }
            }
            List<Integer> fromText = new ArrayList<>();
            Matcher mt = Pattern.compile("<img>|</img>|<IMG_CONTEXT>|<IMG_LINE_BREAK>|<IMG_FRAME_BREAK>").matcher(expanded);
            Map<String, Integer> idOf = Map.of("<img>", m.imgStartId, "<IMG_CONTEXT>", m.imgContextId,
                    "</img>", m.specialTokenIds[3], "<IMG_LINE_BREAK>", m.specialTokenIds[10], "<IMG_FRAME_BREAK>", m.specialTokenIds[11]);
            while (mt.find()) fromText.add(idOf.get(mt.group()));
            List<Integer> fromIds = new ArrayList<>();
            for (int id : NaViLFamily.idsOf(fx, c.path("expect").get("prompt_ids"))) if (idOf.containsValue(id)) fromIds.add(id);
            assertThat(fromText).as(c.path("name").asText()).isEqualTo(fromIds);
        }
    }

    @org.junit.jupiter.api.Test
    void mediaTokenLimitIsCheckedBeforeEncoding() {
        Fixture fx = FIXTURES.get("navil-qwen3-tiny");
        NaViL m = model(fx);
        var img = new dev.navil4j.chat.Conversation.Image(fx.resolve("../images/navil-photo_480x358.png"), null);
        var conv = new dev.navil4j.chat.Conversation(null,
                List.of(new dev.navil4j.chat.Conversation.Turn("Describe.", List.of(img), null)),
                new dev.navil4j.chat.Conversation.Limits(0, 10));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.prepare(conv))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit of 10");
    }

    @org.junit.jupiter.api.Test
    void badInputGivesClearErrors() {
        NaViL m = model(FIXTURES.get("navil-internlm2-tiny"));
        var g = List.of(new NaViLVisionModelAnyRes.Grid(1, 4, 4));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.vision.forward(new float[15 * 768], g))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("need 16");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.vision.forward(new float[12 * 768], List.of(new NaViLVisionModelAnyRes.Grid(1, 3, 4))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiples of the merge size");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.forwardLogits(new int[] {1, 99999}, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the vocabulary");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.forwardLogits(new int[] {1, m.imgContextId}, new float[3 * 64], null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("feature rows");
    }
}
