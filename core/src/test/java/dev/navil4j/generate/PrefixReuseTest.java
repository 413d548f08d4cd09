package dev.navil4j.generate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.ChatModel;
import dev.navil4j.ChatSession;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.chat.Conversation;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A session's second turn reuses the KV cache of its first (prompt + answer) up to the first token that differs,
 * re-encodes no image (media cache hit), and still answers exactly what the reference answers in round 2 — which
 * the reference computes from scratch.
 */
class PrefixReuseTest {
    /**
     * Round 1 = the fixture's single-turn case, round 2 = its *_round2 case (whose history is round 1's question
     * and answer): ids of both rounds must equal the reference's, round 2 must reuse a prefix, and a fresh session
     * started from the same history (no cache) must give the same round-2 ids.
     */
    private static void twoRounds(String fixture, String round1, String round2) throws Exception {
        Fixture fx = new Fixture(Path.of("fixtures", fixture));
        JsonNode c1 = BatchedGenerationTest.named(fx, round1), c2 = BatchedGenerationTest.named(fx, round2);
        try (ChatModel model = Navil4j.load(Path.of("fixtures", fixture, "model"))) {
            ChatSession s = model.newSession();
            Conversation.Media[] media = c1.path("images").isEmpty() ? new Conversation.Media[0]
                    : new Conversation.Media[] {Media.image(fx.resolve(c1.get("images").get(0).asText()))};
            Response r1 = s.ask(Request.of(c1.get("question").asText(), media).with(opts(c1)));
            assertThat(r1.tokenIds()).as(round1).containsExactly(fx.ints(c1.get("expect").get("generated_ids")));
            assertThat(r1.text()).isEqualTo(c2.get("history").get(0).get(1).asText()); // round 2's history is round 1
            assertThat(r1.cachedTokens()).isZero();
            long misses = model.model().mediaCache().misses();

            Response r2 = s.ask(Request.of(c2.get("question").asText()).with(opts(c2)));
            assertThat(r2.tokenIds()).as(round2).containsExactly(fx.ints(c2.get("expect").get("generated_ids")));
            assertThat(r2.text()).isEqualTo(c2.get("expect").get("response").asText());
            // the whole first prompt at least is shared (the answer re-tokenized from its cleaned text may differ)
            assertThat(r2.cachedTokens()).as(round2 + " reused").isGreaterThan(r1.promptTokens() - 2);
            assertThat(model.model().mediaCache().misses()).as("no image re-encoded").isEqualTo(misses);

            // the same round 2 without any cache: identical
            ChatSession fresh = model.newSession(null, s.history().subList(0, 1));
            Response cold = fresh.ask(Request.of(c2.get("question").asText()).with(opts(c2)));
            assertThat(cold.cachedTokens()).isZero();
            assertThat(cold.tokenIds()).containsExactly(r2.tokenIds());
        }
    }

    private static RequestOptions opts(JsonNode c) {
        RequestOptions o = RequestOptions.defaults().withMaxNewTokens(c.get("generation").get("max_new_tokens").asInt());
        return c.path("params").has("max_num") ? o.withMaxTiles(c.path("params").get("max_num").asInt()) : o;
    }

    @Test
    void internVLTextRounds() throws Exception { twoRounds("internvl3-tiny", "gen_text", "gen_text_round2"); }

    @Test
    void internVLImageRounds() throws Exception { twoRounds("internvl3-tiny", "gen_image", "gen_image_round2"); }

    @Test
    void naViLQwen3ImageRounds() throws Exception { twoRounds("navil-qwen3-tiny", "gen_round1", "gen_round2"); }

    @Test
    void naViLInternLM2ImageRounds() throws Exception { twoRounds("navil-internlm2-tiny", "gen_round1", "gen_round2"); }

    /** The video chat's second round (8 frames, one tile each) reuses the first round's KV and stays exact. */
    @Test
    void internVLVideoRounds() throws Exception {
        dev.navil4j.video.VideoTests.assumeDecoder();
        Fixture fx = new Fixture(Path.of("fixtures/internvl3-video"));
        JsonNode c1 = BatchedGenerationTest.named(fx, "gen_video"), c2 = BatchedGenerationTest.named(fx, "gen_video_round2");
        try (ChatModel model = Navil4j.load(Path.of("fixtures/internvl3-tiny/model"))) {
            ChatSession s = model.newSession();
            String q1 = c1.get("question").asText();
            q1 = q1.substring(q1.lastIndexOf('\n') + 1); // the "FrameK: <image>" lines are what the API writes for a video
            Response r1 = s.ask(Request.of(q1, Media.video(fx.resolve(c1.get("video").asText()), c1.get("num_segments").asInt())).with(opts(c1)));
            assertThat(r1.tokenIds()).containsExactly(fx.ints(c1.get("expect").get("generated_ids")));
            long misses = model.model().mediaCache().misses();
            Response r2 = s.ask(Request.of(c2.get("question").asText()).with(opts(c2)));
            assertThat(r2.tokenIds()).containsExactly(fx.ints(c2.get("expect").get("generated_ids")));
            assertThat(r2.cachedTokens()).isGreaterThan(r1.promptTokens() - 2);
            assertThat(model.model().mediaCache().misses()).isEqualTo(misses);
        }
    }

