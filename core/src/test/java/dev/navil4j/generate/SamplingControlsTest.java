package dev.navil4j.generate;

import dev.navil4j.RequestOptions;
import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.Step;
import dev.navil4j.models.VisionLanguageModel;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * OpenAI's presence/frequency penalties, min-p and log-probabilities: the processors against hand-computed logits,
 * the log-probabilities against an independent log-softmax of the logits a model step gives (fixture checkpoint).
 */
class SamplingControlsTest {
    private static GenerationConfig greedy() { return GenerationConfig.greedy(8, Set.of()); }

    @Test
    void presenceAndFrequencyPenaltiesSubtractPerOccurrence() {
        float[] logits = {1f, 2f, 3f, 4f, 5f};
        // id 1 generated twice, id 3 once, id 4 never: l -= count·frequency + (count > 0 ? presence : 0)
        Sampler.applyPresenceFrequency(logits, new int[]{1, 3, 1}, 3, 0.5f, 0.25f);
        assertThat(logits).containsExactly(1f, 2f - 2 * 0.25f - 0.5f, 3f, 4f - 0.25f - 0.5f, 5f);
        // negative penalties (allowed by OpenAI) raise the logits
        float[] up = {0f, 0f};
        Sampler.applyPresenceFrequency(up, new int[]{0}, 1, -1f, -0.5f);
        assertThat(up).containsExactly(1.5f, 0f);
    }

    @Test
    void penaltiesChangeTheGreedyChoiceAndCoverGeneratedTokensOnly() {
        float[] logits = {0f, 3f, 2.5f};
        int[] seen = {1, 1};           // prompt ids (repetition penalty's domain) — not covered by presence/frequency
        Sampler s = new Sampler(greedy().withPenalties(1f, 0f));
        assertThat(s.next(logits.clone(), seen, 2, new int[0], 0)).isEqualTo(1);
        // once id 1 was generated: 3 - 1 = 2 < 2.5
        assertThat(s.next(logits.clone(), seen, 2, new int[]{1}, 1)).isEqualTo(2);
        Sampler f = new Sampler(greedy().withPenalties(0f, 0.3f));
        assertThat(f.next(logits.clone(), seen, 0, new int[]{1}, 1)).isEqualTo(1);          // 2.7 > 2.5
        assertThat(f.next(logits.clone(), seen, 0, new int[]{1, 1}, 2)).isEqualTo(2);       // 2.4 < 2.5
    }

    @Test
    void minPDropsTokensBelowTheFractionOfTheTopProbability() {
        float[] scaled = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        float[] kept = scaled.clone();
        Sampler.applyMinP(scaled, 0.2f); // threshold 0.2 · 0.5 = 0.1: only 0.05 goes
        assertThat(scaled).containsExactly(kept[0], kept[1], kept[2], Float.NEGATIVE_INFINITY);
        // a min-p above the runner-up's ratio (0.3 / 0.5) leaves only the top token: every seed samples it
        float[] logits = {kept[1], kept[0], kept[2], kept[3]};
        for (long seed = 0; seed < 50; seed++) {
            Sampler s = new Sampler(greedy().withSampling(true, 1f, 1f, 0, seed).withMinP(0.61f));
            assertThat(s.next(logits.clone(), new int[0], 0)).isEqualTo(1);
        }
        // and without it the other tokens do get sampled
        Set<Integer> drawn = new java.util.HashSet<>();
        for (long seed = 0; seed < 50; seed++) drawn.add(new Sampler(greedy().withSampling(true, 1f, 1f, 0, seed)).next(logits.clone(), new int[0], 0));
        assertThat(drawn.size()).isGreaterThan(1);
    }

