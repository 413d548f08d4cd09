package dev.navil4j.verify;

import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Sampler;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a quantized model's greedy choices compare with the full-precision model's, step by step along the
 * full-precision trajectory (teacher forcing: both models see the same tokens, so one flip does not hide the
 * later steps). Logits are compared after the repetition penalty the generation applies.
 */
public final class QuantAgreement {
    private QuantAgreement() {}

    /**
     * @param steps     greedy steps compared
     * @param agreed    steps where both models pick the same token
     * @param maxErr    max |logit_q − logit_full| over all steps (raw logits)
     * @param minMargin the smallest full-precision top-1 − top-2 gap over all steps
     * @param flipMargins full-precision top-1 − top-2 gap at each disagreeing step
     * @param firstFlip index of the first disagreeing step, -1 if none (free-running greedy outputs match up to it)
     */
    public record Result(int steps, int agreed, double maxErr, double minMargin, double[] flipMargins, int firstFlip) {
        public String summary() {
            return String.format(Locale.ROOT, "greedy %d/%d agree, first flip %s, max|dlogit| %.4f, min fp margin %.4f, flip margins %s",
                    agreed, steps, firstFlip < 0 ? "none" : "at " + firstFlip, maxErr, minMargin,
                    Arrays.toString(Arrays.stream(flipMargins).map(m -> Math.round(m * 1e4) / 1e4).toArray()));
        }
    }

    /** Runs {@code prompt} (prepared by either model: media encoding is not quantized) through both models. */
    public static Result teacherForced(VisionLanguageModel full, VisionLanguageModel quant, PreparedPrompt prompt, GenerationConfig g) {
        InferenceState fs = full.newState(), qs = quant.newState();
        float[] lf = full.prefill(fs, prompt), lq = quant.prefill(qs, prompt);
        int[] seen = new int[g.maxNewTokens() + prompt.ids().length + 1];
        int seenCount = 0;
        if (g.penalizePrompt()) for (int id : prompt.ids()) if (id >= 0) seen[seenCount++] = id;
        int steps = 0, agreed = 0, firstFlip = -1;
        double maxErr = 0, minMargin = Double.POSITIVE_INFINITY;
        double[] flips = new double[0];
        for (int n = 0; n < g.maxNewTokens(); n++) {
            maxErr = Math.max(maxErr, Compare.maxAbs(lq, lf));
            float[] pf = lf.clone(), pq = lq.clone();
            Sampler.applyRepetitionPenalty(pf, seen, seenCount, g.repetitionPenalty());
            Sampler.applyRepetitionPenalty(pq, seen, seenCount, g.repetitionPenalty());
            int tf = Sampler.argmax(pf), tq = Sampler.argmax(pq);
            double margin = margin(pf, tf);
            minMargin = Math.min(minMargin, margin);
            steps++;
            if (tf == tq) agreed++;
            else {
                if (firstFlip < 0) firstFlip = n;
                flips = Arrays.copyOf(flips, flips.length + 1);
                flips[flips.length - 1] = margin;
            }
            seen[seenCount++] = tf;
            if (g.stopIds().contains(tf) || n + 1 == g.maxNewTokens()) break;
            lf = full.decode(fs, tf);
            lq = quant.decode(qs, tf);
        }
        return new Result(steps, agreed, maxErr, minMargin, flips, firstFlip);
    }

    /** Teacher-forced logits [n, vocab] of both models: max error, argmax agreement per position, full-precision margins. */
    public record Forward(double maxErr, double maxAbsLogit, int positions, int agreed, double minMargin, double maxFlipMargin) {
        public String summary() {
            return String.format(Locale.ROOT, "max|dlogit| %.4f (max|logit| %.2f), argmax %d/%d agree, min fp margin %.4f, largest flip margin %s",
                    maxErr, maxAbsLogit, agreed, positions, minMargin, agreed == positions ? "-" : String.format(Locale.ROOT, "%.4f", maxFlipMargin));
        }
    }

    public static Forward compareLogits(float[] full, float[] quant, int vocab) {
        if (full.length != quant.length || full.length % vocab != 0) throw new IllegalArgumentException("logit shapes differ");
        int n = full.length / vocab, agreed = 0;
        double maxAbs = 0, minMargin = Double.POSITIVE_INFINITY, maxFlip = 0;
        for (float f : full) maxAbs = Math.max(maxAbs, Math.abs(f));
        for (int t = 0; t < n; t++) {
            float[] f = Arrays.copyOfRange(full, t * vocab, (t + 1) * vocab), q = Arrays.copyOfRange(quant, t * vocab, (t + 1) * vocab);
            int tf = Sampler.argmax(f);
            double m = margin(f, tf);
            minMargin = Math.min(minMargin, m);
            if (tf == Sampler.argmax(q)) agreed++;
            else maxFlip = Math.max(maxFlip, m);
        }
        return new Forward(Compare.maxAbs(quant, full), maxAbs, n, agreed, minMargin, maxFlip);
    }

    /**
     * What the tests require of q8 on a generate case. Greedy identity with full precision is the goal, but the
     * random-weight fixtures have near-ties (full-precision top-1 − top-2 gaps of 0.006–0.13 logits) that Q8_0
     * rounding (0.2–0.55 max logit error here) may break, so the test records those cases in the report and
     * requires instead: at least 90 % of teacher-forced steps agree, and every flip happens at a step whose
     * full-precision gap is below half the measured max logit error (a flip at a wider gap means more than rounding).
     */
    public static void checkQ8(String name, Result r, java.util.List<String> failures) {
        if (r.agreed() < 0.9 * r.steps()) failures.add(name + " (q8 agreement below 90%): " + r.summary());
        for (double m : r.flipMargins())
            if (m >= r.maxErr() / 2) { failures.add(name + " (q8 flips a decisive step): " + r.summary()); return; }
    }

    /** What the tests require of q8 on teacher-forced logits: error within 6 % of max |logit|, argmax ≥ 90 % agreement. */
    public static void checkQ8(String name, Forward r, java.util.List<String> failures) {
        if (r.maxErr() > 0.06 * r.maxAbsLogit()) failures.add(name + " (q8 logit error above 6% of max |logit|): " + r.summary());
        if (r.agreed() < 0.9 * r.positions()) failures.add(name + " (q8 argmax agreement below 90%): " + r.summary());
    }

    /** logits[top] − the largest other logit. */
    static double margin(float[] logits, int top) {
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) if (i != top && logits[i] > second) second = logits[i];
        return logits[top] - second;
    }
}
