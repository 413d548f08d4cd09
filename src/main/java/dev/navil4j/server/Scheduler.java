package dev.navil4j.server;

import dev.navil4j.RequestOptions;
import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.ContextLimitException;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Sequence;
import dev.navil4j.generate.TokenLogprob;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.PrefixCache;
import dev.navil4j.models.Step;
import dev.navil4j.models.VisionLanguageModel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Continuous batching over one shared model. Prompts are prepared (template, image decoding and encoding) on
 * preparer threads, so a large image never holds up running streams; the scheduler thread owns every
 * admitted sequence and, per iteration, runs ONE forward step ({@link VisionLanguageModel#step}) holding the next
 * token of every generating sequence plus a chunk of at most {@code prefillChunk} prompt rows of the sequences
 * still prefilling (the whole budget of {@code 512} when nothing is generating). The weights are read once per
 * step for all sequences, and a long prompt joining no longer stalls the streams already running.
 * <p>Admitted prompts start from the longest prefix they share with a recently finished sequence
 * ({@link PrefixCache}: a repeated system prompt, image or conversation is not recomputed).
 * <p>Admission is bounded: at most {@code maxBatch} active plus {@code maxQueue} waiting; beyond that
 * {@link #submit} answers 429. A job is dropped (and its KV cache released) as soon as it is cancelled,
 * its client disconnects, or its deadline passes. Every failure of a job answers that job and frees its slot.
 */
public final class Scheduler implements AutoCloseable {
    /** Receives a job's output on the scheduler thread; implementations must not block. */
    public interface Sink {
        void onText(String delta);

        /** As {@link #onText(String)} with the log-probabilities of the tokens behind it (empty unless asked for). */
        default void onText(String delta, List<TokenLogprob> logprobs) { onText(delta); }

        /** Text of choice {@code index} (0..n-1) of the job. */
        default void onText(int index, String delta, List<TokenLogprob> logprobs) { onText(delta, logprobs); }

        /** Called once per choice ({@link Completion#index}); an error ends the job instead (once, for all choices). */

        void onFinish(Completion completion);

        void onError(ApiException error);
    }

    /**
     * @param finishReason "stop", "length" (OpenAI's values), or "cancelled"/"timeout"
     * @param cachedTokens prompt tokens taken from the prefix cache
     * @param logprobs     per generated token when the request asked for them, else null
     * @param index        the choice (0..n-1)
     */
    public record Completion(String text, String finishReason, int promptTokens, int completionTokens, int cachedTokens,
                             List<TokenLogprob> logprobs, int index, String rawText) {}

    /** One request: what to generate and where its output goes. {@code options.maxNewTokens} null = server default. */
    public static final class Job {
        final Conversation conversation;
        /** A raw prompt ({@code /v1/completions}): tokenized as is, no chat template; null for a conversation. */
        final String rawPrompt;
        final RequestOptions options;
        final Sink sink;
        final long deadlineNanos, createdNanos = System.nanoTime();
        final int n;
        private volatile boolean cancelled;
        /** Structured output: the constraint every choice's tokens follow (null = free text). */
        private volatile dev.navil4j.generate.TokenConstraint.Factory constraint;

        public Job(Conversation conversation, RequestOptions options, Duration timeout, Sink sink) {
            this(conversation, options, 1, timeout, sink);
        }

        /**
         * @param n choices to generate for the prompt (OpenAI's {@code n}): prefilled once, the KV prefix copied into
         *          n - 1 more sequences, sampled with seeds seed, seed + 1, …
         */
        public Job(Conversation conversation, RequestOptions options, int n, Duration timeout, Sink sink) {
            this(conversation, null, options, n, timeout, sink);
        }

        /** A raw-prompt job (no chat template; the tokenizer's own special tokens, e.g. a BOS, are added). */
        public static Job raw(String prompt, RequestOptions options, int n, Duration timeout, Sink sink) {
            return new Job(null, prompt, options, n, timeout, sink);
        }

        private Job(Conversation conversation, String rawPrompt, RequestOptions options, int n, Duration timeout, Sink sink) {
            if (n < 1) throw new IllegalArgumentException("n must be >= 1, got " + n);
            this.n = n;
            this.rawPrompt = rawPrompt;
            this.conversation = conversation;
            this.options = options == null ? RequestOptions.defaults() : options;
            this.sink = sink;
            this.deadlineNanos = System.nanoTime() + timeout.toNanos();
        }

        /** Constrains the generated tokens (response_format); call before {@link Scheduler#submit}. */
        public Job constrain(dev.navil4j.generate.TokenConstraint.Factory factory) {
            this.constraint = factory;
            return this;
        }

        /** Stops the job at the next step (client gone); its sink gets no further calls. */
        public void cancel() { cancelled = true; }

        public boolean cancelled() { return cancelled; }
    }

    /** A prepared job waiting for a slot. */
    private record Ready(Job job, PreparedPrompt prompt, GenerationConfig config, dev.navil4j.generate.TokenConstraint constraint) {}

    /** An admitted job's sequences: how many are open (running or still to be spawned), whether it failed. */
    private static final class Group {
        final Job job;
        final GenerationConfig config;
        int open;
        boolean spawned, failed;

        Group(Job job, GenerationConfig config) {
            this.job = job;
            this.config = config;
            this.open = job.n;
            this.spawned = job.n == 1;
        }
    }

    /** One admitted sequence: choice {@code index} of its job. */
    private record Active(Job job, Sequence seq, int index, Group group, long[] mark) {
        Active(Job job, Sequence seq, int index, Group group) { this(job, seq, index, group, new long[2]); } // {tokens seen, last token time}
    }

    /** Prompt rows per step while other sequences are generating (the inter-token latency they see). */
    public static final int DEFAULT_PREFILL_CHUNK = Integer.getInteger("navil4j.prefillChunk", 8);
    /** Prefix cache bound. */
    public static final long DEFAULT_PREFIX_CACHE_BYTES = Long.getLong("navil4j.prefixCacheMb", 1024) << 20;
    private static final int SOLO_CHUNK = 512;

    private final VisionLanguageModel model;
    private final int maxBatch, capacity, defaultMaxTokens, prefillChunk;
    private final PrefixCache prefixes;
    private final Metrics metrics = new Metrics();
    private final LinkedBlockingQueue<Ready> ready = new LinkedBlockingQueue<>();
    private final ExecutorService preparer;
    private final List<Active> active = new ArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger activeCount = new AtomicInteger(), activeJobs = new AtomicInteger();
    private final AtomicLong activeBytes = new AtomicLong();
    private final AtomicLong completed = new AtomicLong(), steps = new AtomicLong();
    private final AtomicInteger maxActiveSeen = new AtomicInteger();
    private final Thread thread;
    private volatile boolean accepting = true, stopping;

    public Scheduler(VisionLanguageModel model, int maxBatch, int maxQueue, int defaultMaxTokens) {
        this(model, maxBatch, maxQueue, defaultMaxTokens, DEFAULT_PREFILL_CHUNK, DEFAULT_PREFIX_CACHE_BYTES);
    }

    public Scheduler(VisionLanguageModel model, int maxBatch, int maxQueue, int defaultMaxTokens, int prefillChunk, long prefixCacheBytes) {
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be >= 1, got " + prefillChunk);
        this.model = model;
        this.maxBatch = maxBatch;
        this.capacity = maxBatch + maxQueue;
        this.defaultMaxTokens = defaultMaxTokens;
        this.prefillChunk = prefillChunk;
        this.prefixes = new PrefixCache(prefixCacheBytes);
        // platform threads: both loops are pure compute and must not sit on a virtual thread's carrier
        // a few preparers: requests arriving together are prepared together and join the batch together
        this.preparer = Executors.newFixedThreadPool(Math.min(4, maxBatch),
                r -> Thread.ofPlatform().name("navil4j-prepare").daemon(true).unstarted(r));
        this.thread = Thread.ofPlatform().name("navil4j-scheduler").daemon(true).start(this::loop);
    }

    /** Queues a job; 429 when the batch and the queue are full, 503 once shutdown began. */
    public void submit(Job job) {
        if (!accepting) throw new ApiException(503, "server_error", null, "shutting_down", "the server is shutting down", 0);
        int n = inFlight.incrementAndGet();
        if (n > capacity) {
            inFlight.decrementAndGet();
            throw new ApiException(429, "rate_limit_exceeded", null, "queue_full", "the server is busy: "
                    + maxBatch + " requests are running and " + (capacity - maxBatch) + " waiting; retry later", 1);
        }
        try {
            preparer.execute(() -> prepare(job));
        } catch (RuntimeException e) {
            release();
            throw new ApiException(503, "server_error", null, "shutting_down", "the server is shutting down", 0);
        }
    }

    /** Sequences decoding now (a job with n choices has n). */
    public int active() { return activeCount.get(); }

    /** Requests (jobs) in the running batch after the last step; a job with n choices counts once. */
    public int activeJobs() { return activeJobs.get(); }

    /** Requests submitted and not yet finished (active + waiting). */
    public int inFlight() { return inFlight.get(); }

    /** KV-cache bytes held by active sequences after the last step. */
    public long activeBytes() { return activeBytes.get(); }

    public long completed() { return completed.get(); }

    /** Largest number of sequences decoded in one step so far (shows that batching happened). */
    public int maxActiveSeen() { return maxActiveSeen.get(); }

    /** Counters and latency histograms (tokens, time to first token, inter-token time). */
    public Metrics metrics() { return metrics; }

    /** The cache of finished sequences' KV prefixes. */
    public PrefixCache prefixCache() { return prefixes; }

    /** Template, media, context rule: on the preparer thread; bad input fails the job with a 400, never a loop. */
    private void prepare(Job job) {
        if (job.cancelled()) { release(); return; }
        try {
            PreparedPrompt prompt = job.rawPrompt != null
                    ? PreparedPrompt.text(model.tokenizer().encode(job.rawPrompt, true), job.rawPrompt)
                    : model.prepare(job.conversation);
            GenerationConfig config = job.options.applyTo(model.defaultGeneration());
            boolean explicit = job.options.maxNewTokens() != null;
            int max = ContextLimitException.fitNewTokens(prompt.length(), explicit ? job.options.maxNewTokens() : defaultMaxTokens,
                    model.maxContext(), explicit);
            // the vocabulary trie and the first mask are built here, off the scheduler thread
            var constraint = job.constraint == null ? null : job.constraint.start(model.tokenizer());
            ready.add(new Ready(job, prompt, config.withMaxNewTokens(max), constraint));
        } catch (Throwable t) {
            fail(job, t);
        }
    }

    private void loop() {
        while (!stopping) {
            try {
                if (active.isEmpty()) {
                    Ready r = ready.poll(50, TimeUnit.MILLISECONDS);
                    if (r != null) admit(r);
                }
                while (active.size() < maxBatch) {
                    Ready r = ready.poll();
                    if (r == null) break;
                    admit(r);
                }
                dropFinishedOrExpired();
                if (active.isEmpty()) { activeCount.set(0); activeJobs.set(0); activeBytes.set(0); continue; } // dropped jobs free their bytes
                maxActiveSeen.accumulateAndGet(active.size(), Math::max);
                step();
                long bytes = 0;
                for (Active a : active) bytes += a.seq.state().bytes();
                activeBytes.set(bytes);
                activeCount.set(active.size());
                java.util.Set<Group> groups = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
                for (Active a : active) groups.add(a.group);
                activeJobs.set(groups.size());
                steps.incrementAndGet();
            } catch (InterruptedException e) {
                break;
            } catch (Throwable t) {
                // never let one failure stop the loop: fail what was running and go on serving
                for (Active a : active) { error(a, map(t)); done(a); }
                active.clear();
                activeCount.set(0);
                activeJobs.set(0);
            }
        }
        // thread ending: nobody will serve what is left
        for (Active a : active) { error(a, shutdown()); done(a); }
        active.clear();
        activeCount.set(0);
        preparer.shutdownNow();
        for (Ready r; (r = ready.poll()) != null; ) { r.job.sink.onError(shutdown()); release(); }
    }

    /** One forward step over every active sequence: generating ones decode a token, prefilling ones a chunk. */
    private void step() {
        boolean generating = false;
        for (Active a : active) if (a.seq.promptRemaining() == 0) { generating = true; break; }
        int budget = generating ? prefillChunk : SOLO_CHUNK;
        List<Step> steps = new ArrayList<>(active.size());
        List<Active> stepping = new ArrayList<>(active.size());
        for (Active a : active) {
            if (a.seq.promptRemaining() > 0) {
                if (budget <= 0) continue;
                Step s = a.seq.nextStep(budget);
                budget -= s.rows();
                steps.add(s);
            } else steps.add(a.seq.nextStep(1));
            stepping.add(a);
        }
        float[][] logits = model.step(steps);
        for (int i = 0; i < stepping.size(); i++) {
            Active a = stepping.get(i);
            try {
                a.seq.accept(logits[i]);
            } catch (RuntimeException e) {
                a.seq.cancel();
                error(a, internal(e));
                finishQuietly(a);
            }
        }
        long now = System.nanoTime();
        for (Active a : stepping) {
            int g = a.seq.generated();
            if (g == a.mark[0]) continue;
            if (a.mark[0] == 0) metrics.ttft.observeNanos(now - a.job.createdNanos);
            else metrics.interToken.observeNanos(now - a.mark[1]);
            a.mark[0] = g;
            a.mark[1] = now;
        }
        for (Active a : stepping)
            if (!a.group.spawned && !a.group.failed && !a.job.cancelled() && a.seq.promptRemaining() == 0) spawnSiblings(a);
        for (int i = 0; i < active.size(); ) {
            Active a = active.get(i);
            if (!a.seq.finished()) { i++; continue; }
            active.remove(i);
            if (a.seq.finish() != Sequence.Finish.CANCELLED) {
                Sequence.Result r = a.seq.result();
                String reason = r.finish() == Sequence.Finish.STOP ? "stop" : "length";
                if (a.index == 0) metrics.promptTokens.addAndGet(r.promptTokens());
                metrics.completionTokens.addAndGet(r.ids().length);
                if (!a.group.failed)
                    a.job.sink.onFinish(new Completion(r.text(), reason, r.promptTokens(), r.ids().length, r.reusedTokens(), r.logprobs(), a.index, r.rawText()));
            }
            prefixes.offer(a.seq.state());
            done(a);
        }
    }

    /** n > 1: the leader's prompt is prefilled; its KV prefix seeds choices 1..n-1 (seeds seed + index). */
    private void spawnSiblings(Active leader) {
        Group g = leader.group;
        g.spawned = true;
        try {
            GenerationConfig c = g.config;
            for (int i = 1; i < g.job.n; i++) {
                GenerationConfig ci = c.withSampling(c.doSample(), c.temperature(), c.topP(), c.topK(), c.seed() + i);
                Sequence sib = leader.seq.sibling(ci, listener(g.job, i));
                active.add(new Active(g.job, sib, i, g));
            }
        } catch (Throwable t) {
            int spawned = 0;
            for (Active a : active) if (a.group == g) spawned++;
            g.open = spawned; // the choices never started are closed here; the started ones end with the job
            error(leader, map(t));
            g.job.cancel();
        }
        activeCount.set(active.size());
    }

    /** The job's error, answered once for all its choices. */
    private void error(Active a, ApiException e) {
        if (a.group.failed) return;
        a.group.failed = true;
        a.job.sink.onError(e);
    }

    /** A sequence left the batch; the job's slot is freed when its last choice has (unspawned ones count as closed). */
    private void done(Active a) {
        Group g = a.group;
        if (a.index == 0 && !g.spawned) { g.spawned = true; g.open -= g.job.n - 1; }
        if (--g.open == 0) release();
    }

    private Sequence.Listener listener(Job job, int index) {
        return new Sequence.Listener() {
            @Override public void onText(String text) { onText(text, List.of()); }
            @Override public void onText(String text, List<TokenLogprob> lp) { if (!job.cancelled()) job.sink.onText(index, text, lp); }
            @Override public boolean cancelled() { return job.cancelled(); }
        };
    }

    private void finishQuietly(Active a) { if (!a.seq.finished()) a.seq.cancel(); }

    private void dropFinishedOrExpired() {
        for (int i = 0; i < active.size(); ) {
            Active a = active.get(i);
            boolean drop = false;
            if (a.job.cancelled()) drop = true;
            else if (System.nanoTime() - a.job.deadlineNanos > 0) {
                error(a, new ApiException(504, "timeout", null, "request_timeout",
                        "the request exceeded the server's time limit after " + a.seq.generated() + " tokens", 0));
                drop = true;
            }
            if (drop) {
                active.remove(i);
                done(a);
            } else i++;
        }
    }

    /** Starts a prepared job from the longest cached prefix of its prompt. */
    private void admit(Ready r) {
        if (r.job.cancelled()) { release(); return; }
        try {
            InferenceState state = prefixes.acquire(model, r.prompt, 16);
            Sequence seq = new Sequence(model, r.prompt, r.config, state, listener(r.job, 0));
            if (r.constraint != null) seq.constrain(r.constraint);
            Active a = new Active(r.job, seq, 0, new Group(r.job, r.config));
            if (seq.finished()) { // max_tokens 0
                Sequence.Result res = seq.result();
                for (int i = 0; i < r.job.n; i++)
                    r.job.sink.onFinish(new Completion(res.text(), "length", res.promptTokens(), 0, res.reusedTokens(), res.logprobs(), i, res.rawText()));
                release();
                return;
            }
            active.add(a);
            activeCount.set(active.size());
        } catch (Throwable t) {
            fail(r.job, t);
        }
    }

    /** Answers a job's failure (4xx for input the model cannot run, 5xx for faults, no internals) and frees its slot. */
    private void fail(Job job, Throwable t) {
        try {
            job.sink.onError(map(t));
        } finally {
            release();
        }
    }

    static ApiException map(Throwable t) {
        return switch (t) {
            case ApiException e -> e;
            case ContextLimitException e -> ApiException.invalid("messages", "context_length_exceeded", e.getMessage());
            // input this model (or this build of its family) cannot run, e.g. a media kind
            case UnsupportedOperationException e -> ApiException.invalid("messages", "unsupported_input", e.getMessage());
            // families reject input they cannot run (too many image tiles, a bad image) this way
            case IllegalArgumentException e -> ApiException.invalid("messages", e.getMessage());
            case OutOfMemoryError e -> new ApiException(503, "server_error", null, "out_of_memory",
                    "the server ran out of memory for this request; retry with smaller inputs", 1);
            default -> internal(t);
        };
    }

    private void release() {
        inFlight.decrementAndGet();
        completed.incrementAndGet();
    }

    private static ApiException internal(Throwable t) {
        return new ApiException(500, "server_error", null, null, "internal error (" + t.getClass().getSimpleName() + ")", 0);
    }

    private static ApiException shutdown() {
        return new ApiException(503, "server_error", null, "shutting_down", "the server shut down before the request finished", 0);
    }

    /**
     * Stops accepting, lets in-flight requests finish for up to {@code grace}, then cancels what remains
     * (their clients get a 503 error) and ends the scheduler thread.
     */
    public void shutdown(Duration grace) {
        accepting = false;
        long end = System.nanoTime() + grace.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < end) {
            try { Thread.sleep(20); } catch (InterruptedException e) { Thread.currentThread().interrupt(); break; }
        }
        stopping = true; // the loop notices within one step (or 50 ms when idle)
        try { thread.join(10_000); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        preparer.shutdownNow();
    }

    @Override
    public void close() { shutdown(Duration.ZERO); }

    @Override
    public String toString() {
        return "Scheduler[active=" + active() + ", inFlight=" + inFlight() + ", steps=" + steps.get() + "]";
    }
}
