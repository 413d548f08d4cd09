package dev.navil4j.bench;

import dev.navil4j.models.navil.NaViLImageProcessor;
import dev.navil4j.models.navil.NaViLVisionModelAnyRes;
import dev.navil4j.tensor.DType;
import dev.navil4j.weights.Json;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The NaViL benchmark runs the real NaViL classes on tiny synthesized shapes and reports consistent figures. */
class NaViLBenchTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    private static Map<String, Bench.Measurement> byMetric(List<Bench.Measurement> ms, String shape, String format) {
        Map<String, Bench.Measurement> m = new java.util.HashMap<>();
        for (Bench.Measurement x : ms) if (x.shape().equals(shape) && x.format().equals(format)) m.put(x.metric(), x);
        return m;
    }

    @Test
    void internlm2ShapeReportsEveryImageFigure() {
        NaViLBench.Shape s = NaViLBench.tiny(false, new int[]{3});
        List<Bench.Measurement> got = new ArrayList<>();
        NaViLBench.run(s, new Bench.Options(null, List.of("bf16", "q8"), List.of(1), 0, 3, 1, true, true), got::add, QUIET);
        for (String f : List.of("bf16", "q8")) {
            Map<String, Bench.Measurement> m = byMetric(got, s.name(), f);
            for (int[] wh : NaViLBench.IMAGES) {
                String p = "img" + wh[0] + "x" + wh[1] + "_";
                int patches = (int) m.get(p + "patches").value(), tokens = (int) m.get(p + "visual_tokens").value();
                // one <IMG_CONTEXT> (one projected feature row) per 2x2 merge unit of every scale
                assertEquals(patches / 4, tokens, p);
                assertTrue(m.get(p + "scales").value() >= 1, p);
                // the prompt: text + <img> + contexts + a line break per row and a frame break per scale + </img>
                String prefill = m.keySet().stream().filter(k -> k.startsWith(p + "prefill_p")).findFirst().orElseThrow();
                int promptTokens = Integer.parseInt(prefill.substring((p + "prefill_p").length()));
                assertTrue(promptTokens > tokens + NaViLBench.TEXT_BEFORE + NaViLBench.TEXT_AFTER + 2, prefill);
                for (String k : List.of(p + "encode", prefill, p + "decode_tg3")) {
                    double v = m.get(k).value();
                    assertTrue(v > 0 && Double.isFinite(v), k + " = " + v);
                }
                assertTrue(m.get(p + "decode_tg3").bound() > 0, "decode has a bandwidth bound");
            }
            assertTrue(m.get("peak_rss").value() > 0);
        }
    }

    @Test
    void qwen3ShapeExtrapolatesFromTwoDepths() {
        NaViLBench.Shape s = NaViLBench.tiny(true, new int[]{1, 2});
        List<Bench.Measurement> got = new ArrayList<>();
        NaViLBench.run(s, new Bench.Options(null, List.of("bf16"), List.of(1), 0, 2, 1, true, true), got::add, QUIET);
        assertFalse(byMetric(got, s.name() + "[1/3L]", "bf16").isEmpty());
        assertFalse(byMetric(got, s.name() + "[2/3L]", "bf16").isEmpty());
        Map<String, Bench.Measurement> ex = byMetric(got, s.name() + "[3L-extrapolated]", "bf16");
        assertTrue(ex.keySet().stream().anyMatch(k -> k.startsWith("img448x448_prefill_p")), ex.keySet().toString());
        assertTrue(ex.containsKey("img1024x768_decode_tg2"));
        // bytes per decoded token grow by one layer's text expert per layer: 3 layers read more than 2
        double b1 = byMetric(got, s.name() + "[1/3L]", "bf16").get("img448x448_decode_tg2").bound();
        double b2 = byMetric(got, s.name() + "[2/3L]", "bf16").get("img448x448_decode_tg2").bound();
        assertTrue(Double.isFinite(b1) && Double.isFinite(b2) && b1 > 0 && b2 > 0);
        // decode bytes are linear in the depth: the extrapolation to 3 layers adds what layer 2 added to layer 1
        double bytes3 = ex.get("llm_bytes_per_decoded_token").value();
        // tiny Qwen3 (hidden 64, 4 heads / 2 kv of 32, MLP 128, vocab 320), bf16: per layer the text expert's
        // q 64x128, k/v 64x64, o 128x64, gate/up 64x128, down 128x64; plus lm_head 320x64 (no _ve, no embedding)
        long perLayer = 2L * (64 * 128 + 2 * 64 * 64 + 128 * 64 + 3 * 64 * 128), head = 2L * 320 * 64;
        assertEquals((3 * perLayer + head) / 1048576.0, bytes3, 1e-9);
    }

    /**
     * q4 builds what {@code --weights q4} makes of a float checkpoint: Q4_0 text/visual expert linears (20 bytes per 32
     * weights) and a Q8_0 lm_head (36 bytes per 32), loaded through the family's policy. Tiny InternLM2 per layer's
     * text expert: wqkv 128x64, wo 64x64, w1/w3 128x64, w2 64x128; lm_head 320x64.
     */
    @Test
    void q4BuildKeepsAnEightBitHead() {
        NaViLBench.Shape s = NaViLBench.tiny(false, new int[]{3});
        long perLayer = 128 * 64 + 64 * 64 + 3 * 128 * 64, head = 320 * 64;
        try (NaViLBench.Built b = NaViLBench.build(s.config(), 3, DType.Q4, QUIET)) {
            assertEquals(3 * perLayer / 32 * 20 + head / 32 * 36, b.decodeBytes);
        }
        try (NaViLBench.Built b = NaViLBench.build(s.config(), 3, DType.Q8, QUIET)) {
            assertEquals((3 * perLayer + head) / 32 * 36, b.decodeBytes);
        }
    }

    @Test
    void promptIdsFollowTheReferenceLayout() {
        Map<String, Integer> sp = new java.util.HashMap<>();
        for (int i = 0; i < NaViLBench.SPECIAL_TOKENS.size(); i++) sp.put(NaViLBench.SPECIAL_TOKENS.get(i), 2000 + i);
        // two scales of 4x6 and 2x4 patches (merge 2): rows of 3 and 2 contexts
        int[] ids = NaViLBench.promptIds(sp, List.of(new NaViLVisionModelAnyRes.Grid(1, 2, 4), new NaViLVisionModelAnyRes.Grid(1, 4, 6)), 2, 3000);
        int ctx = sp.get("<IMG_CONTEXT>"), lb = sp.get("<IMG_LINE_BREAK>"), fb = sp.get("<IMG_FRAME_BREAK>");
        int start = NaViLBench.TEXT_BEFORE;
        assertEquals(sp.get("<img>"), ids[start]);
        int[] expected = {ctx, ctx, lb, fb, ctx, ctx, ctx, lb, ctx, ctx, ctx, lb, fb, sp.get("</img>")};
        assertArrayEquals(expected, java.util.Arrays.copyOfRange(ids, start + 1, start + 1 + expected.length));
        assertEquals(NaViLBench.TEXT_BEFORE + 1 + expected.length + NaViLBench.TEXT_AFTER, ids.length);
    }

    @Test
    void realShapesUseTheirPyramid() {
        // the grids the real preprocessing gives the two benchmark images at the real pyramid values
        NaViLImageProcessor.Params p = NaViLImageProcessor.Params.of(256, 24576, 16, 0.7071);
        var r448 = NaViLImageProcessor.preprocess(List.of(NaViLBench.syntheticImage(448, 448)), p);
        assertArrayEquals(new int[]{1, 28, 28}, r448.gridThw()[r448.gridThw().length - 1], "448x448 is kept at its size");
        var r1024 = NaViLImageProcessor.preprocess(List.of(NaViLBench.syntheticImage(1024, 768)), p);
        assertArrayEquals(new int[]{1, 48, 64}, r1024.gridThw()[r1024.gridThw().length - 1], "1024x768 top scale");
        assertTrue(r1024.gridThw().length > r448.gridThw().length);
        assertEquals(DType.BF16, Bench.format("bf16"));
        assertNotNull(NaViLBench.forName("navil-9b"));
        assertNotNull(NaViLBench.forName("NaViL-2B"));
        assertNull(NaViLBench.forName("qwen2.5-0.5b"));
        assertNotNull(Json.MAPPER);
    }
}
