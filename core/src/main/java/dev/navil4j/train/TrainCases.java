package dev.navil4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.vora.VoRAForCausalLM;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;
import dev.navil4j.verify.FixtureCases;
import dev.navil4j.weights.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The vora-train fixture kinds (fixtures/vora-train-tiny/README.md): {@code train_forward},
 * {@code train_grad}, {@code train_steps}, {@code merge_after_train}. Every tensor is compared at its own
 * tolerance ({@code atol_per_tensor}, {@code atol_params}, {@code atol_weights}); the reported error is
 * the worst one relative to its tolerance.
 */
public final class TrainCases implements FixtureCases {
    /** The fixtures of the VoRA training recipe (cases.json family "vora-train"). */
    @Override
    public boolean handlesFixture(String fixtureFamily) { return fixtureFamily.equals("vora-train"); }

    /** train_forward, train_grad, train_steps, merge_after_train; the model-level kinds go to the VoRA family. */
    @Override
    public CaseResult verify(Fixture fx, JsonNode c) throws Exception {
        return switch (c.path("kind").asText()) {
            case "train_forward", "train_grad", "train_steps", "merge_after_train" -> run(fx, c);
            default -> new dev.navil4j.models.vora.VoRAFamily().verify(fx, c);
        };
    }

    public TrainCases() {}

    public static boolean handles(String kind) {
        return switch (kind) {
            case "train_forward", "train_grad", "train_steps", "merge_after_train" -> true;
            default -> false;
        };
    }

    public static CaseResult run(Fixture fx, JsonNode c) throws IOException {
        return switch (c.path("kind").asText()) {
            case "train_forward" -> trainForward(fx, c);
            case "train_grad" -> trainGrad(fx, c);
            case "train_steps" -> trainSteps(fx, c);
            case "merge_after_train" -> mergeAfterTrain(fx, c);
            default -> CaseResult.skip("kind " + c.path("kind").asText() + " is not a training case");
        };
    }

    /** Worst tensor relative to its own atol. */
    static final class Worst {
        double err, atol = Double.NaN, ratio = -1;
        String name, mismatch;

        void check(String what, float[] got, float[] want, double tol) {
            double e = Compare.maxAbs(got, want);
            if (Double.isNaN(e)) e = Double.POSITIVE_INFINITY;
            double r = e / tol;
            if (r > ratio) { ratio = r; err = e; atol = tol; name = what; }
        }

        void check(String what, double got, double want, double tol) { check(what, new float[]{(float) got}, new float[]{(float) want}, tol); }

        CaseResult result() {
            if (mismatch != null) return CaseResult.fail(err, atol, mismatch);
            return ratio <= 1 ? CaseResult.pass(err, atol) : CaseResult.fail(err, atol, name + " above its atol");
        }
    }

    static VoRATrainModel model(Fixture fx, JsonNode c) {
        Path teacher = c.hasNonNull("teacher_dir") ? fx.resolve(c.get("teacher_dir").asText()) : null;
        return VoRATrainModel.load(fx.modelDir(c), teacher);
    }

    /** The collated batch (inputs.*) of the train_forward case. */
    static Batch batch(Fixture fx) {
        JsonNode in = null;
        for (JsonNode c : fx.cases()) if (c.path("kind").asText().equals("train_forward")) in = c.get("inputs");
        if (in == null) throw new IllegalArgumentException("fixture has no train_forward case with the inputs");
        TensorInfo ids = fx.tensor(in.get("input_ids").asText());
        TensorInfo pv = fx.tensor(in.get("pixel_values").asText());
        return new Batch(ids.dim(0), ids.dim(1), ids.toIntArray(), fx.ints(in.get("labels")), fx.ints(in.get("attention_mask")),
                pv.toFloatArray(), pv.dim(2));
    }

    private static double tol(JsonNode c, String key) {
        JsonNode per = c.path("atol_per_tensor");
        return per.has(key) ? per.get(key).asDouble() : c.path("atol").asDouble();
    }

    private static CaseResult trainForward(Fixture fx, JsonNode c) {
        VoRATrainModel m = model(fx, c);
        VoRATrainModel.Losses l = m.forward(batch(fx));
        JsonNode e = c.path("expect");
        Worst w = new Worst();
        w.check("lm_loss", l.lm(), fx.floats(e.get("lm_loss"))[0], tol(c, "lm_loss"));
        w.check("distill_loss", l.distill(), fx.floats(e.get("distill_loss"))[0], tol(c, "distill_loss"));
        w.check("total_loss", l.total(), fx.floats(e.get("total_loss"))[0], tol(c, "total_loss"));
        float[] per = new float[l.perBlock().length];
        for (int j = 0; j < per.length; j++) per[j] = (float) l.perBlock()[j];
        w.check("distill_per_block", per, fx.floats(e.get("distill_per_block")), tol(c, "distill_per_block"));
        w.check("logits", l.logits(), fx.floats(e.get("logits")), tol(c, "logits"));
        for (int j = 0; j < per.length; j++) {
            w.check("teacher_hidden." + j, l.teacherHidden()[j], fx.floats(e.get("teacher_hidden." + j)), tol(c, "teacher_hidden." + j));
            w.check("student_proj." + j, l.studentProj()[j], fx.floats(e.get("student_proj." + j)), tol(c, "student_proj." + j));
        }
        return w.result();
    }

