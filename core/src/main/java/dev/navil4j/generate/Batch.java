package dev.navil4j.generate;

import dev.navil4j.models.Step;
import dev.navil4j.models.VisionLanguageModel;

import java.util.ArrayList;
import java.util.List;

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
            for (int i = 0; i < stepping.size(); i++) stepping.get(i).accept(logits[i]);
            live.removeIf(Sequence::finished);
        }
    }
}
