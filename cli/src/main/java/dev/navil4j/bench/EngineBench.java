package dev.navil4j.bench;

import dev.navil4j.RequestOptions;
import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.Generator;
import dev.navil4j.generate.Sequence;
import dev.navil4j.models.BatchRows;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.MediaCache;
import dev.navil4j.models.MediaEmbedding;
import dev.navil4j.models.ModelFlags;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.Step;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.server.ApiException;
import dev.navil4j.server.Scheduler;
import dev.navil4j.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The engine's figures on the shipped model code (synthetic weights): aggregate decode of N sequences batched in one
 * forward per token; the second turn of an image chat (prefix reuse + media cache) against the first; and the
 * inter-token latency of running streams while the shipped {@link Scheduler} admits a long prompt, chunked and whole.
 */
final class EngineBench {
    private EngineBench() {}

    /** decode_aggregate: N sequences (different 32-token prompts) decoded together, gen tokens each; tok/s of all N. */
    static void concurrency(Bench.Options o, BenchShape s, String fname, int th, SyntheticInternVL m, Consumer<Bench.Measurement> sink) {
        VisionLanguageModel model = m.model;
        int gen = Math.max(8, o.gen());
        double single = Double.NaN;
        List<Integer> ns = new ArrayList<>(o.concurrency());
        if (!ns.contains(1)) ns.addFirst(1);
        // warm-up of every batch size first: the batched kernels must be C2-compiled before any size is timed
        // (2 steps per size left some sizes measured half-interpreted: the same run gave 4 rows 0.86x and 1.9x)
        for (int n : ns) decodeSteps(model, m, prefilled(model, n, s.vocab()), ones(n), 16);
        for (int n : ns) {
            List<InferenceState> states = prefilled(model, n, s.vocab());
            int[] tok = ones(n);
            double[] tps = new double[o.reps()];
            for (int r = 0; r < o.reps(); r++) {
                long a = System.nanoTime();
                decodeSteps(model, m, states, tok, gen);
                tps[r] = (double) n * gen / ((System.nanoTime() - a) * 1e-9);
                for (InferenceState st : states) st.truncate(32);
            }
            double v = Bench.median(tps);
            if (n == 1) single = v;
            sink.accept(new Bench.Measurement(s.name(), fname, th, "decode_aggregate", v, "tok/s", Double.NaN, Double.NaN, n));
            sink.accept(new Bench.Measurement(s.name(), fname, th, "decode_aggregate_speedup", v / single, "x", Double.NaN, Double.NaN, n));
        }
    }