    private static CaseResult trainGrad(Fixture fx, JsonNode c) {
        VoRATrainModel m = model(fx, c);
        m.zeroGrad();
        m.forward(batch(fx));
        m.backward();
        Worst w = new Worst();
        Set<String> want = new HashSet<>();
        c.path("trainable_parameters").forEach(n -> want.add(n.asText()));
        Set<String> got = new HashSet<>();
        for (Param p : m.trainable()) got.add(p.name);
        if (!got.equals(want)) {
            Set<String> extra = new HashSet<>(got); extra.removeAll(want);
            Set<String> missing = new HashSet<>(want); missing.removeAll(got);
            w.mismatch = "trainable tensors differ: extra " + extra + ", missing " + missing;
        }
        for (JsonNode n : c.path("frozen_parameters")) {
            // the teacher (aux_vision.aux_model.*) is an AIMv2Teacher: plain arrays, no gradient buffers at all
            if (n.asText().startsWith("aux_vision.aux_model.")) continue;
            Param p = m.params().get(n.asText());
            if (p == null) w.mismatch = "frozen tensor " + n.asText() + " not in the model";
            else if (p.trainable()) w.mismatch = n.asText() + " must be frozen (no grad)";
        }
        c.path("expect").path("grad").fields().forEachRemaining(en -> {
            Param p = m.params().get(en.getKey());
            if (p == null || !p.trainable()) { w.mismatch = "no gradient for " + en.getKey(); return; }
            w.check("grad." + en.getKey(), p.g, fx.floats(en.getValue()), tol(c, en.getKey()));
        });
        return w.result();
    }

    private static CaseResult trainSteps(Fixture fx, JsonNode c) {
        VoRATrainModel m = model(fx, c);
        JsonNode o = c.path("optimizer");
        AdamW opt = new AdamW(m.trainable(), o.path("betas").get(0).asDouble(), o.path("betas").get(1).asDouble(),
                o.path("eps").asDouble(), o.path("weight_decay").asDouble());
        double lr = o.path("lr").asDouble();
        double maxNorm = o.path("max_grad_norm").isNumber() ? o.get("max_grad_norm").asDouble() : 0;
        int steps = c.path("steps").asInt();
        Batch b = batch(fx);
        float[] loss = new float[steps], lm = new float[steps], dist = new float[steps], norms = new float[steps];
        for (int s = 0; s < steps; s++) {
            m.zeroGrad();
            VoRATrainModel.Losses l = m.forward(b);
            loss[s] = (float) l.total(); lm[s] = (float) l.lm(); dist[s] = (float) l.distill();
            m.backward();
            norms[s] = (float) AdamW.clipGradNorm(m.trainable(), maxNorm);
            opt.update(lr);
        }
        double after = m.forward(b, true).total();
        JsonNode e = c.path("expect");
        double atol = c.path("atol").asDouble(), atolParams = c.path("atol_params").asDouble(atol);
        Worst w = new Worst();
        w.check("loss", loss, fx.floats(e.get("loss")), atol);
        w.check("lm_loss", lm, fx.floats(e.get("lm_loss")), atol);
        w.check("distill_loss", dist, fx.floats(e.get("distill_loss")), atol);
        w.check("loss_after", after, fx.floats(e.get("loss_after"))[0], atol);
        if (e.has("grad_norm")) w.check("grad_norm", norms, fx.floats(e.get("grad_norm")), atol);
        e.path("params_after").fields().forEachRemaining(en ->
                w.check("param." + en.getKey(), m.params().get(en.getKey()).w, fx.floats(en.getValue()), atolParams));
        return w.result();
    }

    private static CaseResult mergeAfterTrain(Fixture fx, JsonNode c) throws IOException {
        VoRATrainModel m = model(fx, c);
        // start_from "train_steps.params_after": the trained weights as the reference's 3 steps left them
        String from = c.path("start_from").asText();
        JsonNode src = null;
        for (JsonNode k : fx.cases()) if (from.equals(k.path("name").asText() + ".params_after")) src = k.path("expect").path("params_after");
        if (src == null) throw new IllegalArgumentException("start_from " + from + " names no case");
        Map<String, float[]> trained = new LinkedHashMap<>();
        src.fields().forEachRemaining(en -> trained.put(en.getKey(), fx.floats(en.getValue())));
        m.setValues(trained);
        JsonNode e = c.path("expect");
        double atol = c.path("atol").asDouble(), atolW = c.path("atol_weights").asDouble(atol);
        Worst w = new Worst();
        Map<String, float[]> merged = m.mergedWeights();
        e.path("merged_weights").fields().forEachRemaining(en -> {
            float[] got = merged.get(en.getKey());
            if (got == null) { w.mismatch = "no merged weight " + en.getKey(); return; }
            w.check("merged." + en.getKey(), got, fx.floats(en.getValue()), atolW);
        });
        int[] ids = fx.ints(c.get("input_ids"));
        TensorInfo pv = fx.tensor(c.get("pixel_values").asText());
        int size = pv.dim(2);
        // the unmerged trained model, eval forward of the one unpadded prompt
        int[] ones = new int[ids.length];
        java.util.Arrays.fill(ones, 1);
        float[] unmerged = m.forward(new Batch(1, ids.length, ids, null, ones, pv.toFloatArray(), size), false).logits();
        w.check("unmerged_logits", unmerged, fx.floats(e.get("unmerged_logits")), atol);
        // the merged checkpoint as navil4j's inference loader (chat / serve) reads it
        Path dir = Files.createTempDirectory("navil4j-merged");
        try {
            VoRACheckpoints.saveMerged(m, fx.modelDir(c), dir);
            try (VoRAForCausalLM inf = VoRAForCausalLM.load(dir, LoadOptions.defaults())) {
                float[] logits = inf.forwardAll(inf.prepare(ids, List.of(pv.toFloatArray()), size, null));
                w.check("merged_logits", logits, fx.floats(e.get("merged_logits")), atol);
            }
        } finally {
            deleteTree(dir);
        }
        return w.result();
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) { s.sorted(Comparator.reverseOrder()).forEach(all::add); }
        for (Path p : all) Files.deleteIfExists(p);
    }
}
