package dev.navil4j.models.qwen2;

import dev.navil4j.nn.KVCache;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.verify.Compare;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shared Qwen2 decoder against the vora-tiny reference logits, and its invariances. */
class Qwen2ModelTest {
    static final Path VORA = Path.of("fixtures/vora-tiny");
    static SafeTensors weights, expected;
    static Qwen2Model model;

    @BeforeAll
    static void load() {
        weights = SafeTensors.open(VORA.resolve("model"));
        expected = SafeTensors.open(VORA.resolve("expected.safetensors"));
        model = Qwen2Model.load(weights, "llm.", Qwen2Config.of(Json.Obj.of(VORA.resolve("model/config.json"))));
    }

    @AfterAll
    static void close() {
        weights.close();
        expected.close();
    }

    static int[] textIds() { return expected.get("forward_text.input_ids").toIntArray(); }

    static float[] run(int[] ids, boolean all) {
        int[] pos = new int[ids.length];
        for (int i = 0; i < pos.length; i++) pos[i] = i;
        return model.forward(model.embed(ids), ids.length, pos, model.newCache(64), null, all);
    }

    @Test
    void textLogitsMatchTheReference() {
        float[] logits = run(textIds(), true);
        float[] ref = expected.get("forward_text.logits").toFloatArray();
        double err = Compare.maxAbs(logits, ref);
        assertThat(err).as("max_abs_err vs forward_text.logits").isLessThanOrEqualTo(5e-4);
        // the last-token path returns exactly the last row of the full computation's logits
        float[] last = run(textIds(), false);
        int v = model.vocabSize();
        assertThat(Compare.maxAbs(last, Arrays.copyOfRange(logits, logits.length - v, logits.length))).isLessThan(1e-5);
    }

    @Test
    void prefillEqualsTokenByTokenDecode() {
        int[] ids = textIds();
        int n = ids.length, v = model.vocabSize();
        float[] all = run(ids, true);
        KVCache cache = model.newCache(n);
        // prefill half, then one token at a time through the cache
        int half = n / 2;
        int[] pos = new int[half];
        for (int i = 0; i < half; i++) pos[i] = i;
        float[] l = model.forward(model.embed(Arrays.copyOf(ids, half)), half, pos, cache, null, false);
        assertThat(Compare.maxAbs(l, Arrays.copyOfRange(all, (half - 1) * v, half * v))).isLessThan(1e-4);
        for (int t = half; t < n; t++) {
            l = model.forward(model.embed(new int[]{ids[t]}), 1, new int[]{t}, cache, null, false);
            assertThat(Compare.maxAbs(l, Arrays.copyOfRange(all, t * v, (t + 1) * v))).as("token " + t).isLessThan(1e-4);
        }
        assertThat(cache.length()).isEqualTo(n);
    }

    @Test
    void oneThreadEqualsTwoThreads() {
        int before = Parallel.threads();
        try {
            // Work is split by output rows and (token, head) pairs, so each value is computed by the same arithmetic
            // whatever the split. The only slack allowed is the Vector API's reduceLanes(ADD), whose lane order may
            // differ between interpreted and JIT-compiled code (its javadoc leaves the order unspecified).
            Parallel.setThreads(1);
            float[] one = run(textIds(), true);
            Parallel.setThreads(2);
            float[] two = run(textIds(), true);
            assertThat(Compare.maxAbs(one, two)).as("1 vs 2 threads").isLessThanOrEqualTo(1e-4);
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void blockIdsMakeABlockBidirectionalAndLeaveOtherTokensCausal() {
        int[] ids = textIds();
        int n = ids.length, v = model.vocabSize();
        int[] pos = new int[n], blocks = new int[n];
        for (int i = 0; i < n; i++) pos[i] = i;
        Arrays.fill(blocks, -1);
        for (int i = 5; i < 15; i++) blocks[i] = 0;
        float[] causal = run(ids, true);
        float[] bi = model.forward(model.embed(ids), n, pos, model.newCache(n), blocks, true);
        // tokens before the block are untouched; the block's first token now sees the whole block
        assertThat(Compare.maxAbs(Arrays.copyOf(bi, 5 * v), Arrays.copyOf(causal, 5 * v))).isLessThanOrEqualTo(1e-4);
        assertThat(Compare.maxAbs(Arrays.copyOfRange(bi, 5 * v, 6 * v), Arrays.copyOfRange(causal, 5 * v, 6 * v))).isGreaterThan(1e-3);
        // all -1 block ids are exactly the causal mask
        int[] none = new int[n];
        Arrays.fill(none, -1);
        float[] same = model.forward(model.embed(ids), n, pos, model.newCache(n), none, true);
        assertThat(Compare.maxAbs(same, causal)).isLessThanOrEqualTo(1e-4);
    }

    @Test
    void internVlBf16CheckpointLoadsUnderItsPrefixWithoutInflating() {
        Path dir = Path.of("fixtures/internvl3-tiny/model");
        Json.Obj cfg = Json.Obj.of(dir.resolve("config.json")).obj("llm_config");
        Qwen2Config c = Qwen2Config.of(cfg);
        assertThat(c.ropeScalingType()).isEqualTo("dynamic");
        assertThat(c.ropeScalingFactor()).isEqualTo(2.0);
        try (SafeTensors st = SafeTensors.open(dir)) {
            Qwen2Model m = Qwen2Model.load(st, "language_model.", c);
            assertThat(st.get("language_model.model.embed_tokens.weight").dtype()).isEqualTo(DType.BF16);
            float[] e = m.embed(new int[]{1, 2});
            float[] row = st.get("language_model.model.embed_tokens.weight").toFloatArray();
            assertThat(Arrays.copyOf(e, 64)).containsExactly(Arrays.copyOfRange(row, 64, 128));
            float[] logits = m.forward(e, 2, new int[]{0, 1}, m.newCache(8), null, false);
            assertThat(logits).hasSize(c.vocabSize());
            for (float f : logits) assertThat(Float.isFinite(f)).isTrue();
            assertThatThrownBy(() -> m.embed(new int[]{c.vocabSize()})).hasMessageContaining("outside the vocabulary");
        }
    }
}
