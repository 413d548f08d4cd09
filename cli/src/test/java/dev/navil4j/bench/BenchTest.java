package dev.navil4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.tensor.DType;
import dev.navil4j.weights.Json;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The benchmark's decoder is a working transformer (prefill = step-by-step decode) and the runner reports every figure. */
class BenchTest {
    /** The benchmark runs the shipped InternVLChatModel: prefill = token-by-token decode on its synthesized weights. */
    @Test
    void prefillEqualsTokenByTokenDecode() {
        for (DType f : new DType[]{DType.F32, DType.BF16, DType.Q8}) {
            try (SyntheticInternVL m = new SyntheticInternVL(BenchShape.tiny(false), f, 3)) {
                int[] toks = Bench.ids(40, 160, 5); // ≥ 32: the prefill takes the blocked attention path, decode the row path
                float[] prefill = m.model.prefill(m.model.newState(), PreparedPrompt.text(toks, null));
                var st = m.model.newState();
                float[] step = null;
                for (int t : toks) step = m.model.decode(st, t);
                // Q8 decode (one token) multiplies with activations rounded to int8 per 32-block (≤ 0.4 % of the block's
                // max each, as llama.cpp's Q8_0 matmuls); prefill (GEMM) keeps them f32. That rounding moves these
                // logits by up to ~0.5 % here; a wrong cache or attention path moves them by O(1).
                double rel = f == DType.Q8 ? 2e-2 : 1e-4;
                double worst = 0;
                for (int i = 0; i < prefill.length; i++) {
                    assertEquals(prefill[i], step[i], rel * (1 + Math.abs(prefill[i])), f + " logit " + i);
                    worst = Math.max(worst, Math.abs(prefill[i] - step[i]) / (1 + Math.abs(prefill[i])));
                }
                System.out.printf("bench model %s: prefill vs token-by-token decode, max |dlogit|/(1+|logit|) %.2e%n", f, worst);
                assertTrue(Float.isFinite(prefill[0]));
            }
        }
    }

    /** --concurrency and the engine figures are reported, with the concurrency in the JSON. */
    @Test
    void reportsConcurrencyAndEngineFigures() throws Exception {
        List<Bench.Measurement> got = new ArrayList<>();
        var o = new Bench.Options(BenchShape.tiny(true), List.of("bf16"), List.of(1), 8, 4, 1, false, true, List.of(1, 4), true);
        Bench.run(o, got::add, new PrintStream(OutputStream.nullOutputStream()));
        for (int n : new int[] {1, 4}) {
            Bench.Measurement m = got.stream().filter(x -> x.metric().equals("decode_aggregate") && x.concurrency() == n).findFirst().orElseThrow();
            assertTrue(m.value() > 0);
            assertEquals(n, Json.MAPPER.readTree(m.json()).get("concurrency").asInt());
        }
        for (String metric : new String[]{"ttft_turn1_s", "ttft_turn2_s", "ttft_turn2_over_turn1", "itl_p99_ms_alone", "itl_p99_ms_admit_chunk" + dev.navil4j.server.Scheduler.DEFAULT_PREFILL_CHUNK})
            assertTrue(got.stream().anyMatch(x -> x.metric().equals(metric) && x.value() > 0 && Double.isFinite(x.value())), metric);
    }

    @Test
    void reportsEveryMeasurement() throws Exception {
        List<Bench.Measurement> got = new ArrayList<>();
        var o = new Bench.Options(BenchShape.tiny(true), List.of("f32", "bf16", "q8", "q4"), List.of(1, 2), 8, 4, 1, true, true);
        Bench.run(o, got::add, new PrintStream(OutputStream.nullOutputStream()));
        for (String f : o.formats())
            for (int t : o.threads())
                for (String metric : new String[]{"read_bandwidth", "pp8", "tg4", "vision_tile_s", "vision_first_tile_s", "peak_rss"}) {
                    Bench.Measurement m = got.stream().filter(x -> x.format().equals(f) && x.threads() == t && x.metric().equals(metric))
                            .findFirst().orElseThrow(() -> new AssertionError("missing " + f + "/" + t + "/" + metric));
                    assertTrue(m.value() > 0 && Double.isFinite(m.value()), m.toString());
                    JsonNode j = Json.MAPPER.readTree(m.json());
                    assertEquals("tiny", j.get("shape").asText());
                    assertEquals(metric, j.get("metric").asText());
                    assertEquals(metric.startsWith("tg"), !j.get("bandwidth_bound").isNull(), m.json());
                }
        assertThrows(IllegalArgumentException.class, () -> Bench.format("q5"));
        assertThrows(IllegalArgumentException.class, () -> BenchShape.named("llama-70b"));
    }

    /**
     * The FLOP counts behind the GFLOP/s figures, against the published parameter counts: Qwen2.5-0.5B has 0.36B
     * non-embedding parameters (its model card) and a 151936 × 896 head; InternViT-300M has 0.30B parameters
     * over 1025 tokens per tile plus 24 layers of attention products (4 · T² · width).
     */
    @Test
    void flopCountsMatchTheModelsParameterCounts() {
        double llm = BenchShape.QWEN25_05B.prefillFlops(1);
        assertEquals(2 * (0.358e9 + 151936.0 * 896), llm, 0.02 * llm);
        double perToken512 = BenchShape.QWEN25_05B.prefillFlops(512) / 512;
        assertTrue(perToken512 > 2 * 0.358e9 && perToken512 < 2 * 0.38e9, "pp512 per token " + perToken512);
        double tile = BenchShape.INTERNVL3_1B.vision().tileFlops(896);
        double want = 2 * 0.30e9 * 1025 + 24 * 4.0 * 1025 * 1025 * 1024;
        assertEquals(want, tile, 0.05 * want);
    }
}
