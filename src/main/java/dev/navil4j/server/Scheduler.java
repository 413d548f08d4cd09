package dev.navil4j.server;

import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.GenerationConfig;
import dev.navil4j.generate.Sampler;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.tokenizer.IncrementalDecoder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Continuous batching over one shared model. A single platform thread owns every sequence: between two
 * decode steps it admits waiting requests (prepare + prefill, each with its own {@link InferenceState}),
 * then advances every active sequence by one token. Requests therefore join and leave the running batch
 * at token granularity instead of waiting for each other. The model's kernels fan out to the engine's
 * compute pool from this thread; request I/O threads only submit jobs and read their events.
 * <p>Admission is bounded: at most {@code maxBatch} active plus {@code maxQueue} waiting; beyond that
 * {@link #submit} answers 429. A job is dropped (and its KV cache released) as soon as it is cancelled,
 * its client disconnects, or its deadline passes.
 */
public final class Scheduler implements AutoCloseable {
    /** Receives a job's output on the scheduler thread; implementations must not block. */
    public interface Sink {
        void onText(String delta);

        void onFinish(Completion completion);

        void onError(ApiException error);
    }

    /** @param finishReason "stop", "length" (OpenAI's values), or "cancelled"/"timeout" */
    public record Completion(String text, String finishReason, int promptTokens, int completionTokens) {}

    /** One request: what to generate and where its output goes. {@code maxTokens} -1 = server default. */
    public static final class Job {
        final Conversation conversation;
        final int maxTokens;
        final Function<GenerationConfig, GenerationConfig> sampling;
        final List<String> stop;
        final Sink sink;
        final long deadlineNanos;
        private volatile boolean cancelled;

        public Job(Conversation conversation, int maxTokens, Function<GenerationConfig, GenerationConfig> sampling,
                   List<String> stop, Duration timeout, Sink sink) {
            this.conversation = conversation;
            this.maxTokens = maxTokens;
            this.sampling = sampling;
            this.stop = stop;
            this.sink = sink;
            this.deadlineNanos = System.nanoTime() + timeout.toNanos();
        }

        /** Stops the job at the next step (client gone); its sink gets no further calls. */
        public void cancel() { cancelled = true; }

        public boolean cancelled() { return cancelled; }
    }

    /** A job being decoded: its KV cache, sampler and streaming state. */
    private final class Sequence {
        final Job job;
        final InferenceState state;
        final GenerationConfig config;
        final Sampler sampler;
        final IncrementalDecoder decoder;
        final StopMatcher stops;
        final StringBuilder text = new StringBuilder();
        final int promptTokens;
        final int[] seen;
        int seenCount, generated;
        float[] logits;

        Sequence(Job job, PreparedPrompt prompt, GenerationConfig config) {
            this.job = job;
            this.config = config;
            this.promptTokens = prompt.ids().length;
            this.sampler = new Sampler(config);
            this.decoder = model.tokenizer().incrementalDecoder(true);
            this.stops = new StopMatcher(job.stop);
            // ids the repetition penalty covers, as the engine's Generator keeps them
            this.seen = new int[(config.penalizePrompt() ? promptTokens : 0) + config.maxNewTokens() + 1];
            if (config.penalizePrompt()) for (int id : prompt.ids()) if (id >= 0) seen[seenCount++] = id;
            this.state = model.newState();
            this.logits = model.prefill(state, prompt);
        }

        /** Samples one token and feeds it back; returns false when the sequence is finished. */
        boolean step() {
            int next = sampler.next(logits, seen, seenCount);
            seen[seenCount++] = next;
            generated++;
            emit(stops.push(decoder.push(next)));
            if (stops.stopped()) return finish("stop");
            if (config.stopIds().contains(next)) return finish("stop");
            if (generated >= config.maxNewTokens()) return finish("length");
            logits = model.decode(state, next);
            return true;
        }

        private void emit(String s) {
            if (s.isEmpty()) return;
            text.append(s);
            job.sink.onText(s);
        }

        private boolean finish(String reason) {
            if (!stops.stopped()) emit(stops.push(decoder.finish()));
            if (!stops.stopped()) emit(stops.flush());
            job.sink.onFinish(new Completion(model.cleanResponse(text.toString()), reason, promptTokens, generated));
            return false;
        }
    }

    private final VisionLanguageModel model;
    private final int maxBatch, capacity, defaultMaxTokens;
    private final LinkedBlockingQueue<Job> waiting = new LinkedBlockingQueue<>();
    private final List<Sequence> active = new ArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger activeCount = new AtomicInteger();
    private final AtomicLong activeBytes = new AtomicLong();
    private final AtomicLong completed = new AtomicLong(), steps = new AtomicLong();
    private final AtomicInteger maxActiveSeen = new AtomicInteger();
    private final Thread thread;
    private volatile boolean accepting = true, stopping;

    public Scheduler(VisionLanguageModel model, int maxBatch, int maxQueue, int defaultMaxTokens) {
        this.model = model;
        this.maxBatch = maxBatch;
        this.capacity = maxBatch + maxQueue;
        this.defaultMaxTokens = defaultMaxTokens;
        // a platform thread: the loop is pure compute and must not sit on a virtual thread's carrier
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
        waiting.add(job);
    }

    /** Requests decoding now. */
    public int active() { return activeCount.get(); }

    /** Requests submitted and not yet finished (active + waiting). */
    public int inFlight() { return inFlight.get(); }

    /** KV-cache bytes held by active sequences after the last step. */
    public long activeBytes() { return activeBytes.get(); }

    public long completed() { return completed.get(); }

    /** Largest number of sequences decoded in one step so far (shows that batching happened). */
    public int maxActiveSeen() { return maxActiveSeen.get(); }

    private void loop() {
        while (true) {
            try {
                if (stopping) break;
                if (active.isEmpty()) {
                    Job j = waiting.poll(50, TimeUnit.MILLISECONDS);
                    if (j != null) admit(j);
                }
                while (active.size() < maxBatch) {
                    Job j = waiting.poll();
                    if (j == null) break;
                    admit(j);
                }
                if (active.isEmpty()) continue;
                maxActiveSeen.accumulateAndGet(active.size(), Math::max);
                long bytes = 0;
                for (int i = 0; i < active.size(); ) {
                    Sequence s = active.get(i);
                    boolean keep;
                    if (s.job.cancelled()) keep = false;
                    else if (System.nanoTime() - s.job.deadlineNanos > 0) {
                        s.job.sink.onError(new ApiException(504, "timeout", null, "request_timeout",
                                "the request exceeded the server's time limit after " + s.generated + " tokens", 0));
                        keep = false;
                    } else keep = step(s);
                    if (keep) { bytes += s.state.bytes(); i++; }
                    else { active.remove(i); release(); }
                }
                activeBytes.set(bytes);
                activeCount.set(active.size());
                steps.incrementAndGet();
            } catch (InterruptedException e) {
                break;
            } catch (Throwable t) {
                // never let one failure stop the loop: fail every active sequence and go on serving
                for (Sequence s : active) { s.job.sink.onError(internal(t)); release(); }
                active.clear();
                activeCount.set(0);
            }
        }
        // thread ending: nobody will serve what is left
        for (Sequence s : active) { s.job.sink.onError(shutdown()); release(); }
        active.clear();
        activeCount.set(0);
        for (Job j; (j = waiting.poll()) != null; ) { j.sink.onError(shutdown()); release(); }
    }

    private boolean step(Sequence s) {
        try {
            return s.step();
        } catch (RuntimeException e) {
            s.job.sink.onError(internal(e));
            return false;
        }
    }

    private void release() {
        inFlight.decrementAndGet();
        completed.incrementAndGet();
    }

    /** Prepare and prefill a waiting job; bad input fails the job with a 400, never the loop. */
    private void admit(Job job) {
        if (job.cancelled()) { release(); return; }
        try {
            PreparedPrompt prompt = model.prepare(job.conversation);
            GenerationConfig config = job.sampling.apply(model.defaultGeneration());
            int promptLen = prompt.ids().length;
            int room = model.maxContext() - promptLen;
            int max;
            if (job.maxTokens > 0) {
                if (job.maxTokens > room)
                    throw ApiException.invalid("messages", "context_length_exceeded", "this model's context is "
                            + model.maxContext() + " tokens; the prompt has " + promptLen + " tokens and "
                            + job.maxTokens + " completion tokens were requested");
                max = job.maxTokens;
            } else {
                if (room < 1) throw ApiException.invalid("messages", "context_length_exceeded", "this model's context is "
                        + model.maxContext() + " tokens and the prompt has " + promptLen + " tokens");
                max = Math.min(defaultMaxTokens, room);
            }
            active.add(new Sequence(job, prompt, config.withMaxNewTokens(max)));
            activeCount.set(active.size());
        } catch (ApiException e) {
            job.sink.onError(e);
            release();
        } catch (UnsupportedOperationException e) {
            // input this model (or this build of its family) cannot run, e.g. a media kind
            job.sink.onError(ApiException.invalid("messages", "unsupported_input", e.getMessage()));
            release();
        } catch (IllegalArgumentException e) {
            // families reject input they cannot run (too many image tiles, a prompt too long) this way
            job.sink.onError(ApiException.invalid("messages", e.getMessage()));
            release();
        } catch (RuntimeException e) {
            job.sink.onError(internal(e));
            release();
        }
    }

    private static ApiException internal(Throwable t) {
        return new ApiException(500, "server_error", null, null, "internal error: " + t, 0);
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
    }

    @Override
    public void close() { shutdown(Duration.ZERO); }

    @Override
    public String toString() {
        return "Scheduler[active=" + active() + ", inFlight=" + inFlight() + ", steps=" + steps.get() + "]";
    }
}
