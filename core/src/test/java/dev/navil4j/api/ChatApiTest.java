package dev.navil4j.api;

import dev.navil4j.ChatModel;
import dev.navil4j.ChatSession;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.PromptTooLongException;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.Stripping;
import dev.navil4j.TokenStream;
import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.toy.ToyFamily;
import dev.navil4j.toy.ToyModel;
import dev.navil4j.toy.ToyTokenizer;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The library API over the deterministic {@link ToyModel}: results, history, limits, streaming, batch. */
class ChatApiTest {
    @TempDir
    Path tmp;
    ChatModel model;
    ToyModel toy;
    Path image;

    @BeforeEach
    void load() throws IOException {
        ToyFamily.register();
        model = Navil4j.load(ToyFamily.writeModel(tmp.resolve("toy"), 512));
        toy = (ToyModel) model.model();
        image = Files.write(tmp.resolve("a.png"), new byte[] {1, 2, 3});
    }

    @AfterEach
    void close() { model.close(); }

    private static String prompt(String system, String... turns) {
        StringBuilder t = new StringBuilder("<|im_start|>system\n" + system + "<|im_end|>\n");
        for (int i = 0; i < turns.length; i += 2) {
            t.append("<|im_start|>user\n").append(turns[i]).append("<|im_end|>\n<|im_start|>assistant\n");
            if (i + 1 < turns.length) t.append(turns[i + 1]).append("<|im_end|>\n");
        }
        return t.toString();
    }

    private static int utf8(String s) { return s.getBytes(StandardCharsets.UTF_8).length; }

    @Test
    void askReturnsTheCleanedAnswerWithCountsAndTimings() {
        Response r = model.newSession().ask("Hi");
        String raw = ToyModel.answerFor("Hi", 1, 0);
        assertThat(r.rawText()).isEqualTo(raw);
        assertThat(r.text()).isEqualTo(raw.strip()).isNotEqualTo(raw);
        assertThat(r.finish()).isEqualTo(Response.Finish.STOP);
        assertThat(r.generatedTokens()).isEqualTo(utf8(raw) + 1); // the stop id counts
        assertThat(r.tokenIds()[r.generatedTokens() - 1]).isEqualTo(ToyTokenizer.IM_END);
        // 5 special tokens (3 <|im_start|>, 2 <|im_end|>) + the UTF-8 bytes of the rest
        assertThat(r.promptTokens()).isEqualTo(utf8(prompt(ToyModel.DEFAULT_SYSTEM, "Hi")) - 3 * 12 - 2 * 10 + 5);
        assertThat(r.prefillNanos()).isPositive();
        assertThat(r.decodeTokensPerSecond()).isPositive();
        assertThat(model.family()).isEqualTo("toy");
        assertThat(model.loadNanos()).isPositive();
    }

