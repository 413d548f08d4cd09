package dev.navil4j.models.qwen2;

import dev.navil4j.models.LoadOptions;
import dev.navil4j.nn.Attention;
import dev.navil4j.nn.KVCache;
import dev.navil4j.nn.Linear;
import dev.navil4j.tensor.Convert;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.QuantPolicy;
import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.verify.Compare;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code --weights} policy and the bf16 KV cache on the Qwen2 decoder (vora-tiny's f32 LLM). */
class Qwen2QuantTest {
    static final Path VORA = Path.of("fixtures/vora-tiny");
    static SafeTensors weights, expected;
    static Qwen2Config config;

    @BeforeAll
    static void load() {
        weights = SafeTensors.open(VORA.resolve("model"));
        expected = SafeTensors.open(VORA.resolve("expected.safetensors"));
        config = Qwen2Config.of(Json.Obj.of(VORA.resolve("model/config.json")));
    }

    @AfterAll
    static void close() {
        weights.close();
        expected.close();
    }

    static int[] ids() { return expected.get("forward_text.input_ids").toIntArray(); }

    static int[] range(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }

    /** The quantized block-by-block values, widened back to an f32 matrix. */
    static WeightTensor roundTrip(WeightTensor w, String weights) {
        return QuantPolicy.convert(QuantPolicy.apply(w, weights), DType.F32);
    }

    @Test
    void quantizedModelComputesExactlyWithTheRoundedWeights() {
        int[] ids = ids();
        int n = ids.length;
        for (String w : new String[] {"q8", "q4"}) {
            Qwen2Model q = Qwen2Model.load(weights, "llm.", config, Qwen2Model.PLAIN, LoadOptions.defaults().withWeights(w));
            // the reference: every decoder linear weight quantized and widened back to f32, f32 kernels, stored lm_head
            Qwen2Model r = Qwen2Model.load(weights, "llm.", config, (st, name, in, out) -> {
                Linear l = Linear.loadOptionalBias(st, name, in, out);
                return new Linear(roundTrip(l.weight(), w), l.bias());
            });
            float[] hq = q.hidden(q.embed(ids), n, range(n), q.newCache(64), null);
            float[] hr = r.hidden(r.embed(ids), n, range(n), r.newCache(64), null);
            assertThat(Compare.maxAbs(hq, hr)).as(w + " hidden states vs f32 math on the rounded weights").isLessThan(1e-4);
            // lm_head: q8 under both q8 and q4 (never below 8 bits)
            assertThat(q.lmHead().dtype()).isEqualTo(DType.Q8);
            float[] want = new float[n * config.vocabSize()];
            roundTrip(r.lmHead(), "q8").matmul(hr, n, want, null);
            float[] got = q.forward(q.embed(ids), n, range(n), q.newCache(64), null, true);
            assertThat(Compare.maxAbs(got, want)).as(w + " logits").isLessThan(1e-3);
            // and the rounding is real: the logits moved away from full precision
            assertThat(Compare.maxAbs(got, expected.get("forward_text.logits").toFloatArray())).isGreaterThan(1e-3);
        }
    }

    @Test
    void storedPrecisionIsTheDefaultAndF32IsAConversion() {
        Qwen2Model auto = Qwen2Model.load(weights, "llm.", config);
        Qwen2Model bf16 = Qwen2Model.load(weights, "llm.", config, Qwen2Model.PLAIN, LoadOptions.defaults().withWeights("bf16"));
        assertThat(auto.lmHead().dtype()).isEqualTo(DType.F32);
        assertThat(bf16.lmHead().dtype()).isEqualTo(DType.BF16);
        assertThat(bf16.linearWeightBytes() * 2).isEqualTo(auto.linearWeightBytes());
    }

    /** Attention over a bf16 cache = f32 attention over the same keys/values rounded to bf16. */
    @Test
    void bf16CacheAttentionEqualsF32AttentionOnRoundedValues() {
        int heads = 4, kvHeads = 2, hd = 20, kvDim = kvHeads * hd, past = 7, n = 5;
        Random rnd = new Random(3);
        KVCache f = new KVCache(1, kvDim, 64, 4), b = new KVCache(1, kvDim, 64, 4, true);
        float[] q = new float[n * heads * hd];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
        for (int chunk : new int[] {past, n}) {
            float[] k = new float[chunk * kvDim], v = new float[chunk * kvDim], kr = new float[k.length], vr = new float[v.length];
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) rnd.nextGaussian();
                v[i] = (float) rnd.nextGaussian();
                kr[i] = Convert.bf16ToFloat(Convert.floatToBf16(k[i]));
                vr[i] = Convert.bf16ToFloat(Convert.floatToBf16(v[i]));
            }
            for (KVCache c : new KVCache[] {f, b}) c.reserve(chunk);
            f.put(0, kr, vr, chunk);
            b.put(0, k, v, chunk);
            f.commit(chunk);
            b.commit(chunk);
        }
        assertThat(b.bytes() * 2).isEqualTo(f.bytes());
        int[] block = new int[past + n];
        Arrays.fill(block, -1);
        block[past + 1] = block[past + 2] = 0; // a bidirectional pair (VoRA image block)
        for (int[] blk : new int[][] {null, block}) {
            float[] of = new float[n * heads * hd], ob = new float[of.length];
            Attention.causal(q, n, past, f, 0, heads, kvHeads, hd, 0.2f, blk, of);
            Attention.causal(q, n, past, b, 0, heads, kvHeads, hd, 0.2f, blk, ob);
            assertThat(Compare.maxAbs(ob, of)).isLessThan(1e-5);
        }
    }

    /**
     * Prefill + token-by-token decode with a bf16 cache stays within 0.2 of the f32-cache logits (max |logit| ≈ 11;
     * bf16 rounds K/V by up to 2^-9 relative, which this random-weight model turns into ≈ 0.12, about 1 % of the range).
     */
    @Test
    void bf16CacheDecodeMatchesF32Cache() {
        Qwen2Model f32 = Qwen2Model.load(weights, "llm.", config);
        Qwen2Model bf = Qwen2Model.load(weights, "llm.", config, Qwen2Model.PLAIN, LoadOptions.defaults().withKvCacheBf16(true));
        int[] ids = ids();
        int split = ids.length / 2;
        double worst = 0;
        KVCache cf = f32.newCache(64), cb = bf.newCache(64);
        assertThat(cb.bf16).isTrue();
        float[] lf = f32.forward(f32.embed(Arrays.copyOf(ids, split)), split, range(split), cf, null, false);
        float[] lb = bf.forward(bf.embed(Arrays.copyOf(ids, split)), split, range(split), cb, null, false);
        worst = Math.max(worst, Compare.maxAbs(lb, lf));
        for (int t = split; t < ids.length; t++) {
            lf = f32.forward(f32.embed(new int[] {ids[t]}), 1, new int[] {t}, cf, null, false);
            lb = bf.forward(bf.embed(new int[] {ids[t]}), 1, new int[] {t}, cb, null, false);
            worst = Math.max(worst, Compare.maxAbs(lb, lf));
        }
        System.out.println("bf16 KV cache: max |logit - f32-cache logit| over prefill + " + (ids.length - split) + " decode steps = " + worst);
        assertThat(worst).isGreaterThan(0).isLessThan(0.2);
    }
}
