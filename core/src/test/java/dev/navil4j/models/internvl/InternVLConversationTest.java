package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.chat.Conversation;
import dev.navil4j.chat.Conversation.Turn;
import dev.navil4j.generate.Generator;
import dev.navil4j.generate.Sequence;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The family-independent API (ModelRegistry.load → prepare(Conversation) → Generator) reproduces the reference
 * chat() prompts and tokens of the fixtures: images placed without placeholders, separate and combined images,
 * multi-round history, video frames; per-request limits are honoured before anything is encoded.
 */
class InternVLConversationTest {
    static Fixture tiny, video;
    static VisionLanguageModel model;

    @BeforeAll
    static void open() {
        tiny = new Fixture(Path.of("fixtures/internvl3-tiny"));
        video = new Fixture(Path.of("fixtures/internvl3-video"));
        model = ModelRegistry.load(Path.of("fixtures/internvl3-tiny/model"), LoadOptions.defaults());
    }

    @AfterAll
    static void close() {
        model.close();
        tiny.close();
        video.close();
    }

    private static Conversation.Image image(String name) {
        return new Conversation.Image(Path.of("fixtures/images", name), null);
    }

    /** prepare() gives the case's prompt ids and greedy generation its ids and response. */
    private static void assertChat(Fixture fx, String caseName, Conversation conv) {
        JsonNode c = InternVLGenerationTest.named(fx, caseName);
        JsonNode e = c.get("expect");
        PreparedPrompt p = model.prepare(conv);
        assertThat(p.ids()).as(caseName + " prompt").containsExactly(fx.ints(e.get("prompt_ids")));
        Sequence.Result r = Generator.generate(model, p, model.defaultGeneration().withMaxNewTokens(c.get("generation").get("max_new_tokens").asInt()));
        assertThat(r.ids()).as(caseName + " ids").containsExactly(fx.ints(e.get("generated_ids")));
        assertThat(r.text()).as(caseName + " response").isEqualTo(e.get("response").asText());
    }

    private static final Conversation.Limits SIX = new Conversation.Limits(6, 0);

    @Test
    void singleImageWithoutPlaceholderThenASecondRound() {
        String a1 = InternVLGenerationTest.named(tiny, "gen_image").get("expect").get("response").asText();
        assertChat(tiny, "gen_image", new Conversation(null, List.of(
                new Turn("Please describe the image shortly.", List.of(image("red_panda_500x373.png")), null)), SIX));
        assertChat(tiny, "gen_image_round2", new Conversation(null, List.of(
                new Turn("Please describe the image shortly.", List.of(image("red_panda_500x373.png")), a1),
                new Turn("Please write a poem according to the image.", List.of(), null)), SIX));
    }

    @Test
    void twoImagesSeparateAndCombined() {
        List<Conversation.Media> both = List.of(image("red_panda_500x373.png"), image("wide_1200x150.png"));
        assertChat(tiny, "gen_two_images_separate", new Conversation(null, List.of(
                new Turn("What are the similarities and differences between these two images.", both, null)), SIX));
        assertChat(tiny, "gen_two_images_combined", new Conversation(null, List.of(
                new Turn("<image>\nDescribe the two images in detail.", both, null)), SIX));
    }

    @Test
    void pureText() {
        assertChat(tiny, "gen_text", new Conversation(null, List.of(new Turn("Hello, who are you?", List.of(), null))));
    }

    @Test
    void videoFramesFromTheFile() {
        dev.navil4j.video.VideoTests.assumeDecoder();
        String a1 = InternVLGenerationTest.named(video, "gen_video").get("expect").get("response").asText();
        Conversation.Video v = new Conversation.Video(Path.of("fixtures/images/moving_shapes_96x72_24fps.mp4"), 8, null);
        assertChat(video, "gen_video", new Conversation(null, List.of(new Turn("What is happening in this video?", List.of(v), null))));
        assertChat(video, "gen_video_round2", new Conversation(null, List.of(
                new Turn("What is happening in this video?", List.of(v), a1),
                new Turn("Describe this video in detail.", List.of(), null))));
    }

    @Test
    void limitsCapTilesAndRefuseOversizedMedia() {
        Turn t = new Turn("Describe.", List.of(image("red_panda_500x373.png")), null);
        PreparedPrompt one = model.prepare(new Conversation(null, List.of(t), new Conversation.Limits(1, 0)));
        assertThat(one.mediaTokens()).isEqualTo(64);
        assertThatThrownBy(() -> model.prepare(new Conversation(null, List.of(t), new Conversation.Limits(6, 100))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("media token budget of 100");
        assertThatThrownBy(() -> model.prepare(new Conversation(null, List.of(new Turn("<image><image> hi", List.of(image("tiny_40x30.png")), null)))))
                .hasMessageContaining("placeholders");
        assertThatThrownBy(() -> model.prepare(new Conversation(null, List.of(new Turn("q", List.of(), "answered")))))
                .hasMessageContaining("last turn");
    }

    @Test
    void configOverrideMergesNestedKeys() throws Exception {
        var over = dev.navil4j.weights.Json.MAPPER.readTree("{\"vision_config\": {\"norm_type\": \"bogus\"}}");
        assertThatThrownBy(() -> ModelRegistry.load(Path.of("fixtures/internvl3-tiny/model"), LoadOptions.defaults().withConfigOverride(over)))
                .hasMessageContaining("unsupported norm_type \"bogus\"");
        var ok = dev.navil4j.weights.Json.MAPPER.readTree("{\"vision_config\": {\"layer_norm_eps\": 1e-6}, \"template\": \"internvl2_5\"}");
        try (var m = InternVLFamily.loadChatModel(Path.of("fixtures/internvl3-tiny/model"), LoadOptions.defaults().withConfigOverride(ok))) {
            assertThat(m.config.vision().hiddenSize()).isEqualTo(64); // the rest of vision_config survived the merge
        }
    }

    @Test
    void promptsLongerThanTheContextAreRefusedBeforeEncoding() {
        VisionLanguageModel small = ModelRegistry.load(Path.of("fixtures/internvl3-tiny/model"),
                new LoadOptions("auto", 300, false, true, null));
        try {
            Turn t = new Turn("Describe.", List.of(image("red_panda_500x373.png")), null);
            assertThatThrownBy(() -> small.prepare(new Conversation(null, List.of(t), SIX)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exceeds the model's context of 300 tokens");
        } finally {
            small.close();
        }
    }
}
