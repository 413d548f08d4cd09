package dev.navil4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.tokenizer.Tokenizers;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.SafeTensorsWriter;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The training loop of the recipe (HF Trainer + VoRATrainer, train/train.py): per optimizer step,
 * {@code gradAccum} micro-batches of {@code batch} samples (each loss × 1/gradAccum: the mean over
 * micro-batches, as DeepSpeed's engine scales the recipe's backward; the fixture does not exercise
 * accumulation, so this rule is not checked against the reference), optional
 * global-norm clipping, AdamW at the scheduled lr, zero grads. Data order: one seeded permutation of
 * the samples per epoch, indexed by the global sample count, so step k always sees the same samples —
 * which is what makes {@code resume} reproduce an uninterrupted run bit for bit (master weights, AdamW
 * m/v and the step are saved exactly in float32).
 * <p>Writes under {@code out}: {@code loss.csv} and {@code loss.png} (the curve), {@code checkpoint-N/}
 * every {@code saveEvery} steps and at the end (unmerged pre-training layout + optimizer.safetensors +
 * trainer_state.json), and {@code merged/} (the inference checkpoint chat/serve load).
 */
public final class Trainer {
    /**
     * @param schedule    "constant", "constant_with_warmup" or "cosine" (HF get_*_schedule_with_warmup)
     * @param maxGradNorm clip the global gradient norm to this (0 = no clipping, the recipe's ZeRO-2 config)
     */
    public record Options(int steps, int batch, int gradAccum, double lr, String schedule, int warmup, double maxGradNorm,
                          long seed, int saveEvery, int logEvery, boolean merge) {
        public Options {
            if (steps <= 0 || batch <= 0 || gradAccum <= 0) throw new IllegalArgumentException("steps, batch and grad-accum must be positive");
            if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive");
            if (!List.of("constant", "constant_with_warmup", "cosine").contains(schedule))
                throw new IllegalArgumentException("schedule must be constant, constant_with_warmup or cosine, not " + schedule);
            if (warmup < 0 || maxGradNorm < 0) throw new IllegalArgumentException("warmup and max-grad-norm must be ≥ 0");
        }
    }

    /** One optimizer step's log row. */
    public record Row(int step, double loss, double lm, double distill, double lr, double gradNorm, double tokensPerSecond) {}

