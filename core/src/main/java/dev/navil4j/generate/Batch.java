package dev.navil4j.generate;

import dev.navil4j.models.Step;
import dev.navil4j.models.VisionLanguageModel;

import dev.navil4j.ProgressEvent;
import dev.navil4j.ProgressListener;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs several {@link Sequence}s to the end together: each forward step takes one decoded token of every sequence
 * that is generating plus prompt chunks of those still prefilling (at most {@code promptRows} prompt rows per step),
 * so decoding B sequences reads the weights once per step instead of B times.
 */
public final class Batch {
    /** Prompt rows per step when nothing else bounds it: large enough for the GEMM to run at full speed. */
    public static final int DEFAULT_CHUNK = 512;

    private Batch() {}

    public static void run(VisionLanguageModel model, List<Sequence> sequences, int promptRows) {
        run(model, sequences, promptRows, null);
    }

    /**
     * As {@link #run(VisionLanguageModel, List, int)}, reporting each sequence's PREFILL progress to its own listener
     * ({@code progress.get(i)} for {@code sequences.get(i)}; null or {@link ProgressListener#NONE} = none): after each
     * step that took prompt rows of it, the prompt tokens computed so far of the tokens it had to prefill, as
     * {@link Generator} reports a single sequence (before the step's logits are accepted, so the stage ends before
     * its first text).
     */
    public static void run(VisionLanguageModel model, List<Sequence> sequences, int promptRows,
                           List<ProgressListener> progress) {
        if (progress != null && progress.size() != sequences.size())
            throw new IllegalArgumentException(progress.size() + " progress listeners for " + sequences.size() + " sequences");
        Map<Sequence, long[]> prefill = new IdentityHashMap<>();  // {prompt tokens to compute, computed so far}
        Map<Sequence, ProgressListener> listeners = new IdentityHashMap<>();
        for (int i = 0; progress != null && i < sequences.size(); i++) {
            ProgressListener l = ProgressListener.orNone(progress.get(i));
            Sequence s = sequences.get(i);
            if (l != ProgressListener.NONE && s.promptRemaining() > 0) {
                listeners.put(s, l);
                prefill.put(s, new long[]{s.promptRemaining(), 0});
            }
        }
        List<Sequence> live = new ArrayList<>();
        for (Sequence s : sequences) if (!s.finished()) live.add(s);
        while (!live.isEmpty()) {
            List<Step> steps = new ArrayList<>();
            List<Sequence> stepping = new ArrayList<>();
            int budget = promptRows;
            for (Sequence s : live) {
                int remaining = s.promptRemaining();
                if (remaining > 0) {
                    if (budget <= 0) continue;
                    Step st = s.nextStep(budget);
                    budget -= st.rows();
                    steps.add(st);
                } else steps.add(s.nextStep(1));
                stepping.add(s);
            }
            float[][] logits = model.step(steps);
            for (int i = 0; i < stepping.size(); i++) {
                long[] p = prefill.get(stepping.get(i));
                if (p != null && p[1] < p[0]) {
                    p[1] = Math.min(p[0], p[1] + steps.get(i).rows());
                    listeners.get(stepping.get(i)).report(ProgressEvent.Stage.PREFILL, p[1], p[0],
                            ProgressEvent.Unit.TOKENS, "prompt tokens");
                }
            }
            for (int i = 0; i < stepping.size(); i++) stepping.get(i).accept(logits[i]);
            live.removeIf(Sequence::finished);
        }
    }
}
