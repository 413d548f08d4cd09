package dev.navil4j.models.navil;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.ChatModel;
import dev.navil4j.ChatSession;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** NaViL through the public chat API: a two-round image conversation answers as the reference's chat() rounds. */
class NaViLChatApiTest {
    @ParameterizedTest
    @ValueSource(strings = {"navil-internlm2-tiny", "navil-qwen3-tiny"})
    void twoRoundsMatchTheReference(String name) {
        try (Fixture fx = new Fixture(Path.of("fixtures", name));
             ChatModel model = Navil4j.load(fx.resolve("model"))) {
            JsonNode r1 = null, r2 = null;
            for (JsonNode c : fx.cases()) {
                if (c.path("name").asText().equals("gen_round1")) r1 = c;
                if (c.path("name").asText().equals("gen_round2")) r2 = c;
            }
            assertThat(model.family()).isEqualTo("navil");
            ChatSession s = model.newSession();
            s.options(RequestOptions.defaults().withMaxNewTokens(r1.path("generation").path("max_new_tokens").asInt()));
            Response a1 = s.ask(r1.path("question").asText(), Media.image(fx.resolve(r1.path("images").get(0).asText())));
            assertThat(a1.text()).isEqualTo(r1.path("expect").path("response").asText());
            assertThat(a1.tokenIds()).isEqualTo(NaViLFamily.idsOf(fx, r1.path("expect").get("generated_ids")));
            s.options(RequestOptions.defaults().withMaxNewTokens(r2.path("generation").path("max_new_tokens").asInt()));
            Response a2 = s.ask(r2.path("question").asText());
            assertThat(a2.text()).isEqualTo(r2.path("expect").path("response").asText());
            assertThat(a2.promptTokens()).isEqualTo(NaViLFamily.idsOf(fx, r2.path("expect").get("prompt_ids")).length);
        }
    }
}
