package dev.navil4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.ChatModel;
import dev.navil4j.ChatSession;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.Stripping;
import dev.navil4j.chat.Conversation;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The public API on the InternVL3 fixture model, against the reference {@code model.chat()} /
 * {@code batch_chat()} outputs: multi-round sessions (text, image), several images separate and
 * combined, batch, streaming. Each round-2 case of the fixture was made with the round-1 answer in its
 * history, so a session that asks both questions must reproduce both cases.
 */
class InternVLApiFixtureTest {
    static Fixture tiny;
    static ChatModel model;


    @BeforeAll
    static void load() {
        tiny = new Fixture(Path.of("fixtures/internvl3-tiny"));
        model = Navil4j.load(Path.of("fixtures/internvl3-tiny/model"));
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
        tiny.close();
    }

    static JsonNode find(Fixture f, String name) {
        return f.cases().stream().filter(c -> c.path("name").asText().equals(name)).findFirst().orElseThrow();
    }

    /** The case's chat options: max_new_tokens, greedy, max_num tiles. */
    static RequestOptions options(JsonNode c) {
        return RequestOptions.defaults().withMaxNewTokens(c.path("generation").path("max_new_tokens").asInt())
                .withDoSample(false).withMaxTiles(c.path("params").path("max_num").asInt());
    }

    static void assertMatches(Fixture f, JsonNode c, Response r) {
        JsonNode e = c.path("expect");
        assertThat(r.tokenIds()).as(c.path("name").asText() + " generated ids").isEqualTo(f.ints(e.path("generated_ids")));
        assertThat(r.text()).as(c.path("name").asText() + " response").isEqualTo(e.path("response").asText());
        assertThat(r.promptTokens()).as(c.path("name").asText() + " prompt length").isEqualTo(f.ints(e.path("prompt_ids")).length);
    }

    static Conversation.Media[] images(Fixture f, JsonNode c) {
        List<Conversation.Media> m = new ArrayList<>();
        for (JsonNode p : c.path("images")) m.add(Media.image(f.resolve(p.asText())));
        return m.toArray(Conversation.Media[]::new);
    }

    /** Round 1 asks the case's question (chat() prefixes "<image>\n" itself); round 2 the follow-up. */
    static void twoRounds(Fixture f, String first, String second, Conversation.Media... media) {
        JsonNode c1 = find(f, first), c2 = find(f, second);
        ChatSession s = model.newSession();
        String q1 = c1.path("question").asText();
        List<String> pieces = new ArrayList<>();
        Response r1 = s.stream(new Request(q1, List.of(media), options(c1)), Stripping.of(pieces::add));
        assertMatches(f, c1, r1);
        assertThat(String.join("", pieces)).isEqualTo(r1.text());
        // the reference history holds the answer chat() returned, which our session recorded
        assertThat(c2.path("history").get(0).get(1).asText()).isEqualTo(s.history().getFirst().assistant());
        assertMatches(f, c2, s.ask(new Request(c2.path("question").asText(), List.of(), options(c2))));
    }

    @Test
    void textChatTwoRounds() { twoRounds(tiny, "gen_text", "gen_text_round2"); }

    @Test
    void imageChatTwoRounds() {
        twoRounds(tiny, "gen_image", "gen_image_round2", images(tiny, find(tiny, "gen_image")));
    }

    @Test
    void chineseQuestionAndSeveralImages() {
        for (String name : List.of("gen_image_zh", "gen_two_images_separate", "gen_two_images_combined")) {
            JsonNode c = find(tiny, name);
            Response r = model.newSession().ask(new Request(c.path("question").asText(), List.of(images(tiny, c)), options(c)));
            assertMatches(tiny, c, r);
        }
    }

    @Test
    void sessionsOfOneModelRunConcurrently() throws Exception {
        JsonNode t = find(tiny, "gen_text"), i = find(tiny, "gen_image_zh");
        List<java.util.concurrent.Callable<Response>> jobs = List.of(
                () -> model.newSession().ask(new Request(t.path("question").asText(), List.of(), options(t))),
                () -> model.newSession().ask(new Request(i.path("question").asText(), List.of(images(tiny, i)), options(i))),
                () -> model.newSession().ask(new Request(t.path("question").asText(), List.of(), options(t))));
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(3)) {
            List<java.util.concurrent.Future<Response>> f = pool.invokeAll(jobs);
            assertMatches(tiny, t, f.get(0).get());
            assertMatches(tiny, i, f.get(1).get());
            assertMatches(tiny, t, f.get(2).get());
        }
    }

    @Test
    void theSixBillionVitLayoutThroughTheApi() {
        try (Fixture f = new Fixture(Path.of("fixtures/internvl3-6bvit-tiny"));
             ChatModel m6 = Navil4j.load(f.modelDir(find(f, "gen_image")))) {
            JsonNode c1 = find(f, "gen_image"), c2 = find(f, "gen_image_round2");
            ChatSession s = m6.newSession();
            assertMatches(f, c1, s.ask(new Request(c1.path("question").asText(), List.of(images(f, c1)), options(c1))));
            assertMatches(f, c2, s.ask(new Request(c2.path("question").asText(), List.of(), options(c2))));
        }
    }

    @Test
    void batchRowsMatchBatchChat() {
        JsonNode c = find(tiny, "gen_batch_chat");
        List<Request> rows = new ArrayList<>();
        for (int i = 0; i < c.path("questions").size(); i++)
            rows.add(new Request(c.path("questions").get(i).asText(), List.of(Media.image(tiny.resolve(c.path("images").get(i).asText()))), options(c)));
        List<Response> out = model.batch(rows);
        for (int i = 0; i < out.size(); i++) {
            assertThat(out.get(i).tokenIds()).isEqualTo(tiny.ints(c.path("expect").path("generated_ids").get(i)));
            assertThat(out.get(i).text()).isEqualTo(c.path("expect").path("responses").get(i).asText());
            assertThat(out.get(i).promptTokens()).isEqualTo(tiny.ints(c.path("expect").path("prompt_ids").get(i)).length);
        }
    }

}