    /** HF schedules: lr · λ(k) for the k-th optimizer step (k = 0 first; HF's scheduler starts at λ(0)). */
    public static double lr(Options o, int k) {
        double base = o.lr();
        return switch (o.schedule()) {
            case "constant" -> base;
            case "constant_with_warmup" -> k < o.warmup() ? base * k / Math.max(1.0, o.warmup()) : base;
            case "cosine" -> {
                if (k < o.warmup()) yield base * k / Math.max(1.0, o.warmup());
                double progress = (double) (k - o.warmup()) / Math.max(1, o.steps() - o.warmup());
                yield base * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
            default -> throw new IllegalArgumentException(o.schedule());
        };
    }

    private final VoRATrainModel model;
    private final Path modelDir, teacherDir, out;
    private final Options opt;
    private final List<TrainData.Sample> samples;
    private final TrainData data;
    private final AdamW adam;
    private final List<Row> history = new ArrayList<>();
    private final Map<Integer, TrainData.Encoded> encoded = new HashMap<>();
    private final PrintStream log;
    private int step;
    private int permEpoch = -1;
    private int[] perm;

    /**
     * @param modelDir  a pre-training checkpoint (from {@link VoRAInit#create} or a checkpoint-N/ to resume)
     * @param resume    whether modelDir is a checkpoint-N/ whose optimizer state and step continue
     */
    public Trainer(Path modelDir, Path teacherDir, List<TrainData.Sample> samples, Options opt, Path out, boolean resume, PrintStream log) {
        this.modelDir = modelDir;
        this.out = out;
        this.opt = opt;
        this.samples = samples;
        this.log = log;
        this.model = VoRATrainModel.load(modelDir, teacherDir);
        // like VoRATrainModel.load: the config's aux_vision path is relative to the checkpoint directory
        this.teacherDir = teacherDir != null ? teacherDir
                : modelDir.resolve(Json.Obj.of(modelDir.resolve("config.json")).string("aux_vision")).normalize();
        Tokenizer tok = Tokenizers.load(modelDir);
        this.data = TrainData.forModel(tok, modelDir, model.config.imageSize());
        this.adam = AdamW.torchDefaults(model.trainable());
        if (samples.isEmpty()) throw new IllegalArgumentException("no training samples");
        if (resume) restore(modelDir);
    }

    public VoRATrainModel model() { return model; }

    public List<Row> history() { return history; }

    public int step() { return step; }

    /** The sample of the global sample counter c: a fresh seeded permutation per epoch. */
    int sampleIndex(long c) {
        int n = samples.size();
        int epoch = (int) (c / n);
        if (epoch != permEpoch) {
            perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            SplittableRandom r = new SplittableRandom(opt.seed() * 0x9E3779B97F4A7C15L + epoch);
            for (int i = n - 1; i > 0; i--) { int j = r.nextInt(i + 1); int t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
            permEpoch = epoch;
        }
        return perm[(int) (c % n)];
    }

    private TrainData.Encoded encode(int i) {
        TrainData.Encoded e = encoded.get(i);
        if (e == null) {
            e = data.encode(samples.get(i));
            // keep processed samples while they fit in ~256 MiB (pixels dominate: 3·S² floats each)
            if ((long) (encoded.size() + 1) * e.pixels().length * 4 < 256L << 20) encoded.put(i, e);
        }
        return e;
    }

    /** Runs until {@code untilStep} (≤ steps) optimizer steps are done; saves checkpoints on the way. */
    public void run(int untilStep) {
        int until = Math.min(untilStep, opt.steps());
        long t0 = System.nanoTime();
        int startStep = step;
        while (step < until) {
            long ts = System.nanoTime();
            double loss = 0, lm = 0, distill = 0;
            long tokens = 0;
            model.zeroGrad();
            for (int m = 0; m < opt.gradAccum(); m++) {
                List<TrainData.Encoded> micro = new ArrayList<>();
                for (int i = 0; i < opt.batch(); i++)
                    micro.add(encode(sampleIndex(((long) step * opt.gradAccum() + m) * opt.batch() + i)));
                Batch b = data.collate(micro);
                VoRATrainModel.Losses l = model.forward(b);
                model.backward(1.0 / opt.gradAccum());
                loss += l.total() / opt.gradAccum();
                lm += l.lm() / opt.gradAccum();
                distill += l.distill() / opt.gradAccum();
                int np = (b.size() / model.config.patchSize()) * (b.size() / model.config.patchSize());
                tokens += b.realTokens() + (long) b.batch() * (np - 1);
            }
            double norm = AdamW.clipGradNorm(model.trainable(), opt.maxGradNorm());
            double lr = lr(opt, step);
            adam.update(lr);
            step++;
            double secs = (System.nanoTime() - ts) / 1e9;
            Row row = new Row(step, loss, lm, distill, lr, norm, tokens / secs);
            history.add(row);
            if (log != null && (step % Math.max(1, opt.logEvery()) == 0 || step == until)) {
                double per = (System.nanoTime() - t0) / 1e9 / (step - startStep);
                log.printf(Locale.ROOT, "step %d/%d  loss %.4f  lm %.4f  distill %.4f  lr %.2e  |g| %.3f  %.0f tok/s  ETA %s%n",
                        step, opt.steps(), loss, lm, distill, lr, norm, row.tokensPerSecond(), eta(per * (opt.steps() - step)));
            }
            if (out != null && opt.saveEvery() > 0 && step % opt.saveEvery() == 0 && step < opt.steps()) save(out.resolve("checkpoint-" + step));
        }
        if (out != null) writeCurve();
    }

    /** Runs all steps, saves the final checkpoint and (with merge) the merged inference checkpoint. */
    public void runAll() {
        run(opt.steps());
        if (out == null) return;
        save(out.resolve("checkpoint-" + step));
        if (opt.merge()) {
            VoRACheckpoints.saveMerged(model, modelDir, out.resolve("merged"));
            if (log != null) log.println("merged inference checkpoint: " + out.resolve("merged"));
        }
    }

    static String eta(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", t / 3600, t / 60 % 60) : String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
    }

    // ---------------------------------------------------------------- checkpoints

    /** checkpoint-N/: the unmerged model, AdamW state (exp_avg / exp_avg_sq per tensor) and trainer_state.json. */
    public void save(Path dir) {
        VoRACheckpoints.saveUnmerged(model, modelDir, teacherDir, dir);
        try {
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("step", Long.toString(adam.step()));
            List<Param> ps = adam.params();
            for (int i = 0; i < ps.size(); i++) {
                w.add(VoRACheckpoints.f32("exp_avg." + ps.get(i).name, ps.get(i).shape, adam.m[i]));
                w.add(VoRACheckpoints.f32("exp_avg_sq." + ps.get(i).name, ps.get(i).shape, adam.v[i]));
            }
            w.write(dir.resolve("optimizer.safetensors"));
            ObjectNode st = Json.MAPPER.createObjectNode();
            st.put("global_step", step);
            st.put("optimizer_step", adam.step());
            ObjectNode o = st.putObject("options");
            o.put("steps", opt.steps()).put("batch", opt.batch()).put("grad_accum", opt.gradAccum()).put("lr", opt.lr())
                    .put("schedule", opt.schedule()).put("warmup", opt.warmup()).put("max_grad_norm", opt.maxGradNorm()).put("seed", opt.seed())
                    .put("num_samples", samples.size());
            ArrayNode h = st.putArray("log_history");
            for (Row r : history)
                h.addObject().put("step", r.step()).put("loss", r.loss()).put("lm_loss", r.lm()).put("distill_loss", r.distill())
                        .put("lr", r.lr()).put("grad_norm", r.gradNorm()).put("tokens_per_s", r.tokensPerSecond());
            VoRACheckpoints.writeJson(dir.resolve("trainer_state.json"), st);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        }
        if (log != null) log.println("checkpoint: " + dir);
    }

    private void restore(Path dir) {
        Path sf = dir.resolve("trainer_state.json");
        if (!Files.isRegularFile(sf)) throw new IllegalArgumentException(dir + ": not a training checkpoint (no trainer_state.json)");
        JsonNode st = Json.read(sf);
        JsonNode o = st.path("options");
        // the data order and the step's meaning depend on these; a different value would not be a resume
        check(o, "batch", opt.batch()); check(o, "grad_accum", opt.gradAccum()); check(o, "seed", opt.seed()); check(o, "num_samples", samples.size());
        step = st.path("global_step").asInt();
        try (SafeTensors s = SafeTensors.open(dir.resolve("optimizer.safetensors"))) {
            List<Param> ps = adam.params();
            for (int i = 0; i < ps.size(); i++) {
                System.arraycopy(s.get("exp_avg." + ps.get(i).name, ps.get(i).shape).toFloatArray(), 0, adam.m[i], 0, adam.m[i].length);
                System.arraycopy(s.get("exp_avg_sq." + ps.get(i).name, ps.get(i).shape).toFloatArray(), 0, adam.v[i], 0, adam.v[i].length);
            }
        }
        adam.restore(st.path("optimizer_step").asLong());
        for (JsonNode r : st.path("log_history"))
            history.add(new Row(r.path("step").asInt(), r.path("loss").asDouble(), r.path("lm_loss").asDouble(), r.path("distill_loss").asDouble(),
                    r.path("lr").asDouble(), r.path("grad_norm").asDouble(), r.path("tokens_per_s").asDouble()));
    }

    private static void check(JsonNode o, String key, double now) {
        if (o.has(key) && o.get(key).asDouble() != now)
            throw new IllegalArgumentException("resume: the checkpoint was trained with " + key + " " + o.get(key).asText() + ", not " + (long) now);
    }

    // ---------------------------------------------------------------- the curve

    private void writeCurve() {
        try {
            Files.createDirectories(out);
            StringBuilder sb = new StringBuilder("step,loss,lm_loss,distill_loss,lr,grad_norm,tokens_per_s\n");
            for (Row r : history)
                sb.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.6e,%.6f,%.1f%n", r.step(), r.loss(), r.lm(), r.distill(), r.lr(), r.gradNorm(), r.tokensPerSecond()));
            Files.writeString(out.resolve("loss.csv"), sb);
            LossPlot.write(history, out.resolve("loss.png"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the loss curve under " + out + ": " + e.getMessage(), e);
        }
    }
}
