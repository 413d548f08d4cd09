package dev.navil4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.ChatModel;
import dev.navil4j.ChatSession;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.Request;
import dev.navil4j.Response;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static dev.navil4j.api.InternVLApiFixtureTest.assertMatches;
import static dev.navil4j.api.InternVLApiFixtureTest.find;
import static dev.navil4j.api.InternVLApiFixtureTest.options;

/** A video chat through the public API against the reference chat() on video frames, two rounds. */
class InternVLVideoApiFixtureTest {
    static Fixture video;
    static ChatModel model;

    @BeforeAll
    static void load() {
        dev.navil4j.video.VideoTests.assumeDecoder();
        video = new Fixture(Path.of("fixtures/internvl3-video"));
        model = Navil4j.load(Path.of("fixtures/internvl3-tiny/model"));
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
        if (video != null) video.close();
    }

    @Test
    void videoChatTwoRounds() {
        JsonNode c = find(video, "gen_video");
        // the session places "Frame1: <image>\n…" itself, so the question is the text after the frame lines
        String q = c.path("question").asText().replaceAll("Frame\\d+: <image>\n", "");
        ChatSession s = model.newSession();
        Response r1 = s.ask(new Request(q, List.of(Media.video(video.resolve(c.path("video").asText()), c.path("num_segments").asInt())), options(c)));
        assertMatches(video, c, r1);
        JsonNode c2 = find(video, "gen_video_round2");
        assertMatches(video, c2, s.ask(new Request(c2.path("question").asText(), List.of(), options(c2))));
    }
}