    /** batch_chat(): the two rows generated as one batch give the reference's ids (cut after the first stop id). */
    @Test
    void internVLBatchChatAsOneBatch() throws Exception {
        Fixture fx = new Fixture(Path.of("fixtures/internvl3-tiny"));
        JsonNode c = BatchedGenerationTest.named(fx, "gen_batch_chat");
        try (ChatModel model = Navil4j.load(Path.of("fixtures/internvl3-tiny/model"))) {
            List<Request> rows = new java.util.ArrayList<>();
            for (int i = 0; i < c.get("questions").size(); i++)
                rows.add(Request.of(c.get("questions").get(i).asText(), Media.image(fx.resolve(c.get("images").get(i).asText())))
                        .with(opts(c)));
            List<Response> out = model.batch(rows);
            for (int i = 0; i < out.size(); i++) {
                assertThat(out.get(i).tokenIds()).as("row " + i).containsExactly(fx.ints(c.get("expect").get("generated_ids").get(i)));
                assertThat(out.get(i).text()).isEqualTo(c.get("expect").get("responses").get(i).asText());
            }
        }
    }

    /** A repeated image in a new session is not encoded again; the answer is the same. */
    @Test
    void repeatedImageHitsTheMediaCache() throws Exception {
        try (ChatModel model = Navil4j.load(Path.of("fixtures/internvl3-tiny/model"))) {
            Path img = Path.of("fixtures/images/red_panda_500x373.png");
            Request q = Request.of("What is this?", Media.image(img)).with(RequestOptions.defaults().withMaxNewTokens(6));
            Response a = model.newSession().ask(q);
            long hits = model.model().mediaCache().hits(), misses = model.model().mediaCache().misses();
            Response b = model.newSession().ask(q);
            assertThat(model.model().mediaCache().misses()).isEqualTo(misses);
            assertThat(model.model().mediaCache().hits()).isEqualTo(hits + 1);
            assertThat(b.tokenIds()).containsExactly(a.tokenIds());
            // a different preprocessing (fewer tiles) is a different entry
            model.newSession().ask(q.with(RequestOptions.defaults().withMaxNewTokens(2).withMaxTiles(2)));
            assertThat(model.model().mediaCache().misses()).isEqualTo(misses + 1);
        }
    }

    /** A session whose history is rewritten (not a continuation) reuses only the common prefix and stays exact. */
    @Test
    void divergingTurnsReuseOnlyTheCommonPrefix() throws Exception {
        try (ChatModel model = Navil4j.load(Path.of("fixtures/internvl3-tiny/model"))) {
            RequestOptions o = RequestOptions.defaults().withMaxNewTokens(8);
            ChatSession s = model.newSession();
            s.ask(Request.of("Hello, who are you?").with(o));
            s.reset();
            Response r = s.ask(Request.of("Hello, what are you?").with(o));
            Response cold = model.newSession().ask(Request.of("Hello, what are you?").with(o));
            assertThat(r.cachedTokens()).isZero(); // reset drops the cache
            assertThat(r.tokenIds()).containsExactly(cold.tokenIds());
            ChatSession t = model.newSession();
            t.ask(Request.of("Hello, who are you?").with(o));
            ChatSession u = model.newSession(null, List.of(new Conversation.Turn("Hello, who are you?", List.of(), "something else")));
            Response want = u.ask(Request.of("Why?").with(o));
            // t's second turn has the same history text only if its answer was "something else": compare to a cold t
            Response got = t.ask(Request.of("Why?").with(o));
            Response coldT = model.newSession(null, t.history().subList(0, 1)).ask(Request.of("Why?").with(o));
            assertThat(got.tokenIds()).containsExactly(coldT.tokenIds());
            assertThat(got.cachedTokens()).isPositive();
            assertThat(want.cachedTokens()).isZero();
        }
    }
}
