package dev.navil4j;

import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Batch;
import dev.navil4j.generate.ContextLimitException;
import dev.navil4j.generate.Generator;
import dev.navil4j.generate.Sequence;
import dev.navil4j.models.InferenceState;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A loaded multimodal model, ready to chat. Open conversations with {@link #newSession()}; answer many
 * independent questions with {@link #batch(List)}.
 * <p><b>Thread-safety:</b> a {@code ChatModel} is immutable after loading and may be shared by any number
 * of threads; every request gets its own KV cache. A {@link ChatSession} is not thread-safe: use each
 * session from one thread at a time (a concurrent call is rejected with {@link IllegalStateException}).
 * <p>{@link #close()} releases the memory-mapped weights; no request may run during or after it.
 */
public final class ChatModel implements AutoCloseable {
    private final VisionLanguageModel model;
    private final long loadNanos;
    private final boolean stripsWhitespace;
    private volatile boolean closed;

    ChatModel(VisionLanguageModel model, long loadNanos) {
        this.model = model;
        this.loadNanos = loadNanos;
        // whether the family's chat() cleanup is strip() (InternVL3, NaViL) or the text as is (VoRA)
        this.stripsWhitespace = "a b".equals(model.cleanResponse(" \n a b \t "));
    }

    /** The family name ("internvl3", "vora", "navil"). */
    public String family() { return model.family(); }

    /** Longest sequence (prompt + generated tokens) the model accepts. */
    public int maxContext() { return model.maxContext(); }

    /** Time {@link Navil4j#load} took, in nanoseconds (0 for a wrapped model). */
    public long loadNanos() { return loadNanos; }

    /** The engine-level model, for what this API does not cover (e.g. raw logits). */
    public VisionLanguageModel model() { return model; }

    /**
     * Wraps a streaming callback so that it receives exactly {@link Response#text()} instead of
     * {@link Response#rawText()}: for a family whose cleanup is Python's {@code strip()} (InternVL3, NaViL) the
     * pieces go through {@link Stripping}; for one that uses the decoded text as is (VoRA) they pass unchanged.
     * The family's cleanup is recognised by what it does to a probe string; a cleanup that also cuts at a stop
     * string that appears as plain text cannot be undone in a stream, so that (rare) tail may still be streamed.
     */
    public Consumer<String> cleanStream(Consumer<String> downstream) {
        if (downstream == null) throw new IllegalArgumentException("downstream is null");
        return stripsWhitespace ? Stripping.of(downstream) : downstream;
    }

    /** A new conversation with the family's default system message. */
    public ChatSession newSession() { return newSession(null); }

    /** A new conversation with this system message (null = the family's default). */
    public ChatSession newSession(String systemMessage) {
        return newSession(systemMessage, List.of());
    }

    /**
     * A conversation that continues an earlier one (e.g. restored from storage): {@code history} holds answered
     * turns, oldest first, each with the user text, its media and the answer, as the reference {@code chat()}
     * takes {@code history}.
     */
    public ChatSession newSession(String systemMessage, List<Conversation.Turn> history) {
        ensureOpen();
        if (history == null) throw new IllegalArgumentException("history is null (use an empty list)");
        for (int i = 0; i < history.size(); i++) {
            Conversation.Turn t = history.get(i);
            if (t == null || t.user() == null || t.assistant() == null)
                throw new IllegalArgumentException("history turn " + (i + 1) + " needs a user text and an answer");
        }
        return new ChatSession(this, systemMessage, history);
    }

    /**
     * Answers independent single-turn questions with the family's default system message, in order. The rows are
     * generated together as one batch (every decode step runs all unfinished rows through the model at once, so
     * the weights are read once per step), and each row's answer is the one it gets alone in a fresh session
     * (the reference {@code batch_chat()} guarantees the same). A row's {@link RequestOptions#withProgress} listener
     * gets that row's events (MEDIA_DECODE and VISION_ENCODE while it is prepared, PREFILL while the batch runs).
     */
    public List<Response> batch(List<Request> rows) { return batch(null, rows); }

    /** {@link #batch(List)} with a system message (null = the family's default). */
    public List<Response> batch(String systemMessage, List<Request> rows) {
        ensureOpen();
        if (rows == null) throw new IllegalArgumentException("batch rows are null");
        List<Planned> plans = new ArrayList<>(rows.size());
        for (Request r : rows) plans.add(plan(systemMessage, List.of(), r, RequestOptions.defaults(), null));
        List<Sequence> seqs = new ArrayList<>();
        for (Planned p : plans) seqs.add(new Sequence(model, p.prompt, p.config, model.newState(), null));
        List<ProgressListener> progress = new ArrayList<>();
        for (Planned p : plans) progress.add(p.progress);
        Batch.run(model, seqs, Batch.DEFAULT_CHUNK, progress);  // each row's PREFILL to its own request's listener
        List<Response> out = new ArrayList<>(rows.size());
        for (int i = 0; i < plans.size(); i++) out.add(plans.get(i).response(seqs.get(i).result()));
        return out;
    }

    /** A prepared request: the prompt, the generation config fitted to the context, and how long preparing took. */
    private record Planned(PreparedPrompt prompt, GenerationConfig config, long prepareNanos, ProgressListener progress) {
        Response response(Sequence.Result r) {
            Response.Finish finish = switch (r.finish()) {
                case STOP -> Response.Finish.STOP;
                case LENGTH -> Response.Finish.LENGTH;
                case CANCELLED -> Response.Finish.CANCELLED;
            };
            return new Response(r.text(), r.rawText(), r.ids(), finish, r.promptTokens(), prompt.mediaTokens(), prepareNanos,
                    r.prefillNanos(), r.decodeNanos(), r.reusedTokens());
        }
    }

    /** Template, media encoding, the media budget and the context rule (all before anything is generated). */
    private Planned plan(String system, List<Conversation.Turn> history, Request request, RequestOptions sessionOptions,
                         List<String> extraStops) {
        if (request == null) throw new IllegalArgumentException("request is null");
        RequestOptions o = sessionOptions.overriddenBy(request.options());
        List<Conversation.Turn> turns = new ArrayList<>(history);
        turns.add(new Conversation.Turn(request.text(), request.media(), null));
        Conversation conversation = new Conversation(system, turns, o.limits()).withProgress(o.progress());

        long t0 = System.nanoTime();
        PreparedPrompt prompt = model.prepare(conversation);
        long prepareNanos = System.nanoTime() - t0;

        int n = prompt.length(), ctx = model.maxContext();
        int budget = o.limits().maxMediaTokens();
        if (budget > 0 && prompt.mediaTokens() > budget)
            throw new PromptTooLongException("the media of this prompt take " + prompt.mediaTokens()
                    + " tokens, over the budget of " + budget + " (attach fewer images or frames, or lower max tiles)",
                    prompt.mediaTokens(), budget);
        GenerationConfig config = o.applyTo(model.defaultGeneration());
        try {
            config = config.withMaxNewTokens(ContextLimitException.fitNewTokens(n, config.maxNewTokens(), ctx, false));
        } catch (ContextLimitException e) { // the engine's one context rule, as the API's exception type
            throw new PromptTooLongException(e.getMessage() + " (" + prompt.mediaTokens() + " of the prompt's tokens are from images/video)",
                    e.tokens(), e.limit());
        }
        return new Planned(prompt, config, prepareNanos, ProgressListener.orNone(o.progress()));
    }

    /**
     * One request over a conversation: prepare (template, media encoding), context checks, generation.
     * {@code onText} receives the streamed text (may be null); {@code cancelled} is polled before each token.
     * {@code state} holds the KV cache of the conversation's previous turn (or is null): the longest prefix it shares
     * with the new prompt is kept and only the rest is prefilled; on return it holds this turn.
     */
    Response generate(String system, List<Conversation.Turn> history, Request request, RequestOptions sessionOptions,
                      Consumer<String> onText, BooleanSupplier cancelled, InferenceState state) {
        ensureOpen();
        Planned p = plan(system, history, request, sessionOptions, null);
        if (state == null) state = model.newState();
        else state.truncate(state.reusablePrefix(p.prompt, p.prompt.cacheKeys(model.flags()), model.flags()));
        Sequence.Listener listener = onText == null && cancelled == null ? null : new Sequence.Listener() {
            @Override
            public void onText(String text) { if (onText != null) onText.accept(text); }

            @Override
            public boolean cancelled() { return cancelled != null && cancelled.getAsBoolean(); }
        };
        return p.response(Generator.generate(model, p.prompt, p.config, state, listener, p.progress));
    }

    /** A fresh sequence state for a session. */
    InferenceState newState() { return model.newState(); }

    void ensureOpen() {
        if (closed) throw new IllegalStateException("the model is closed");
    }

    /** Releases the model (memory-mapped weights); idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        model.close();
    }
}
