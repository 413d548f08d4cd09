package dev.navil4j;

import dev.navil4j.chat.Conversation;
import dev.navil4j.models.InferenceState;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A multi-turn conversation with a {@link ChatModel}: every question is answered in the context of the
 * earlier ones (and their images), exactly as the reference {@code chat(..., history=...)} does. Each
 * answered turn is added to the history with its cleaned answer; a cancelled one is not.
 * <p>Four ways to ask, all with the same result: {@link #ask} blocks and returns the {@link Response};
 * {@link #stream} also hands each new piece of text to a callback as it is generated; {@link #tokens}
 * returns an {@link java.util.Iterator} over the pieces; {@link #publisher} a {@link Flow.Publisher}.
 * Pieces never split a UTF-8 character, and their concatenation is {@link Response#rawText()} (the answer
 * before the family's cleanup such as {@code strip()}; wrap the callback with {@link ChatModel#cleanStream}
 * to stream exactly {@link Response#text()}).
 * <p><b>Not thread-safe:</b> use a session from one thread at a time; a call while another request of the
 * same session is running throws {@link IllegalStateException}. Sessions of one model may run in parallel.
 */
public final class ChatSession {
    private final ChatModel model;
    private final String system;
    private final List<Conversation.Turn> turns = new ArrayList<>();
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile RequestOptions options = RequestOptions.defaults();
    private volatile Response last;
    /** The KV cache of the last turn (prompt + answer), whose shared prefix the next turn reuses; null = none. */
    private InferenceState state;

    ChatSession(ChatModel model, String system, List<Conversation.Turn> history) {
        this.model = model;
        this.system = system;
        for (Conversation.Turn t : history)
            turns.add(new Conversation.Turn(t.user(), t.media() == null ? List.of() : List.copyOf(t.media()), t.assistant()));
    }

    /** The model this session talks to. */
    public ChatModel model() { return model; }

    /** The system message (null = the family's default). */
    public String system() { return system; }

    /** The answered turns so far, oldest first (user text, media, cleaned answer). */
    public List<Conversation.Turn> history() { return List.copyOf(turns); }

    /** The response of the last finished request, or null. */
    public Response lastResponse() { return last; }

    /** Settings applied to every request of this session (a request's own options override them). */
    public RequestOptions options() { return options; }

    /** Sets the settings applied to every request of this session. */
    public ChatSession options(RequestOptions o) {
        options = o == null ? RequestOptions.defaults() : o;
        return this;
    }

    /** Forgets the history, including any it started with (the system message and the session options stay). */
    public void reset() {
        acquire();
        try {
            turns.clear();
            last = null;
            state = null;
        } finally {
            busy.set(false);
        }
    }

    /** Asks a question with optional images/videos and waits for the whole answer. */
    public Response ask(String text, Conversation.Media... media) { return ask(Request.of(text, media)); }

    /** Asks a question and waits for the whole answer. */
    public Response ask(Request request) { return stream(request, null); }

    /** Asks a question, handing each new piece of the answer to {@code onText} as it is generated. */
    public Response stream(String text, Consumer<String> onText, Conversation.Media... media) {
        return stream(Request.of(text, media), onText);
    }

    /**
     * Asks a question, handing each new piece of the answer to {@code onText} (on this thread) as it is
     * generated; returns when generation ends. An exception thrown by {@code onText} aborts generation and
     * propagates.
     */
    public Response stream(Request request, Consumer<String> onText) {
        acquire();
        try {
            return run(request, onText, null);
        } finally {
            busy.set(false);
        }
    }

    /** Asks a question and returns an iterator over the pieces of the answer (generation runs in the background). */
    public TokenStream tokens(String text, Conversation.Media... media) { return tokens(Request.of(text, media)); }

    /**
     * Asks a question; generation runs on a background thread and the returned iterator yields each piece
     * of text as soon as it is generated. Close it to stop generation early; {@link TokenStream#response()}
     * gives the final {@link Response}. The session is busy until generation ends.
     */
    public TokenStream tokens(Request request) {
        if (request == null) throw new IllegalArgumentException("request is null");
        acquire();
        try {
            return new TokenStream(this, request);
        } catch (RuntimeException | Error e) {
            busy.set(false);
            throw e;
        }
    }

    /** A publisher of the pieces of the answer; see {@link #publisher(Request)}. */
    public Flow.Publisher<String> publisher(String text, Conversation.Media... media) { return publisher(Request.of(text, media)); }

    /**
     * A single-use {@link Flow.Publisher} of the pieces of the answer: generation starts when it is
     * subscribed, runs on a background thread, and pieces are delivered as the subscriber requests them
     * (they are buffered meanwhile). Cancelling the subscription stops generation. A second subscriber
     * gets {@code onError(IllegalStateException)}; so does a subscriber while the session is busy.
     */
    public Flow.Publisher<String> publisher(Request request) {
        if (request == null) throw new IllegalArgumentException("request is null");
        return new StreamPublisher(this, request);
    }

    /** Runs one request on the calling thread; the caller holds the session. */
    Response run(Request request, Consumer<String> onText, BooleanSupplier cancelled) {
        Response r;
        try {
            r = model.generate(system, turns, request, options, onText, cancelled, state == null ? state = model.newState() : state);
        } catch (RuntimeException | Error e) {
            state = null; // a failed step may leave the cache in any state: start the next turn afresh
            throw e;
        }
        if (r.finish() != Response.Finish.CANCELLED) turns.add(new Conversation.Turn(request.text(), request.media(), r.text()));
        last = r;
        return r;
    }

    void acquire() {
        model.ensureOpen();
        if (!busy.compareAndSet(false, true))
            throw new IllegalStateException("this chat session is already answering a question; a session is used by one thread at a time");
    }

    boolean tryAcquire() { return busy.compareAndSet(false, true); }

    void release() { busy.set(false); }
}
