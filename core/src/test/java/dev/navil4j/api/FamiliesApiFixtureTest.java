package dev.navil4j.api;

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
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same public API, unchanged, on the VoRA and NaViL fixture checkpoints: every chat-level generate case
 * (system message, history, one or several images) asked through a {@link ChatSession} gives the reference's
 * generated ids and response, and the streamed text equals the response.
 */
class FamiliesApiFixtureTest {
    @TestFactory
    Stream<DynamicContainer> everyChatCaseOfEveryFamily() {
        return Stream.of("vora-tiny", "navil-internlm2-tiny", "navil-qwen3-tiny").map(name -> {
            Path dir = Path.of("fixtures", name);
            List<DynamicTest> tests = new ArrayList<>();
            Fixture probe = new Fixture(dir);
            for (JsonNode c : probe.cases()) {
                if (!c.path("kind").asText().equals("generate")) continue;
                // VoRA's gen_text is model.llm.generate(input_ids), not a chat (its note says so)
                if (c.path("note").asText().contains("llm.generate")) continue;
                tests.add(DynamicTest.dynamicTest(c.path("name").asText(), () -> runCase(dir, c)));
            }
            probe.close();
            return DynamicContainer.dynamicContainer(name, tests);
        });
    }

    private static void runCase(Path dir, JsonNode c) {
        try (Fixture f = new Fixture(dir); ChatModel model = Navil4j.load(f.modelDir(c))) {
            List<Conversation.Media> images = new ArrayList<>();
            for (JsonNode p : c.path("images")) images.add(Media.image(f.resolve(p.asText())));
            JsonNode g = c.path("generation");
            RequestOptions o = RequestOptions.defaults().withMaxNewTokens(g.path("max_new_tokens").asInt()).withDoSample(false);
            if (g.has("repetition_penalty")) o = o.withRepetitionPenalty((float) g.path("repetition_penalty").asDouble());
            String system = c.path("system").isTextual() ? c.path("system").asText() : null;
            JsonNode history = c.path("history");
            ChatSession s;
            Request q;
            if (history.isArray() && !history.isEmpty()) {
                // chat(..., history) with pixel_values: the images belong to the history's <image> turn
                List<Conversation.Turn> past = new ArrayList<>();
                for (int i = 0; i < history.size(); i++)
                    past.add(new Conversation.Turn(history.get(i).get(0).asText(), i == 0 ? images : List.of(), history.get(i).get(1).asText()));
                s = model.newSession(system, past);
                q = new Request(c.path("question").asText(), List.of(), o);
            } else {
                s = model.newSession(system);
                q = new Request(c.path("question").asText(), images, o);
            }
            StringBuilder streamed = new StringBuilder();
            Response r = s.stream(q, model.cleanStream(streamed::append));
            JsonNode e = c.path("expect");
            assertThat(r.tokenIds()).as("generated ids").isEqualTo(f.ints(e.path("generated_ids")));
            assertThat(r.text()).as("response").isEqualTo(e.path("response").asText());
            // (prompt lengths are not compared: VoRA's prompt_ids hold one <image> id where its prompt has the 64 media positions)
            assertThat(streamed.toString()).isEqualTo(r.text());
        }
    }
}