    /** n sequences, each with its own 32-token prompt prefilled. */
    private static List<InferenceState> prefilled(VisionLanguageModel model, int n, int vocab) {
        List<InferenceState> states = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            InferenceState st = model.newState();
            model.prefill(st, PreparedPrompt.text(Bench.ids(32, vocab, i + 1), null));
            states.add(st);
        }
        return states;
    }

    private static int[] ones(int n) {
        int[] t = new int[n];
        Arrays.fill(t, 1);
        return t;
    }

    private static void decodeSteps(VisionLanguageModel model, SyntheticInternVL m, List<InferenceState> states, int[] tok, int steps) {
        for (int g = 0; g < steps; g++) {
            List<Step> batch = new ArrayList<>(states.size());
            for (int i = 0; i < states.size(); i++) batch.add(new Step.Decode(states.get(i), tok[i]));
            float[][] logits = model.step(batch);
            for (int i = 0; i < tok.length; i++) tok[i] = Bench.textToken(Bench.argmax(logits[i]), m);
        }
    }

    /** Second-turn time to first token, and inter-token latency while a long prompt is admitted. */
    static void engine(Bench.Options o, BenchShape s, String fname, int th, SyntheticInternVL m, Consumer<Bench.Measurement> sink, PrintStream log) {
        chatTurns(o, s, fname, th, m, sink);
        admission(s, fname, th, m, sink, log);
    }

    /**
     * Turn 1: a system prompt, one tile's image tokens and a question (the tile encoded through the media cache);
     * turn 2: turn 1 + its answer + a follow-up, on the same state (longest shared prefix reused, image from the
     * cache). Also turn 2 cold (fresh state, empty media cache). Seconds to the first token of each.
     */
    private static void chatTurns(Bench.Options o, BenchShape s, String fname, int th, SyntheticInternVL m, Consumer<Bench.Measurement> sink) {
        var model = m.model;
        MediaCache cache = model.mediaCache();
        int perTile = model.vision.tokensPerTile();
        float[] tile = m.tile();
        GenerationConfig g = GenerationConfig.greedy(16, Set.of());
        int[] sys = Bench.ids(24, s.vocab(), 101), q1 = Bench.ids(12, s.vocab(), 102), q2 = Bench.ids(10, s.vocab(), 103);
        double[] t1 = new double[o.reps()], t2 = new double[o.reps()], cold = new double[o.reps()];
        for (int r = 0; r <= o.reps(); r++) { // r = 0 warms up
            cache.clear();
            int[] ids1 = concat(sys, fill(perTile, m.imgContextId), q1);
            long a = System.nanoTime();
            PreparedPrompt p1 = imagePrompt(ids1, cache, model, tile, m.imgContextId);
            InferenceState state = model.newState();
            Sequence.Result r1 = Generator.generate(model, p1, g, state, null);
            double ttft1 = (System.nanoTime() - a - r1.decodeNanos()) * 1e-9;
            int[] ids2 = concat(ids1, r1.ids(), q2);
            long b = System.nanoTime();
            PreparedPrompt p2 = imagePrompt(ids2, cache, model, tile, m.imgContextId);
            state.truncate(state.reusablePrefix(p2, p2.cacheKeys(model.flags()), model.flags()));
            Sequence.Result r2 = Generator.generate(model, p2, g.withMaxNewTokens(1), state, null);
            double ttft2 = (System.nanoTime() - b) * 1e-9;
            cache.clear();
            long c = System.nanoTime();
            PreparedPrompt p2c = imagePrompt(ids2, cache, model, tile, m.imgContextId);
            Generator.generate(model, p2c, g.withMaxNewTokens(1), model.newState(), null);
            double ttftCold = (System.nanoTime() - c) * 1e-9;
            if (r > 0) { t1[r - 1] = ttft1; t2[r - 1] = ttft2; cold[r - 1] = ttftCold; }
            if (r2.reusedTokens() == 0) throw new IllegalStateException("turn 2 reused no prefix");
        }
        double a = Bench.median(t1), b = Bench.median(t2);
        sink.accept(new Bench.Measurement(s.name(), fname, th, "ttft_turn1_s", a, "s", Double.NaN, Double.NaN));
        sink.accept(new Bench.Measurement(s.name(), fname, th, "ttft_turn2_s", b, "s", Double.NaN, Double.NaN));
        sink.accept(new Bench.Measurement(s.name(), fname, th, "ttft_turn2_cold_s", Bench.median(cold), "s", Double.NaN, Double.NaN));
        sink.accept(new Bench.Measurement(s.name(), fname, th, "ttft_turn2_over_turn1", b / a, "x", Double.NaN, Double.NaN));
    }

    private static PreparedPrompt imagePrompt(int[] ids, MediaCache cache, dev.navil4j.models.internvl.InternVLChatModel model, float[] tile, int img) {
        long key = MediaCache.key(tile, 1, model.vision.tileSize());
        float[] rows = cache.get(key, () -> model.vision.extractFeature(tile, 1));
        int[] pos = new int[model.vision.tokensPerTile()];
        int k = 0;
        for (int t = 0; t < ids.length && k < pos.length; t++) if (ids[t] == img) pos[k++] = t;
        return new PreparedPrompt(ids, null, null, null, List.of(new MediaEmbedding(pos, rows, key)));
    }

    private static int[] fill(int n, int id) { int[] a = new int[n]; Arrays.fill(a, id); return a; }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int o = 0;
        for (int[] p : parts) { System.arraycopy(p, 0, out, o, p.length); o += p.length; }
        return out;
    }

    static final int STREAMS = 4, LONG_PROMPT = 2000;

    /**
     * Inter-token latency (p50, p99, ms) of {@link #STREAMS} running streams through the shipped {@link Scheduler}:
     * alone, and while a {@link #LONG_PROMPT}-token prompt is admitted — prefilled in chunks beside the decodes
     * (the default) or in one step (as before chunked prefill).
     */
    private static void admission(BenchShape s, String fname, int th, SyntheticInternVL m, Consumer<Bench.Measurement> sink, PrintStream log) {
        IdPrompts model = new IdPrompts(m);
        for (int chunk : new int[] {Scheduler.DEFAULT_PREFILL_CHUNK, 1 << 20}) {
            try (Scheduler sched = new Scheduler(model, 8, 8, 4096, chunk, 0)) {
                run(sched, 8, false); // warm-up
                double[] alone = run(sched, 48, false);
                double[] admit = run(sched, 0, true);
                String tag = chunk >= 1 << 20 ? "whole" : "chunk" + chunk;
                if (chunk == Scheduler.DEFAULT_PREFILL_CHUNK) {
                    sink.accept(new Bench.Measurement(s.name(), fname, th, "itl_p50_ms_alone", pct(alone, 50), "ms", Double.NaN, Double.NaN, STREAMS));
                    sink.accept(new Bench.Measurement(s.name(), fname, th, "itl_p99_ms_alone", pct(alone, 99), "ms", Double.NaN, Double.NaN, STREAMS));
                }
                sink.accept(new Bench.Measurement(s.name(), fname, th, "itl_p50_ms_admit_" + tag, pct(admit, 50), "ms", Double.NaN, Double.NaN, STREAMS));
                sink.accept(new Bench.Measurement(s.name(), fname, th, "itl_p99_ms_admit_" + tag, pct(admit, 99), "ms", Double.NaN, Double.NaN, STREAMS));
                sink.accept(new Bench.Measurement(s.name(), fname, th, "itl_p99_admit_" + tag + "_over_alone", pct(admit, 99) / pct(alone, 99), "x", Double.NaN, Double.NaN, STREAMS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Starts {@link #STREAMS} streams; with {@code admitLong}, once they run, submits the long prompt and keeps them
     * going until its first token. Returns the inter-token gaps (ms) of the streams (from their 4th token on, and
     * with admitLong only those while the long prompt was being admitted).
     */
    private static double[] run(Scheduler sched, int tokens, boolean admitLong) throws InterruptedException {
        List<Long>[] times = new List[STREAMS];
        Scheduler.Job[] jobs = new Scheduler.Job[STREAMS];
        CountDownLatch done = new CountDownLatch(STREAMS);
        long[] window = {Long.MAX_VALUE, Long.MAX_VALUE};
        for (int i = 0; i < STREAMS; i++) {
            List<Long> t = times[i] = java.util.Collections.synchronizedList(new ArrayList<>());
            jobs[i] = new Scheduler.Job(conv(64, 11 + i), RequestOptions.defaults().withMaxNewTokens(admitLong ? 4000 : tokens),
                    Duration.ofMinutes(10), sink(t, done));
            sched.submit(jobs[i]);
        }
        if (admitLong) {
            while (times[STREAMS - 1].size() < 4) Thread.sleep(5);
            CountDownLatch first = new CountDownLatch(1);
            List<Long> longTimes = java.util.Collections.synchronizedList(new ArrayList<>());
            window[0] = System.nanoTime();
            Scheduler.Job big = new Scheduler.Job(conv(LONG_PROMPT, 99), RequestOptions.defaults().withMaxNewTokens(1),
                    Duration.ofMinutes(10), new Scheduler.Sink() {
                        public void onText(String d) { longTimes.add(System.nanoTime()); first.countDown(); }
                        public void onFinish(Scheduler.Completion c) { first.countDown(); }
                        public void onError(ApiException e) { first.countDown(); }
                    });
            sched.submit(big);
            first.await(10, TimeUnit.MINUTES);
            window[1] = System.nanoTime();
            for (Scheduler.Job j : jobs) j.cancel();
        } else done.await(10, TimeUnit.MINUTES);
        while (sched.inFlight() > 0) Thread.sleep(5);
        List<Double> gaps = new ArrayList<>();
        for (List<Long> t : times)
            synchronized (t) {
                for (int k = 4; k < t.size(); k++)
                    if (t.get(k) >= window[0] && t.get(k - 1) <= window[1] || window[0] == Long.MAX_VALUE)
                        gaps.add((t.get(k) - t.get(k - 1)) / 1e6);
            }
        return gaps.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static Scheduler.Sink sink(List<Long> times, CountDownLatch done) {
        return new Scheduler.Sink() {
            public void onText(String delta) { times.add(System.nanoTime()); }
            public void onFinish(Scheduler.Completion c) { done.countDown(); }
            public void onError(ApiException e) { done.countDown(); }
        };
    }

    private static Conversation conv(int tokens, int salt) {
        return new Conversation(null, List.of(new Conversation.Turn(tokens + ":" + salt, List.of(), null)));
    }

    static double pct(double[] v, int p) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }

    /** The synthetic model with prompts given as "N:salt" (N pseudo-random ids) and no stop id: a stand-in for prepare(). */
    static final class IdPrompts implements VisionLanguageModel {
        private final SyntheticInternVL m;

        IdPrompts(SyntheticInternVL m) { this.m = m; }

        @Override public PreparedPrompt prepare(Conversation c) {
            String[] p = c.turns().getLast().user().split(":");
            return PreparedPrompt.text(Bench.ids(Integer.parseInt(p[0]), m.model.languageModel.vocabSize(), Integer.parseInt(p[1])), null);
        }

        @Override public GenerationConfig defaultGeneration() { return GenerationConfig.greedy(64, Set.of()); }
        @Override public String family() { return m.model.family(); }
        @Override public Tokenizer tokenizer() { return m.model.tokenizer(); }
        @Override public int maxContext() { return m.model.maxContext(); }
        @Override public ModelFlags flags() { return m.model.flags(); }
        @Override public int hiddenSize() { return m.model.hiddenSize(); }
        @Override public InferenceState newState() { return m.model.newState(); }
        @Override public void embedPromptToken(int id, float[] dst, int off) { m.model.embedPromptToken(id, dst, off); }
        @Override public void embedDecodeToken(int id, float[] dst, int off) { m.model.embedDecodeToken(Math.min(id, m.imgContextId - 1), dst, off); }
        @Override public float[][] forward(BatchRows batch) { return m.model.forward(batch); }
        @Override public String cleanResponse(String decoded) { return decoded; }
        @Override public MediaCache mediaCache() { return m.model.mediaCache(); }
        @Override public void close() {}
    }
}
