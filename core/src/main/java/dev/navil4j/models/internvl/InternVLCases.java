package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Generator;
import dev.navil4j.generate.Sequence;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.internvl.InternVLTemplate.Exchange;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fixture kinds generate and batch_generate: chat()/batch_chat() rebuilt from the case's images (load_image
 * with the case's params) or pixel values, question and history; prompt ids, generated ids and the response
 * must all be exact.
 */
final class InternVLCases {
    private InternVLCases() {}

    /** One chat() call. */
    static CaseResult generate(Fixture fx, JsonNode c) {
        InternVLChatModel m = InternVLFamily.loadForFixture(fx, c);
        PreparedPrompt p = chatPrompt(fx, c, m);
        JsonNode e = c.get("expect");
        return check(fx, m, p, c, e.get("prompt_ids"), e.get("generated_ids"), e.get("response"));
    }

    /** The prompt of a generate case's chat() call (images or pixel values, question, history). */
    static PreparedPrompt chatPrompt(Fixture fx, JsonNode c, InternVLChatModel m) {
        Pixels px = pixels(fx, c);
        List<Exchange> history = new ArrayList<>();
        for (JsonNode h : c.path("history")) history.add(new Exchange(h.get(0).asText(), h.get(1).asText()));
        int[] npl = c.hasNonNull("num_patches_list") ? fx.intsOrLiteral(c.get("num_patches_list")) : null;
        return m.prompts().chat(m.systemMessage(), c.get("question").asText(), history, px.values, px.tiles, npl, 0);
    }

    /**
     * batch_chat(): each row is checked as a single chat() with its own image's tiles (left padding and the
     * position ids taken from the attention mask make every row equal to its single run, which the fixture
     * generator checked); the recorded prompt ids lose their left padding for the comparison.
     */
    static CaseResult batchGenerate(Fixture fx, JsonNode c) {
        InternVLChatModel m = InternVLFamily.loadForFixture(fx, c);
        Pixels px = pixels(fx, c);
        int[] npl = fx.intsOrLiteral(c.get("num_patches_list"));
        JsonNode qs = c.get("questions"), e = c.get("expect");
        if (qs.size() != npl.length) return CaseResult.fail(Double.NaN, 0, qs.size() + " questions for " + npl.length + " images");
        int per = 3 * m.vision.tileSize() * m.vision.tileSize(), from = 0;
        for (int i = 0; i < npl.length; i++) {
            float[] rowPixels = Arrays.copyOfRange(px.values, from * per, (from + npl[i]) * per);
            from += npl[i];
            String q = qs.get(i).asText();
            // batch_chat prepends '<image>\n' whenever pixel_values are given and the question lacks it (no history)
            PreparedPrompt p = m.prompts().chat(m.systemMessage(), q, List.of(), rowPixels, npl[i], new int[] {npl[i]}, 0);
            CaseResult r = check(fx, m, p, c, e.get("prompt_ids").get(i), e.get("generated_ids").get(i), e.get("responses").get(i));
            if (r.status() != CaseResult.Status.PASS)
                return CaseResult.fail(r.maxAbsErr(), r.atol(), "row " + i + ": " + r.message());
        }
        return CaseResult.pass(0, c.path("atol").asDouble());
    }

    private static CaseResult check(Fixture fx, InternVLChatModel m, PreparedPrompt p, JsonNode c, JsonNode promptIds,
                                    JsonNode generatedIds, JsonNode response) {
        double atol = c.path("atol").asDouble();
        if (promptIds != null) {
            String d = Compare.ids(p.ids(), stripLeftPadding(m, fx.ints(promptIds)));
            if (d != null) return CaseResult.fail(Double.NaN, atol, "prompt " + d);
        }
        JsonNode g = c.get("generation");
        if (g.path("do_sample").asBoolean(false)) return CaseResult.skip("sampled generation cases are not reproducible here");
        GenerationConfig cfg = m.defaultGeneration().withMaxNewTokens(g.get("max_new_tokens").asInt());
        Sequence.Result r = Generator.generate(m, p, cfg);
        if (generatedIds != null) {
            String d = Compare.ids(r.ids(), fx.ints(generatedIds));
            if (d != null) return CaseResult.fail(Double.NaN, atol, "generated " + d);
        }
        if (response != null) {
            String d = Compare.text(r.text(), response.asText());
            if (d != null) return CaseResult.fail(Double.NaN, atol, "response " + d);
        }
        return CaseResult.pass(0, atol);
    }

    /** batch_chat pads on the left with the pad token ({@code <|endoftext|>}); a prompt never starts with it. */
    private static int[] stripLeftPadding(InternVLChatModel m, int[] ids) {
        int pad = m.tokenizer().tokenId("<|endoftext|>"), i = 0;
        while (pad >= 0 && i < ids.length && ids[i] == pad) i++;
        return Arrays.copyOfRange(ids, i, ids.length);
    }

    private record Pixels(float[] values, int tiles) {}

    /** The case's pixel values: a named tensor, or load_image(path, input_size, max_num) per image, concatenated. */
    private static Pixels pixels(Fixture fx, JsonNode c) {
        if (c.hasNonNull("pixel_values")) {
            String name = c.get("pixel_values").asText();
            return new Pixels(fx.floats(c.get("pixel_values")), (int) fx.tensor(name).shape()[0]);
        }
        JsonNode images = c.path("images");
        if (images.isEmpty()) return new Pixels(null, 0);
        JsonNode prm = c.path("params");
        int size = prm.path("input_size").asInt(448), max = prm.path("max_num").asInt(12);
        List<float[]> parts = new ArrayList<>();
        int tiles = 0, total = 0;
        for (JsonNode im : images) {
            InternVLImageProcessor.Tiles t = InternVLImageProcessor.preprocess(
                    dev.navil4j.image.ImageLoader.loadRgb(fx.resolve(im.asText())), prm.path("min_num").asInt(1), max, size,
                    prm.path("use_thumbnail").asBoolean(true));
            parts.add(t.pixelValues());
            tiles += t.numTiles();
            total += t.pixelValues().length;
        }
        float[] all = new float[total];
        int o = 0;
        for (float[] p : parts) { System.arraycopy(p, 0, all, o, p.length); o += p.length; }
        return new Pixels(all, tiles);
    }
}
