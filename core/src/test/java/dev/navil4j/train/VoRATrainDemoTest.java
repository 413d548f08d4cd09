package dev.navil4j.train;

import dev.navil4j.generate.Sequence;
import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.Generator;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.vora.VoRAForCausalLM;
import dev.navil4j.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The recipe end to end on data made here: a random tiny Qwen2 LLM and a random tiny AIMv2 teacher,
 * trained on synthetic images of one coloured square or bar captioned "a {colour} {shape}" (6 classes, chance
 * 1/6), merged, then run by the inference engine on held-out images. The trained-and-merged model must
 * name held-out images far better than chance; the untrained (step-0, merged the same way) one must not.
 * Accuracy = the caption with the highest log-likelihood under VoRAForCausalLM among the 6, and greedy
 * generation through the Generator must give the exact caption.
 */
class VoRATrainDemoTest {
    static final int STEPS = Integer.getInteger("navil4j.demoSteps", 150);

    @Test
    void aTinyLlmLearnsToCaptionSyntheticImagesAndTheMergedModelAnswersHeldOutOnes(@TempDir Path dir) throws Exception {
        Path base = SyntheticVoRA.baseLlm(dir.resolve("base"), 1);
        Path teacher = SyntheticVoRA.teacher(dir.resolve("teacher"), 2);
        SyntheticVoRA.images(dir.resolve("train"), 480, 3);
        List<SyntheticVoRA.Shape> heldOut = SyntheticVoRA.images(dir.resolve("test"), 36, 4);
        Path init = VoRAInit.create(base, teacher, "all", 8, 56, 5, dir.resolve("init"));
        VoRATrainModel untrained = VoRATrainModel.load(init, teacher);
        VoRACheckpoints.saveMerged(untrained, init, dir.resolve("untrained-merged"));

        long t0 = System.nanoTime();
        Trainer.Options o = new Trainer.Options(STEPS, 8, 1, 3e-3, "cosine", 10, 1.0, 6, 0, 25, true);
        Trainer t = new Trainer(init, teacher, TrainData.read(dir.resolve("train/data.jsonl")), o, dir.resolve("out"), false, System.out);
        t.runAll();
        double secs = (System.nanoTime() - t0) / 1e9;

        double[] before = accuracy(dir.resolve("untrained-merged"), dir.resolve("test"), heldOut);
        double[] after = accuracy(dir.resolve("out/merged"), dir.resolve("test"), heldOut);
        List<Trainer.Row> h = t.history();
        System.out.printf(Locale.ROOT, "demo: %d steps in %.1f s; loss %.3f -> %.3f (lm %.3f -> %.3f, distill %.3f -> %.3f); held-out accuracy "
                        + "(ranking, exact greedy) untrained %.2f / %.2f, trained %.2f / %.2f, chance %.2f%n",
                STEPS, secs, h.getFirst().loss(), h.getLast().loss(), h.getFirst().lm(), h.getLast().lm(), h.getFirst().distill(),
                h.getLast().distill(), before[0], before[1], after[0], after[1], 1.0 / 6);
        Path keep = Path.of("target/vora-train-demo");
        Files.createDirectories(keep);
        Files.copy(dir.resolve("out/loss.csv"), keep.resolve("loss.csv"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(dir.resolve("out/loss.png"), keep.resolve("loss.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(h.getLast().lm()).isLessThan(h.getFirst().lm() / 3);
        assertThat(before[0]).as("untrained ranking accuracy").isLessThan(0.4);
        assertThat(before[1]).as("untrained exact captions").isLessThan(0.2);
        assertThat(after[0]).as("trained ranking accuracy").isGreaterThan(0.6);
        assertThat(after[1]).as("trained exact captions").isGreaterThan(0.5);
    }

    /** {ranking accuracy, exact greedy caption accuracy} of a merged checkpoint on the held-out images. */
    static double[] accuracy(Path merged, Path images, List<SyntheticVoRA.Shape> truth) throws Exception {
        TrainData data = TrainData.forModel(Tokenizers.load(merged), merged, 56);
        int ranked = 0, exact = 0;
        try (VoRAForCausalLM m = VoRAForCausalLM.load(merged, LoadOptions.defaults())) {
            int vocab = m.vocabSize();
            for (int i = 0; i < truth.size(); i++) {
                Path img = images.resolve(String.format("img_%04d.png", i));
                int best = -1;
                double bestLp = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < 6; c++) {
                    SyntheticVoRA.Shape s = new SyntheticVoRA.Shape(c / 2, c % 2);
                    TrainData.Encoded e = data.encode(new TrainData.Sample(img, List.of(new String[]{"human", SyntheticVoRA.QUESTION},
                            new String[]{"gpt", s.caption()})));
                    float[] logits = m.forwardAll(m.prepare(e.ids(), List.of(e.pixels()), 56, null));
                    int at = 0;
                    while (e.ids()[at] != VoRATrainModel.IMAGE_PLACEHOLDER) at++;
                    int np = 16;
                    double lp = 0;
                    for (int t = at + 1; t < e.ids().length; t++) {
                        if (e.labels()[t] == -100) continue;
                        int row = (t - 1) - 1 + np; // the spliced row that predicts ids[t]
                        double max = Double.NEGATIVE_INFINITY, z = 0;
                        for (int v = 0; v < vocab; v++) max = Math.max(max, logits[row * vocab + v]);
                        for (int v = 0; v < vocab; v++) z += Math.exp(logits[row * vocab + v] - max);
                        lp += logits[row * vocab + e.ids()[t]] - max - Math.log(z);
                    }
                    if (lp > bestLp) { bestLp = lp; best = c; }
                }
                SyntheticVoRA.Shape want = truth.get(i);
                if (best == want.color() * 2 + want.shape()) ranked++;
                Conversation conv = new Conversation(null, List.of(new Conversation.Turn("\nWhat is in the image?",
                        List.of(new Conversation.Image(img, null)), null)));
                Sequence.Result r = Generator.generate(m, m.prepare(conv), m.defaultGeneration().withMaxNewTokens(8));
                if (r.text().equals(want.caption())) exact++;
            }
        }
        return new double[]{(double) ranked / truth.size(), (double) exact / truth.size()};
    }
}