    @Test
    void logprobsEqualAnIndependentLogSoftmax() {
        SplittableRandom r = new SplittableRandom(7);
        float[] logits = new float[1000];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 4);
        logits[17] = logits[18]; // a tie: the lower id ranks first
        TokenLogprob lp = TokenLogprob.of(logits, 42, 20, null);
        double[] ref = logSoftmax(logits);
        assertThat(lp.logprob()).isCloseTo(ref[42], within(1e-9));
        List<Integer> order = IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparingInt(i -> i)).toList();
        assertThat(lp.top()).hasSize(20);
        for (int k = 0; k < 20; k++) {
            assertThat(lp.top().get(k).id()).isEqualTo(order.get(k));
            assertThat(lp.top().get(k).logprob()).isCloseTo(ref[order.get(k)], within(1e-9));
        }
        assertThat(TokenLogprob.of(logits, 3, 0, null).top()).isEmpty();
    }

    /** Plain double-precision log-softmax, written independently of TokenLogprob. */
    private static double[] logSoftmax(float[] x) {
        double sum = 0;
        for (float v : x) sum += Math.exp(v);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - Math.log(sum);
        return out;
    }

    /**
     * On the InternVL3 fixture checkpoint, sampling with a repetition penalty, penalties and temperature: the reported
     * log-probabilities are the raw model distribution of each step (recomputed here by stepping the model by hand
     * over the same ids), the reported top alternatives its most likely ids; the stop id is not reported.
     */
    @Test
    void sequenceReportsTheRawModelDistributionPerGeneratedToken() {
        try (VisionLanguageModel m = ModelRegistry.load(Path.of("fixtures", "internvl3-tiny", "model"), LoadOptions.defaults())) {
            PreparedPrompt p = m.prepare(new Conversation(null, List.of(new Conversation.Turn("Hello, who are you?", List.of(), null))));
            GenerationConfig cfg = RequestOptions.defaults().withMaxNewTokens(10).withTemperature(0.8f).withSeed(3)
                    .withRepetitionPenalty(1.3f).withPenalties(0.4f, 0.2f).withTopLogprobs(5).applyTo(m.defaultGeneration());
            Sequence seq = new Sequence(m, p, cfg, m.newState(), null);
            while (!seq.finished()) seq.accept(m.step(List.of(seq.nextStep(512)))[0]);
            Sequence.Result res = seq.result();
            int[] ids = res.ids();
            boolean stoppedOnId = ids.length > 0 && cfg.stopIds().contains(ids[ids.length - 1]);
            assertThat(res.logprobs()).hasSize(stoppedOnId ? ids.length - 1 : ids.length);

            InferenceState st = m.newState();
            float[] logits = m.step(List.of(new Step.Prompt(st, p, 0, p.length())))[0];
            for (int t = 0; t < res.logprobs().size(); t++) {
                double[] ref = logSoftmax(logits);
                TokenLogprob lp = res.logprobs().get(t);
                assertThat(lp.id()).isEqualTo(ids[t]);
                assertThat(lp.logprob()).as("token %d", t).isCloseTo(ref[ids[t]], within(1e-4));
                assertThat(lp.token()).isEqualTo(m.tokenizer().decode(new int[]{ids[t]}, false));
                final float[] l = logits;
                List<Integer> order = IntStream.range(0, l.length).boxed()
                        .sorted(Comparator.<Integer>comparingDouble(i -> -l[i]).thenComparingInt(i -> i)).limit(5).toList();
                List<Integer> got = new ArrayList<>();
                for (TokenLogprob.Alternative a : lp.top()) got.add(a.id());
                assertThat(got).containsExactlyElementsOf(order);
                logits = m.step(List.of(new Step.Decode(st, ids[t])))[0];
            }
        }
    }

    /**
     * n > 1: a sibling started from the leader's prefilled KV (all prompt positions but the last copied) generates
     * exactly what a sequence prefilled from scratch with the same config generates (seed + 1 here), on each
     * family's fixture checkpoint (InternVL3 with an image prompt, NaViL's bidirectional image blocks).
     */
    @Test
    void siblingsSharingThePrefillEqualIndependentRuns() {
        for (String fx : List.of("internvl3-tiny", "navil-qwen3-tiny")) {
            try (VisionLanguageModel m = ModelRegistry.load(Path.of("fixtures", fx, "model"), LoadOptions.defaults())) {
                String img = fx.startsWith("navil") ? "navil-photo_480x358.png" : "red_panda_500x373.png";
                PreparedPrompt p = m.prepare(new Conversation(null, List.of(new Conversation.Turn("Describe the image.",
                        List.of(new Conversation.Image(Path.of("fixtures/images", img), null)), null))));
                GenerationConfig base = RequestOptions.defaults().withMaxNewTokens(8).withTemperature(0.9f).withSeed(11)
                        .applyTo(m.defaultGeneration());
                Sequence leader = new Sequence(m, p, base, m.newState(), null);
                while (leader.promptRemaining() > 0) leader.accept(m.step(List.of(leader.nextStep(512)))[0]);
                GenerationConfig c1 = base.withSampling(true, base.temperature(), base.topP(), base.topK(), base.seed() + 1);
                Sequence sib = leader.sibling(c1, null);
                assertThat(sib.promptRemaining()).isLessThanOrEqualTo(p.length());
                assertThat(sib.state().length()).isGreaterThan(0);
                while (!sib.finished()) sib.accept(m.step(List.of(sib.nextStep(512)))[0]);
                while (!leader.finished()) leader.accept(m.step(List.of(leader.nextStep(512)))[0]);
                int[] alone1 = Generator.generate(m, p, c1).ids();
                int[] alone0 = Generator.generate(m, p, base).ids();
                assertThat(sib.result().ids()).as(fx).containsExactly(alone1);
                assertThat(leader.result().ids()).as(fx).containsExactly(alone0);
                assertThat(sib.result().reusedTokens()).as(fx).isGreaterThan(0);
            }
        }
    }

    @Test
    void badValuesAreClearErrors() {
        assertThatThrownBy(() -> RequestOptions.defaults().withTopLogprobs(21)).hasMessageContaining("top logprobs");
        assertThatThrownBy(() -> RequestOptions.defaults().withMinP(1.5f)).hasMessageContaining("min-p");
        assertThatThrownBy(() -> RequestOptions.defaults().withPenalties(3f, 0f)).hasMessageContaining("presence");
        assertThatThrownBy(() -> greedy().withMinP(-0.1f)).hasMessageContaining("min-p");
    }
}