    @Test
    void historyFeedsLaterTurnsAndResetForgetsIt() {
        ChatSession s = model.newSession("Be brief.");
        Response a = s.ask("first");
        Response b = s.ask("second");
        assertThat(b.rawText()).isEqualTo(ToyModel.answerFor("second", 2, 0));
        String p2 = prompt("Be brief.", "first", a.text(), "second");
        assertThat(b.promptTokens()).isEqualTo(new ToyTokenizer().encode(p2, false).length);
        assertThat(s.history()).extracting(Conversation.Turn::user, Conversation.Turn::assistant)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("first", a.text()), org.assertj.core.groups.Tuple.tuple("second", b.text()));
        assertThat(s.lastResponse()).isSameAs(b);
        s.reset();
        assertThat(s.history()).isEmpty();
        assertThat(s.ask("third").rawText()).isEqualTo(ToyModel.answerFor("third", 1, 0));
        assertThat(s.system()).isEqualTo("Be brief.");
    }

    @Test
    void aSessionCanContinueAGivenHistory() {
        List<Conversation.Turn> past = List.of(new Conversation.Turn("first", List.of(Media.image(image)), "an answer"));
        ChatSession s = model.newSession(null, past);
        Response r = s.ask("second");
        assertThat(r.rawText()).isEqualTo(ToyModel.answerFor("second", 2, 6)); // the old turn's image is still in the prompt
        assertThat(s.history()).hasSize(2);
        assertThatThrownBy(() -> model.newSession(null, List.of(new Conversation.Turn("q", List.of(), null))))
                .hasMessageContaining("history turn 1 needs a user text and an answer");
    }

    @Test
    void mediaAndPerRequestTileLimitsReachPrepare() {
        ChatSession s = model.newSession();
        assertThat(s.ask("Look", Media.image(image)).mediaTokens()).isEqualTo(6); // 3 tiles × 2
        s.reset();
        Response one = s.ask(Request.of("Look", Media.image(image)).with(RequestOptions.defaults().withMaxTiles(1)));
        assertThat(one.mediaTokens()).isEqualTo(2);
        assertThat(one.rawText()).isEqualTo(ToyModel.answerFor("Look", 1, 2));
        s.reset();
        s.options(RequestOptions.defaults().withMaxTiles(2));
        assertThat(s.ask("Look", Media.image(image), Media.video(image, 4)).mediaTokens()).isEqualTo(4 + 8);
        // the earlier turn's media stay in the prompt
        assertThat(s.ask("Again").mediaTokens()).isEqualTo(12);
        assertThat(s.history().get(0).media()).hasSize(2);
    }

    @Test
    void aMediaBudgetOrAContextOverflowIsAClearException() throws IOException {
        ChatSession s = model.newSession();
        assertThatThrownBy(() -> s.ask(Request.of("Look", Media.image(image)).with(RequestOptions.defaults().withMaxMediaTokens(4))))
                .isInstanceOf(PromptTooLongException.class)
                .hasMessageContaining("take 6 tokens, over the budget of 4");
        assertThat(s.history()).isEmpty();

        try (ChatModel small = Navil4j.load(ToyFamily.writeModel(tmp.resolve("small"), 64))) {
            ChatSession t = small.newSession();
            String longQuestion = "x".repeat(100);
            assertThatThrownBy(() -> t.ask(longQuestion))
                    .isInstanceOf(PromptTooLongException.class)
                    .hasMessageContaining("exceeds the model's context of 64 tokens")
                    .satisfies(e -> assertThat(((PromptTooLongException) e).tokens()).isGreaterThan(64));
            // a prompt that fits with little room left: generation stops at the context end (prompt + answer = context)
            int promptLen = new ToyTokenizer().encode(prompt(ToyModel.DEFAULT_SYSTEM, ""), false).length;
            String q = "y".repeat(64 - 5 - promptLen);
            Response r = t.ask(q);
            assertThat(r.promptTokens()).isEqualTo(59);
            assertThat(r.finish()).isEqualTo(Response.Finish.LENGTH);
            assertThat(r.generatedTokens()).isEqualTo(5);
        }
    }

    @Test
    void generationOverridesApply() {
        Response five = model.newSession().ask(Request.of("Hi").with(RequestOptions.defaults().withMaxNewTokens(5)));
        assertThat(five.generatedTokens()).isEqualTo(5);
        assertThat(five.finish()).isEqualTo(Response.Finish.LENGTH);
        assertThat(five.rawText()).isEqualTo(ToyModel.answerFor("Hi", 1, 0).substring(0, 5));

        RequestOptions sample = RequestOptions.defaults().withTemperature(1f).withSeed(7);
        Response s1 = model.newSession().ask(Request.of("Hi").with(sample));
        Response s2 = model.newSession().ask(Request.of("Hi").with(sample));
        assertThat(s1.tokenIds()).isEqualTo(s2.tokenIds());
        Set<String> outs = new HashSet<>();
        for (long seed = 0; seed < 4; seed++)
            outs.add(model.newSession().ask(Request.of("Hi").with(sample.withSeed(seed))).rawText());
        assertThat(outs).hasSizeGreaterThan(1).doesNotContain(ToyModel.answerFor("Hi", 1, 0));

        Response penalized = model.newSession().ask(Request.of("Hi").with(RequestOptions.defaults().withRepetitionPenalty(10f)));
        assertThat(penalized.rawText()).isNotEqualTo(ToyModel.answerFor("Hi", 1, 0));
        assertThat(model.newSession().ask(Request.of("Hi").with(RequestOptions.defaults().withRepetitionPenalty(10f))).tokenIds())
                .isEqualTo(penalized.tokenIds());
    }

    @Test
    void optionsMapOntoTheModelsGenerationConfig() {
        GenerationConfig base = GenerationConfig.greedy(64, Set.of(1));
        assertThat(RequestOptions.defaults().applyTo(base)).isEqualTo(base);
        GenerationConfig t = RequestOptions.defaults().withTemperature(0.7f).withTopP(0.9f).withTopK(5).withSeed(3).applyTo(base);
        assertThat(t.doSample()).isTrue();
        assertThat(t.temperature()).isEqualTo(0.7f);
        assertThat(t.topP()).isEqualTo(0.9f);
        assertThat(t.topK()).isEqualTo(5);
        assertThat(t.seed()).isEqualTo(3);
        assertThat(t.stopIds()).isEqualTo(Set.of(1));
        assertThat(RequestOptions.defaults().withTopK(5).applyTo(base).doSample()).isTrue();
        assertThat(RequestOptions.defaults().withTemperature(0f).withTopK(5).applyTo(base).doSample()).isFalse();
        assertThat(RequestOptions.defaults().withTemperature(0.5f).withDoSample(false).applyTo(base).doSample()).isFalse();
        RequestOptions session = RequestOptions.defaults().withMaxNewTokens(10).withMaxTiles(2);
        RequestOptions merged = session.overriddenBy(RequestOptions.defaults().withMaxNewTokens(3));
        assertThat(merged.maxNewTokens()).isEqualTo(3);
        assertThat(merged.maxTiles()).isEqualTo(2);
        assertThatThrownBy(() -> RequestOptions.defaults().withTopP(0f)).hasMessageContaining("top-p must be in (0, 1]");
        assertThatThrownBy(() -> RequestOptions.defaults().withTemperature(-1f)).hasMessageContaining("temperature must be >= 0");
    }

    @Test
    void streamedPiecesNeverSplitACharacterAndConcatenateToTheRawText() {
        List<String> pieces = new ArrayList<>();
        Response r = model.newSession().stream("Hi 你好", pieces::add);
        assertThat(String.join("", pieces)).isEqualTo(r.rawText());
        assertThat(pieces.size()).isGreaterThan(r.rawText().length() / 2); // streamed, not one final piece
        for (String p : pieces) {
            assertThat(p).doesNotContain("\uFFFD");
            for (int i = 0; i < p.length(); i++) {
                char c = p.charAt(i);
                if (Character.isHighSurrogate(c)) assertThat(i + 1 < p.length() && Character.isLowSurrogate(p.charAt(i + 1))).isTrue();
                if (Character.isLowSurrogate(c)) assertThat(i > 0 && Character.isHighSurrogate(p.charAt(i - 1))).isTrue();
            }
        }
        assertThat(pieces).contains("你", "好", "🎉");

        StringBuilder stripped = new StringBuilder();
        Response r2 = model.newSession().stream("Hi 你好", Stripping.of(stripped::append));
        assertThat(stripped.toString()).isEqualTo(r2.text());
        StringBuilder clean = new StringBuilder();
        Response r3 = model.newSession().stream("Hi 你好", model.cleanStream(clean::append)); // the toy strips
        assertThat(clean.toString()).isEqualTo(r3.text()).isNotEqualTo(r3.rawText());
    }

    @Test
    void strippingMatchesPythonStrip() {
        for (String raw : List.of("  a b \n", "\u00a0x\u2007y\u202f", "\u0085\u3000", "", "z", " \u001c q \u200b ")) {
            StringBuilder sb = new StringBuilder();
            Stripping s = Stripping.of(sb::append);
            raw.codePoints().forEach(cp -> s.accept(new String(Character.toChars(cp))));
            assertThat(sb.toString()).isEqualTo(toy.cleanResponse(raw));
        }
    }

    @Test
    void iteratorStreamsTheSameAnswerAndUpdatesHistory() {
        String expected = model.newSession().ask("Hi").rawText();
        ChatSession s = model.newSession();
        StringBuilder sb = new StringBuilder();
        try (TokenStream ts = s.tokens("Hi")) {
            while (ts.hasNext()) sb.append(ts.next());
            assertThat(ts.response().rawText()).isEqualTo(expected);
        }
        assertThat(sb.toString()).isEqualTo(expected);
        assertThat(s.history()).hasSize(1);
    }

    @Test
    void closingTheIteratorEarlyCancelsWithoutTouchingHistory() {
        ChatSession s = model.newSession();
        TokenStream ts = s.tokens("Hi");
        assertThat(ts.next()).isNotEmpty();
        ts.close();
        Response r = ts.response();
        assertThat(r.finish()).isIn(Response.Finish.CANCELLED, Response.Finish.STOP);
        if (r.finish() == Response.Finish.CANCELLED) assertThat(s.history()).isEmpty();
        assertThat(s.ask("again").finish()).isEqualTo(Response.Finish.STOP); // the session is free again
    }

    @Test
    void publisherDeliversOnDemandAndIsSingleUse() throws Exception {
        String expected = model.newSession().ask("Hi").rawText();
        ChatSession s = model.newSession();
        Flow.Publisher<String> pub = s.publisher("Hi");
        StringBuilder sb = new StringBuilder();
        CompletableFuture<Void> done = new CompletableFuture<>();
        pub.subscribe(new Flow.Subscriber<>() {
            Flow.Subscription sub;
            public void onSubscribe(Flow.Subscription subscription) { sub = subscription; sub.request(1); }
            public void onNext(String item) { sb.append(item); sub.request(1); }
            public void onError(Throwable t) { done.completeExceptionally(t); }
            public void onComplete() { done.complete(null); }
        });
        done.get(30, TimeUnit.SECONDS);
        assertThat(sb.toString()).isEqualTo(expected);
        assertThat(s.history()).hasSize(1);

        CompletableFuture<Throwable> second = new CompletableFuture<>();
        pub.subscribe(new Flow.Subscriber<>() {
            public void onSubscribe(Flow.Subscription subscription) {}
            public void onNext(String item) {}
            public void onError(Throwable t) { second.complete(t); }
            public void onComplete() { second.complete(null); }
        });
        assertThat(second.get(5, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class).hasMessageContaining("single-use");
    }

    @Test
    void publisherBuffersUntilDemandAndRejectsNonPositiveRequests() throws Exception {
        String expected = model.newSession().ask("Hi").rawText();
        ChatSession s = model.newSession();
        StringBuilder sb = new StringBuilder();
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Flow.Subscription> subscription = new CompletableFuture<>();
        s.publisher("Hi").subscribe(new Flow.Subscriber<>() {
            public void onSubscribe(Flow.Subscription sub) { subscription.complete(sub); }
            public void onNext(String item) { sb.append(item); }
            public void onError(Throwable t) { done.completeExceptionally(t); }
            public void onComplete() { done.complete(null); }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (s.lastResponse() == null && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(sb).isEmpty(); // generation finished, nothing delivered without demand
        assertThat(done).isNotDone();
        subscription.get().request(Long.MAX_VALUE);
        done.get(30, TimeUnit.SECONDS);
        assertThat(sb.toString()).isEqualTo(expected);

        CompletableFuture<Throwable> error = new CompletableFuture<>();
        model.newSession().publisher("Hi").subscribe(new Flow.Subscriber<>() {
            public void onSubscribe(Flow.Subscription sub) { sub.request(0); }
            public void onNext(String item) {}
            public void onError(Throwable t) { error.complete(t); }
            public void onComplete() { error.complete(null); }
        });
        assertThat(error.get(30, TimeUnit.SECONDS)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("demand must be positive");
    }

    @Test
    void publisherCancellationStopsGeneration() throws Exception {
        ChatSession s = model.newSession();
        CountDownLatch first = new CountDownLatch(1);
        s.publisher("Hi").subscribe(new Flow.Subscriber<>() {
            Flow.Subscription sub;
            public void onSubscribe(Flow.Subscription subscription) { sub = subscription; sub.request(1); }
            public void onNext(String item) { sub.cancel(); first.countDown(); }
            public void onError(Throwable t) {}
            public void onComplete() {}
        });
        assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (s.lastResponse() == null && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(s.lastResponse()).isNotNull();
        if (s.lastResponse().finish() == Response.Finish.CANCELLED) assertThat(s.history()).isEmpty();
    }

    @Test
    void batchRowsEqualSingleRuns() {
        List<Request> rows = List.of(Request.of("a"), Request.of("b", Media.image(image)),
                Request.of("c").with(RequestOptions.defaults().withTemperature(1f).withSeed(11)));
        List<Response> out = model.batch(rows);
        assertThat(out).hasSize(3);
        for (int i = 0; i < rows.size(); i++) {
            Response single = model.newSession().ask(rows.get(i));
            assertThat(out.get(i).tokenIds()).isEqualTo(single.tokenIds());
            assertThat(out.get(i).text()).isEqualTo(single.text());
        }
        assertThat(out.get(1).mediaTokens()).isEqualTo(6);
    }

    @Test
    void sessionsOfOneModelRunInParallelAndASessionRejectsConcurrentUse() throws Exception {
        String expected = model.newSession().ask("p").rawText();
        List<CompletableFuture<String>> futures = new ArrayList<>();
        for (int i = 0; i < 4; i++) futures.add(CompletableFuture.supplyAsync(() -> model.newSession().ask("p").rawText()));
        for (CompletableFuture<String> f : futures) assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(expected);

        ChatSession s = model.newSession();
        assertThatThrownBy(() -> s.stream("x", piece -> s.ask("y")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already answering");
        assertThat(s.ask("z").finish()).isEqualTo(Response.Finish.STOP);
    }

    @Test
    void aClosedModelRefusesWork() {
        ChatSession s = model.newSession();
        model.close();
        assertThat(toy.closed).isTrue();
        assertThatThrownBy(model::newSession).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> s.ask("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void loadErrorsAreClear() throws IOException {
        assertThatThrownBy(() -> Navil4j.load(tmp.resolve("nope"))).hasMessage("model directory not found: " + tmp.resolve("nope"));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> Navil4j.load(empty)).isInstanceOf(WeightsException.class).hasMessageContaining("not a model directory");
        Path other = Files.createDirectories(tmp.resolve("other"));
        Files.writeString(other.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\"}");
        assertThatThrownBy(() -> Navil4j.load(other)).hasMessageContaining("unsupported model");
        assertThatThrownBy(() -> Media.image(tmp.resolve("missing.png"))).isInstanceOf(Media.MediaException.class)
                .hasMessage("image not found: " + tmp.resolve("missing.png"));
        assertThatThrownBy(() -> Media.video(image, 0)).hasMessageContaining("at least 1 frame");
    }
}
