package dev.navil4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.RequestOptions;
import dev.navil4j.generate.TokenLogprob;
import dev.navil4j.Media;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.video.VideoReader;
import io.javalin.Javalin;
import io.javalin.http.Context;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The OpenAI-compatible HTTP API over one model: {@code POST /v1/chat/completions} (plain and SSE
 * streaming), {@code GET /v1/models}, {@code GET /health}. Jetty runs each request on a virtual thread,
 * which only parses, waits and writes; image decoding runs on a small platform pool and all model work
 * on the {@link Scheduler}'s platform thread (virtual threads are not time-sliced, so CPU work on them
 * would stall every other request).
 */
public final class OpenAiServer implements AutoCloseable {
    private final VisionLanguageModel model;
    private final ServerOptions options;
    private final Scheduler scheduler;
    private final ImageInput images;
    private final ExecutorService imageDecoders;
    private final ObjectMapper json;
    private final Javalin app;
    private final DisconnectWatcher disconnects = new DisconnectWatcher();
    private final SlowReadGuard slowReads;
    private final long created = System.currentTimeMillis() / 1000;
    private volatile boolean closing;
    private final java.util.concurrent.atomic.AtomicInteger openChats = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Pending-connection backlog of the listening socket. Jetty's default (0) leaves the JDK's 50: a burst of a
     * few hundred clients connecting at once overflowed it, and some connections were then closed without a
     * reply (HostileInputTest's 200-request burst: 0–18 per run; with at most 32 in flight, none in 9 runs).
     */
    static final int ACCEPT_QUEUE = 1024;

    private OpenAiServer(VisionLanguageModel model, ServerOptions options, String host, int port, ImageInput images) {
        this.model = model;
        this.options = options;
        this.scheduler = new Scheduler(model, options.maxBatch(), options.maxQueue(), options.defaultMaxTokens());
        this.images = images;
        this.imageDecoders = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "navil4j-image");
            t.setDaemon(true);
            return t;
        });
        this.json = new ObjectMapper();
        this.slowReads = new SlowReadGuard(options.readTimeout());
        // a data: URI is one long string; deep nesting is only ever an attack
        json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength((int) Math.min(Integer.MAX_VALUE, options.maxRequestBytes())).maxNestingDepth(64).build());
        this.app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.startupWatcherEnabled = false;
            cfg.useVirtualThreads = true;
            cfg.http.maxRequestSize = options.maxRequestBytes();
            cfg.http.prefer405over404 = true;
            cfg.http.disableCompression(); // SSE chunks must reach the client as they are written
            // access log + request counter: one line per request, never the body (prompts stay out of logs)
            cfg.requestLogger.http((ctx, ms) -> {
                String route = route(ctx.path());
                scheduler.metrics().request(route, ctx.statusCode());
                if (ACCESS_LOG)
                    System.err.println("navil4j: access " + java.time.Instant.now() + " " + ctx.ip() + " " + ctx.method() + " "
                            + route + " " + ctx.statusCode() + " " + Math.round(ms) + "ms");
            });
            cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler())); // Jetty's refusals in OpenAI's shape
            cfg.jetty.addConnector((server, httpConfig) -> {
                org.eclipse.jetty.server.ServerConnector c = new org.eclipse.jetty.server.ServerConnector(server,
                        new org.eclipse.jetty.server.HttpConnectionFactory(httpConfig));
                c.setHost(host);
                c.setPort(port);
                c.setAcceptQueueSize(ACCEPT_QUEUE);
                c.addBean(slowReads); // a Connection.Listener: sees every connection open and close
                return c;
            });
        });
        AccessControl access = new AccessControl(options.access(), host);
        app.before(ctx -> {
            access.check(ctx);
            // CORS preflight: answered here (no OPTIONS routes, which would turn unknown paths' 404 into 405)
            if (ctx.method().name().equals("OPTIONS")) {
                access.preflight(ctx);
                ctx.skipRemainingHandlers();
            }
        });
        app.get("/health", this::health);
        app.get("/v1/models", this::models);
        app.get("/metrics", this::metrics);
        app.get("/v1/models/{id}", this::model);
        app.post("/v1/chat/completions", this::chat);
        app.post("/v1/completions", this::textCompletion);
        app.exception(ApiException.class, (e, ctx) -> error(ctx, e));
        // a server fault: the client gets no internals (exception text can hold paths and library details); the log has them
        app.exception(Exception.class, (e, ctx) -> {
            System.err.println("navil4j: internal error on " + ctx.method() + " " + ctx.path() + ": " + e);
            error(ctx, new ApiException(500, "server_error", null, null, "internal server error", 0));
        });
        // Javalin calls these after a handler too: keep an error the handler already answered
        app.error(404, ctx -> { if (ctx.attribute("navil4j.error") == null) error(ctx, new ApiException(404,
                "invalid_request_error", null, "not_found", "no route " + ctx.method() + " " + ctx.path(), 0)); });
        app.error(405, ctx -> { if (ctx.attribute("navil4j.error") == null) error(ctx, new ApiException(405,
                "invalid_request_error", null, "method_not_allowed", "method " + ctx.method() + " not allowed on " + ctx.path(), 0)); });
    }

    /** Starts serving on host:port (port 0 = any free port). */
    public static OpenAiServer start(VisionLanguageModel model, ServerOptions options, String host, int port) {
        removeStaleVideoFiles(Path.of(System.getProperty("java.io.tmpdir")), java.time.Duration.ofHours(1));
        return start(model, options, host, port,
                new ImageInput(options.maxImageBytes(), options.maxImagePixels(), options.allowRemoteImages()));
    }

    /** With a given image fetcher (tests: one whose address policy admits a loopback test server). */
    static OpenAiServer start(VisionLanguageModel model, ServerOptions options, String host, int port, ImageInput images) {
        OpenAiServer s = new OpenAiServer(model, options, host, port, images);
        s.app.start(); // host and port are the connector's (above)
        return s;
    }

    public int port() { return app.port(); }

    public Scheduler scheduler() { return scheduler; }

    // ---- routes -------------------------------------------------------------------------------------

    /** The access log (stderr) is on unless {@code -Dnavil4j.accessLog=false}. */
    private static final boolean ACCESS_LOG = !"false".equals(System.getProperty("navil4j.accessLog"));

    /** The path as a bounded label: a known route, or "other" (unknown paths must not grow the metric set). */
    private static String route(String path) {
        if (path.startsWith("/v1/models/")) return "/v1/models/{id}";
        return switch (path) {
            case "/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/completions" -> path;
            default -> "other";
        };
    }

    /** Prometheus text format (version 0.0.4). */
    private void metrics(Context ctx) {
        Scheduler s = scheduler;
        var g = new Metrics.Gauges(Math.max(0, s.inFlight() - s.activeJobs()), s.active(), s.activeBytes(), s.prefixCache().bytes(),
                model.mediaCache().hits(), model.mediaCache().misses(), s.prefixCache().hits(), s.prefixCache().lookups(),
                s.prefixCache().reusedTokens());
        ctx.status(200);
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8");
        ctx.result(s.metrics().render(g));
    }

    private void health(Context ctx) {
        ObjectNode o = json.createObjectNode();
        o.put("status", closing ? "shutting_down" : "ok");
        o.put("model", options.modelId());
        o.put("active", scheduler.active());
        o.put("in_flight", scheduler.inFlight());
        o.put("kv_cache_bytes", scheduler.activeBytes());
        o.put("completed", scheduler.completed());
        ObjectNode media = o.putObject("media_cache");
        media.put("items", model.mediaCache().size());
        media.put("bytes", model.mediaCache().bytes());
        media.put("hits", model.mediaCache().hits());
        media.put("misses", model.mediaCache().misses());
        ObjectNode prefix = o.putObject("prefix_cache");
        prefix.put("entries", scheduler.prefixCache().size());
        prefix.put("bytes", scheduler.prefixCache().bytes());
        prefix.put("hits", scheduler.prefixCache().hits());
        prefix.put("lookups", scheduler.prefixCache().lookups());
        prefix.put("reused_tokens", scheduler.prefixCache().reusedTokens());
        send(ctx, closing ? 503 : 200, o);
    }

    private ObjectNode modelObject() {
        ObjectNode m = json.createObjectNode();
        m.put("id", options.modelId());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "navil4j");
        return m;
    }

    private void models(Context ctx) {
        ObjectNode o = json.createObjectNode();
        o.put("object", "list");
        o.putArray("data").add(modelObject());
        send(ctx, 200, o);
    }

    /** Whether a request's model name names the served model (its id or a configured alias). */
    private boolean serves(String name) {
        return options.modelId().equals(name) || options.access().modelAliases().contains(name);
    }

    private void model(Context ctx) {
        if (!serves(ctx.pathParam("id")))
            throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                    "the model '" + ctx.pathParam("id") + "' does not exist; this server runs '" + options.modelId() + "'", 0);
        send(ctx, 200, modelObject());
    }

    /** Events from the scheduler thread to the request's virtual thread. */
    private sealed interface Event permits Text, Done, Failed {}
    private record Text(int index, String delta, List<TokenLogprob> logprobs) implements Event {}
    private record Done(Scheduler.Completion completion) implements Event {}
    private record Failed(ApiException error) implements Event {}

    private void chat(Context ctx) throws Exception {
        openChats.incrementAndGet();
        try {
            chatRequest(ctx);
        } finally {
            openChats.decrementAndGet();
        }
    }

    private void chatRequest(Context ctx) throws Exception {
        if (closing) throw new ApiException(503, "server_error", null, "shutting_down", "the server is shutting down", 0);
        JsonNode body = readJson(ctx);
        checkModel(body);
        ChatRequest req = ChatRequest.parse(body, options.maxImages(), options.maxTiles(), new ChatRequest.ImageResolver() {
            public BufferedImage resolve(String url, String param) { return resolveImage(url, param); }

            public byte[] video(String url, String param) { return resolveVideo(url, param); }
        });
        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        // --allow-special-tokens: special-token text in messages is tokenized as control tokens (default: plain text)
        Scheduler.Job job = new Scheduler.Job(req.conversation().withSpecialTokens(options.access().allowSpecialTokens()), requestOptions(req),
                req.n(), options.requestTimeout(), sink(events));
        constrain(job, req);
        scheduler.submit(job);
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        long createdAt = System.currentTimeMillis() / 1000;
        try (DisconnectWatcher.Watch gone = watchClient(ctx, job, events)) {
            if (req.stream()) stream(ctx, req, job, events, id, createdAt);
            else complete(ctx, req, events, id, createdAt);
        } finally {
            job.cancel(); // no-op when finished; frees the sequence when the client went away
        }
    }

    /** response_format json_object / json_schema: every choice's tokens follow the grammar (constrained decoding). */
    private static void constrain(Scheduler.Job job, ChatRequest req) {
        if (req.structuredOutput() != null) job.constrain(dev.navil4j.generate.GrammarConstraint.factory(req.structuredOutput()));
    }

    /**
     * Cancels the job when its client closes the connection (a non-streamed answer would otherwise compute to its
     * last token for nobody) and wakes the request thread; 499 is the status nginx logs for a request its client closed.
     */
    private DisconnectWatcher.Watch watchClient(Context ctx, Scheduler.Job job, LinkedBlockingQueue<Event> events) {
        return disconnects.watch(ctx, () -> {
            job.cancel();
            events.add(new Failed(new ApiException(499, "invalid_request_error", null, "client_closed_request",
                    "the client closed the connection before the answer was complete", 0)));
        });
    }

    /** A job's events into the request thread's queue (text per choice, completion, error). */
    private static Scheduler.Sink sink(LinkedBlockingQueue<Event> events) {
        return new Scheduler.Sink() {
            public void onText(String delta) { events.add(new Text(0, delta, List.of())); }
            public void onText(int index, String delta, List<TokenLogprob> lp) { events.add(new Text(index, delta, lp)); }
            public void onFinish(Scheduler.Completion c) { events.add(new Done(c)); }
            public void onError(ApiException e) { events.add(new Failed(e)); }
        };
    }

    /** An absent model means the served one (as vLLM and llama.cpp do); a wrong name is a 404, before any media decode. */
    private void checkModel(JsonNode body) {
        JsonNode name = body == null ? null : body.get("model");
        if (name != null && name.isTextual() && !serves(name.asText()))
            throw new ApiException(404, "invalid_request_error", "model", "model_not_found", "the model '" + name.asText()
                    + "' does not exist; this server runs '" + options.modelId() + "'", 0);
    }

    /**
     * {@code POST /v1/completions}: the raw prompt tokenized as is (no chat template; special-token text in it is
     * matched, as vLLM does for completion prompts), the generated text uncleaned in {@code choices[].text}.
     */
    private void textCompletion(Context ctx) throws Exception {
        openChats.incrementAndGet();
        try {
            if (closing) throw new ApiException(503, "server_error", null, "shutting_down", "the server is shutting down", 0);
            JsonNode body = readJson(ctx);
            checkModel(body);
            ChatRequest req = ChatRequest.parseCompletion(body);
            LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
            Scheduler.Job job = Scheduler.Job.raw(req.rawPrompt(), requestOptions(req), req.n(), options.requestTimeout(), sink(events));
            constrain(job, req);
            scheduler.submit(job);
            String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
            long createdAt = System.currentTimeMillis() / 1000;
            try (DisconnectWatcher.Watch gone = watchClient(ctx, job, events)) {
                if (req.stream()) streamText(ctx, req, job, events, id, createdAt);
                else {
                    Scheduler.Completion[] done = new Scheduler.Completion[req.n()];
                    for (int left = req.n(); left > 0; ) {
                        Event e = next(events);
                        if (e instanceof Failed f) throw f.error();
                        if (e instanceof Done d && done[d.completion().index()] == null) { done[d.completion().index()] = d.completion(); left--; }
                    }
                    ObjectNode o = envelope(id, createdAt, "text_completion");
                    ArrayNode choices = o.putArray("choices");
                    for (Scheduler.Completion c : done) textChoice(choices.addObject(), c.index(), c.rawText(), c.finishReason());
                    o.set("usage", usage(done));
                    send(ctx, 200, o);
                }
            } finally {
                job.cancel();
            }
        } finally {
            openChats.decrementAndGet();
        }
    }

    private static ObjectNode textChoice(ObjectNode c, int index, String text, String finish) {
        c.put("text", text);
        c.put("index", index);
        c.putNull("logprobs");
        if (finish == null) c.putNull("finish_reason");
        else c.put("finish_reason", finish);
        return c;
    }

    private void streamText(Context ctx, ChatRequest req, Scheduler.Job job, LinkedBlockingQueue<Event> events,
                            String id, long createdAt) throws InterruptedException {
        Event first = next(events);
        if (first instanceof Failed f) throw f.error();
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        try {
            OutputStream out = ctx.res().getOutputStream();
            Scheduler.Completion[] done = new Scheduler.Completion[req.n()];
            int left = req.n();
            for (Event e = first; ; e = next(events)) {
                ObjectNode o = envelope(id, createdAt, "text_completion");
                switch (e) {
                    case Text t -> textChoice(o.putArray("choices").addObject(), t.index(), t.delta(), null);
                    case Failed f -> {
                        ObjectNode err = json.createObjectNode();
                        err.set("error", errorBody(f.error()));
                        sse(out, err);
                        return;
                    }
                    case Done d -> {
                        if (done[d.completion().index()] != null) continue;
                        done[d.completion().index()] = d.completion();
                        textChoice(o.putArray("choices").addObject(), d.completion().index(), "", d.completion().finishReason());
                        left--;
                    }
                }
                sse(out, o);
                if (left == 0) {
                    if (req.includeUsage()) {
                        ObjectNode u = envelope(id, createdAt, "text_completion");
                        u.putArray("choices");
                        u.set("usage", usage(done));
                        sse(out, u);
                    }
                    out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    return;
                }
            }
        } catch (IOException gone) {
            job.cancel();
        }
    }

    private Event next(LinkedBlockingQueue<Event> events) throws InterruptedException {
        // the scheduler enforces the request timeout; this is only a backstop against a lost event
        Event e = events.poll(options.requestTimeout().toMillis() + 30_000, TimeUnit.MILLISECONDS);
        if (e == null) throw new ApiException(504, "timeout", null, "request_timeout", "the request timed out", 0);
        return e;
    }

    private void complete(Context ctx, ChatRequest req, LinkedBlockingQueue<Event> events, String id, long createdAt) throws InterruptedException {
        Scheduler.Completion[] done = new Scheduler.Completion[req.n()];
        for (int left = req.n(); left > 0; ) {
            Event e = next(events);
            if (e instanceof Failed f) throw f.error();
            if (e instanceof Done d && done[d.completion().index()] == null) { done[d.completion().index()] = d.completion(); left--; }
        }
        ObjectNode o = envelope(id, createdAt, "chat.completion");
        ArrayNode choices = o.putArray("choices");
        for (Scheduler.Completion c : done) {
            ObjectNode choice = choices.addObject();
            choice.put("index", c.index());
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", c.text());
            msg.putNull("refusal");
            if (c.logprobs() != null) choice.set("logprobs", logprobs(c.logprobs()));
            else choice.putNull("logprobs");
            choice.put("finish_reason", c.finishReason());
        }
        o.set("usage", usage(done));
        send(ctx, 200, o);
    }

    private void stream(Context ctx, ChatRequest req, Scheduler.Job job, LinkedBlockingQueue<Event> events,
                        String id, long createdAt) throws InterruptedException {
        // wait for the first event before committing a 200: errors found at admission (context length,
        // image tiles) still get their proper status code
        Event first = next(events);
        if (first instanceof Failed f) throw f.error();
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        try {
            OutputStream out = ctx.res().getOutputStream();
            for (int i = 0; i < req.n(); i++) {
                ObjectNode role = chunk(id, createdAt);
                ObjectNode c0 = ((ArrayNode) role.get("choices")).addObject();
                c0.put("index", i);
                c0.putObject("delta").put("role", "assistant").put("content", "");
                c0.putNull("logprobs");
                c0.putNull("finish_reason");
                sse(out, role);
            }
            int[] sentLogprobs = new int[req.n()];
            Scheduler.Completion[] done = new Scheduler.Completion[req.n()];
            int left = req.n();
            for (Event e = first; ; e = next(events)) {
                switch (e) {
                    case Text t -> {
                        sse(out, delta(id, createdAt, t.index(), t.delta(), req.topLogprobs() != null ? t.logprobs() : null));
                        sentLogprobs[t.index()] += t.logprobs().size();
                    }
                    case Failed f -> {
                        ObjectNode err = json.createObjectNode();
                        err.set("error", errorBody(f.error()));
                        sse(out, err);
                        return;
                    }
                    case Done d -> {
                        int idx = d.completion().index();
                        if (done[idx] != null) continue;
                        done[idx] = d.completion();
                        ObjectNode fin = chunk(id, createdAt);
                        ObjectNode c = ((ArrayNode) fin.get("choices")).addObject();
                        c.put("index", idx);
                        c.putObject("delta");
                        List<TokenLogprob> all = d.completion().logprobs();
                        // tokens whose text was never streamed (held back by a stop string, or no text at all)
                        if (all != null && all.size() > sentLogprobs[idx]) c.set("logprobs", logprobs(all.subList(sentLogprobs[idx], all.size())));
                        else c.putNull("logprobs");
                        c.put("finish_reason", d.completion().finishReason());
                        if (req.includeUsage()) fin.putNull("usage");
                        sse(out, fin);
                        if (--left > 0) continue;
                        if (req.includeUsage()) {
                            // OpenAI: one extra chunk with empty choices carrying the whole request's usage
                            ObjectNode u = chunk(id, createdAt);
                            u.set("usage", usage(done));
                            sse(out, u);
                        }
                        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        return;
                    }
                }
            }
        } catch (IOException gone) {
            job.cancel(); // client disconnected: stop decoding and free its KV cache at the next step
        }
    }

    private ObjectNode delta(String id, long createdAt, int index, String text, List<TokenLogprob> lp) {
        ObjectNode o = chunk(id, createdAt);
        ObjectNode c = ((ArrayNode) o.get("choices")).addObject();
        c.put("index", index);
        c.putObject("delta").put("content", text);
        if (lp != null) c.set("logprobs", logprobs(lp));
        else c.putNull("logprobs");
        c.putNull("finish_reason");
        return o;
    }

    /** OpenAI's choice.logprobs: {"content":[{token, logprob, bytes, top_logprobs:[{token, logprob, bytes}]}], "refusal":null}. */
    private ObjectNode logprobs(List<TokenLogprob> tokens) {
        ObjectNode o = json.createObjectNode();
        ArrayNode content = o.putArray("content");
        for (TokenLogprob t : tokens) {
            ObjectNode e = logprobEntry(content.addObject(), t.token(), t.logprob());
            ArrayNode top = e.putArray("top_logprobs");
            for (TokenLogprob.Alternative a : t.top()) logprobEntry(top.addObject(), a.token(), a.logprob());
        }
        o.putNull("refusal");
        return o;
    }

    private static ObjectNode logprobEntry(ObjectNode e, String token, double logprob) {
        e.put("token", token);
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : token.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xff);
        return e;
    }

    private ObjectNode chunk(String id, long createdAt) {
        ObjectNode o = envelope(id, createdAt, "chat.completion.chunk");
        o.putArray("choices");
        return o;
    }

    private ObjectNode envelope(String id, long createdAt, String object) {
        ObjectNode o = json.createObjectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", createdAt);
        o.put("model", options.modelId());
        o.put("system_fingerprint", "navil4j");
        return o;
    }

    /** The request's usage: the prompt counted once (it is prefilled once), completion tokens of every choice. */
    private ObjectNode usage(Scheduler.Completion[] choices) {
        int prompt = choices[0].promptTokens(), completion = 0;
        for (Scheduler.Completion c : choices) completion += c.completionTokens();
        ObjectNode u = json.createObjectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }

    private void sse(OutputStream out, JsonNode payload) throws IOException {
        out.write(("data: " + json.writeValueAsString(payload) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * The request's OpenAI fields as engine options (mapped onto the family's defaults by
     * {@link RequestOptions#applyTo}); temperature 0 means greedy, as in OpenAI's API. Sampling without a seed gets
     * a fresh one (OpenAI's outputs vary between calls unless {@code seed} is set).
     */
    static RequestOptions requestOptions(ChatRequest r) {
        RequestOptions o = RequestOptions.defaults();
        if (r.maxTokens() >= 0) o = o.withMaxNewTokens(r.maxTokens());
        if (r.temperature() != null) o = o.withTemperature(r.temperature().floatValue());
        if (r.topP() != null) o = o.withTopP(r.topP().floatValue());
        if (r.seed() != null) o = o.withSeed(r.seed());
        else if (r.temperature() != null && r.temperature() > 0) o = o.withSeed(System.nanoTime());
        if (r.topK() != null) o = o.withTopK(r.topK());
        if (r.repetitionPenalty() != null) o = o.withRepetitionPenalty(r.repetitionPenalty().floatValue());
        if (!r.stop().isEmpty()) o = o.withStop(r.stop());
        if (r.presencePenalty() != null || r.frequencyPenalty() != null)
            o = o.withPenalties(r.presencePenalty() == null ? 0f : r.presencePenalty().floatValue(),
                    r.frequencyPenalty() == null ? 0f : r.frequencyPenalty().floatValue());
        if (r.minP() != null) o = o.withMinP(r.minP().floatValue());
        if (r.topLogprobs() != null) o = o.withTopLogprobs(r.topLogprobs());
        return o;
    }

    // ---- input --------------------------------------------------------------------------------------

    private JsonNode readJson(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > options.maxRequestBytes()) throw tooLarge();
        // required: a browser sends a cross-origin text/plain or form POST without a CORS preflight, and a body
        // without a type would be accepted from such a page too
        String type = ctx.contentType();
        if (type == null || !type.trim().toLowerCase(java.util.Locale.ROOT).matches("application/json\\s*(;.*)?"))
            throw new ApiException(415, "invalid_request_error", null, "unsupported_media_type",
                    type == null ? "Content-Type: application/json is required" : "Content-Type must be application/json, got '" + type + "'", 0);
        byte[] body;
        try (InputStream in = ctx.req().getInputStream()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, options.maxRequestBytes() + 1));
        } catch (IOException e) {
            if (slowReads.timedOut(ctx)) throw new ApiException(408, "invalid_request_error", null, "request_timeout",
                    "the request body was not received within " + options.readTimeout().toSeconds() + " s", 0);
            throw ApiException.invalid(null, "could not read the request body: " + e.getMessage());
        }
        if (body.length > options.maxRequestBytes()) throw tooLarge();
        if (body.length == 0) throw ApiException.invalid(null, "the request body is empty; expected a JSON object");
        try {
            return json.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid(null, "invalid_json", "invalid JSON in request body: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.invalid(null, "invalid_json", "invalid JSON in request body: " + e.getMessage());
        }
    }

    private ApiException tooLarge() {
        return new ApiException(413, "invalid_request_error", null, "request_too_large",
                "the request body exceeds the limit of " + options.maxRequestBytes() + " bytes", 0);
    }

    /** Fetching stays on the request's virtual thread (I/O); decoding moves to the platform pool. */
    private BufferedImage resolveImage(String url, String param) {
        byte[] bytes = images.fetch(url, param);
        Future<BufferedImage> f = imageDecoders.submit(() -> images.decode(bytes, param));
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException a) throw a;
            throw ApiException.invalid(param, "invalid_image", "the image could not be decoded");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", null, null, "interrupted", 0);
        }
    }

    /**
     * A video stays in memory (no temp file): its container and header are checked here, on the decode pool, so that
     * an unsupported container, a manifest or playlist, oversized frames or corrupt data are a 400 before the request
     * is queued; the family decodes the frames from the same bytes.
     */
    private byte[] resolveVideo(String url, String param) {
        byte[] bytes = images.fetchVideo(url, param, options.maxRequestBytes());
        VideoReader.Limits limits = VideoReader.Limits.DEFAULT.withMaxPixels(options.maxImagePixels());
        Future<?> f = imageDecoders.submit(() -> VideoReader.open(bytes, "video", limits));
        try {
            f.get();
            return bytes;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Media.MediaException m) throw ApiException.invalid(param, "invalid_video", m.getMessage());
            throw ApiException.invalid(param, "invalid_video", "the video could not be decoded");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", null, null, "interrupted", 0);
        }
    }

    /**
     * Removes {@code navil4j-video-*.bin} files that earlier versions stored uploaded videos in (left behind when
     * such a server was killed); videos no longer touch the disk. Only files older than an hour (past any request timeout) are removed, so a
     * server of an older version still running beside this one keeps its files.
     */
    static int removeStaleVideoFiles(Path dir, java.time.Duration age) {
        int removed = 0;
        long cutoff = System.currentTimeMillis() - age.toMillis();
        try (var files = Files.newDirectoryStream(dir, "navil4j-video-*.bin")) {
            for (Path p : files) {
                try {
                    if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            && Files.getLastModifiedTime(p).toMillis() < cutoff && Files.deleteIfExists(p)) removed++;
                } catch (IOException ignored) {
                    // another process's file, or gone meanwhile
                }
            }
        } catch (IOException ignored) {
            // no temp directory listing: nothing to clean
        }
        return removed;
    }

    // ---- output -------------------------------------------------------------------------------------

    private ObjectNode errorBody(ApiException e) {
        ObjectNode b = json.createObjectNode();
        b.put("message", e.getMessage());
        b.put("type", e.type());
        if (e.param() == null) b.putNull("param"); else b.put("param", e.param());
        if (e.code() == null) b.putNull("code"); else b.put("code", e.code());
        return b;
    }

    private void error(Context ctx, ApiException e) {
        ctx.attribute("navil4j.error", e);
        if (e.retryAfterSeconds() > 0) ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        // an oversized body is left unread, so Jetty closes the connection after answering: say so, so that a
        // keep-alive client does not reuse the closing connection for its next request
        if (e.status() == 413) ctx.header("Connection", "close");
        ObjectNode o = json.createObjectNode();
        o.set("error", errorBody(e));
        send(ctx, e.status(), o);
    }

    private void send(Context ctx, int status, JsonNode body) {
        try {
            ctx.status(status).contentType("application/json").result(json.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Graceful shutdown: new requests get 503, in-flight ones may finish within the grace period (then are
     * cancelled with a 503 error), then the HTTP server stops.
     */
    @Override
    public void close() {
        closing = true;
        scheduler.shutdown(options.shutdownGrace());
        // let request threads write the final answer (or the 503) before connections close
        long end = System.nanoTime() + 2_000_000_000L;
        while (openChats.get() > 0 && System.nanoTime() < end) {
            try { Thread.sleep(10); } catch (InterruptedException e) { Thread.currentThread().interrupt(); break; }
        }
        // Javalin maps exceptions (the 503s) and writes non-streamed bodies after the handler has returned:
        // give those writes a moment before the connectors close (seen as "no bytes" replies on a loaded machine)
        try { Thread.sleep(250); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        app.stop();
        imageDecoders.shutdownNow();
        disconnects.close();
        slowReads.close();
    }
}
