package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.chat.Conversation;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.MediaEmbedding;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.weights.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The transformers-native ("-hf") InternVL layout: fixtures/internvl3-tiny/model converted by {@link HfLayoutConverter}
 * loads through ModelRegistry and computes bit for bit what the original layout computes; with the files transformers
 * 5.18 itself wrote for that conversion (fixtures/internvl3-hf/hf, by scripts/internvl_hf_reference.py) the prompts,
 * token ids and logits are transformers' own.
 */
class InternVLHfLayoutTest {
    static final Path ORIGINAL = Path.of("fixtures/internvl3-tiny/model"), REF = Path.of("fixtures/internvl3-hf");
    static InternVLChatModel original;

    @BeforeAll
    static void open() { original = InternVLFamily.loadChatModel(ORIGINAL, LoadOptions.defaults()); }

    @AfterAll
    static void close() { original.close(); }

    static InternVLChatModel loadHf(Path dir) {
        var m = ModelRegistry.load(dir, LoadOptions.defaults());
        assertThat(m).isInstanceOf(InternVLChatModel.class);
        assertThat(((InternVLChatModel) m).hfLayout()).isTrue();
        return (InternVLChatModel) m;
    }

    /** Conversions in either naming give the original's ViT features and logits exactly (same stored values, same kernels). */
    @ParameterizedTest
    @EnumSource(HfLayoutConverter.Naming.class)
    void convertedCheckpointIsBitwiseTheOriginal(HfLayoutConverter.Naming naming, @TempDir Path dir) throws IOException {
        HfLayoutConverter.convert(ORIGINAL, dir, naming);
        try (InternVLChatModel hf = loadHf(dir)) {
            // pixel values and prompt ids of the original pipeline, fed to both models
            var img = new Conversation.Image(Path.of("fixtures/images/red_panda_500x373.png"), null);
            PreparedPrompt p = original.prepare(new Conversation(null,
                    List.of(new Conversation.Turn("What is in the picture?", List.of(img), null)), new Conversation.Limits(4, 0)));
            InternVLImageProcessor.Tiles t = InternVLImageProcessor.preprocess(ImageLoader.loadRgb(img.path()), 1, 4, 224, true);
            float[] pv = t.pixelValues();
            int n = t.numTiles();
            float[] a = sameBits("ViT + projector features", () -> original.vision.extractFeature(pv, n), () -> hf.vision.extractFeature(pv, n));
            sameBits("ViT last hidden state", () -> original.vision.vitEmbeds(pv, n), () -> hf.vision.vitEmbeds(pv, n));
            float[] la = sameBits("logits at every position", () -> original.forward(original.newState(), p.ids(), a, true),
                    () -> hf.forward(hf.newState(), p.ids(), a, true));
            assertThat(la.length).isEqualTo(p.ids().length * 2031);
            // a text-only prompt through the head (untied lm_head, as stored)
            int[] ids = original.tokenizer().encode("hello world", false);
            sameBits("text-only logits", () -> original.forward(original.newState(), ids, null, true),
                    () -> hf.forward(hf.newState(), ids, null, true));
        }
    }

    /**
     * Requires the -hf run to give the original's bits. The engine's Vector API kernels reduce lanes in an order that can
     * change when the JIT recompiles them (float ADD reductions are not order-fixed), so an early call may differ from a
     * later one in the last bits; both layouts run the same kernels, so the -hf run is compared with original runs just
     * before and after it that agree with each other (a steady state).
     */
    static float[] sameBits(String what, java.util.function.Supplier<float[]> original, java.util.function.Supplier<float[]> hf) {
        for (int i = 0; i < 50; i++) {
            float[] before = original.get(), ours = hf.get(), after = original.get();
            if (!Arrays.equals(before, after)) continue;   // the JIT changed a kernel in between: try again
            assertThat(Arrays.equals(before, ours)).as(what).isTrue();
            return ours;
        }
        throw new AssertionError(what + ": the original layout never gave the same bits twice in a row");
    }

    /** The test converter's names and shapes are the ones transformers' save_pretrained wrote for the same conversion. */
    @Test
    void converterNamesMatchTransformersSave(@TempDir Path dir) throws IOException {
        HfLayoutConverter.convert(ORIGINAL, dir, HfLayoutConverter.Naming.FIRST);
        Map<String, List<Long>> ours = new TreeMap<>(), theirs = new TreeMap<>();
        try (var st = dev.navil4j.weights.SafeTensors.open(dir)) {
            for (String n : st.names()) ours.put(n, Arrays.stream(st.get(n).shape()).boxed().toList());
        }
        Json.read(REF.resolve("tensor_names.json")).properties().forEach(e -> {
            List<Long> s = new ArrayList<>();
            e.getValue().forEach(x -> s.add(x.asLong()));
            theirs.put(e.getKey(), s);
        });
        assertThat(ours).isEqualTo(theirs);
    }

    /** The model over transformers' own saved files (config, processor, tokenizer) with the converted weights. */
    static Path transformersDir(Path dir) throws IOException {
        Path conv = dir.resolve("converted");
        HfLayoutConverter.convert(ORIGINAL, conv, HfLayoutConverter.Naming.FIRST);
        Path out = dir.resolve("hf");
        Files.createDirectories(out);
        try (var files = Files.list(REF.resolve("hf"))) {
            for (Path f : files.toList()) Files.copy(f, out.resolve(f.getFileName()));
        }
        Files.copy(conv.resolve("model.safetensors"), out.resolve("model.safetensors"));
        return out;
    }

    @Test
    void transformersSavedConfigMapsOntoTheOriginalSettings(@TempDir Path dir) throws IOException {
        try (InternVLChatModel hf = loadHf(transformersDir(dir))) {
            assertThat(hf.config.vision()).isEqualTo(original.config.vision());
            assertThat(hf.vision.tokensPerTile()).isEqualTo(64);
            assertThat(hf.imgContextId()).isEqualTo(original.imgContextId());
            assertThat(hf.stopId()).isEqualTo(original.stopId());
            assertThat(hf.systemMessage()).as("no default system message").isNull();
            InternVLHfProcessor p = hf.hfProcessor();
            assertThat(p.tileSize()).isEqualTo(224);
            assertThat(p.maxPatches()).isEqualTo(12);
            assertThat(p.contextImage()).isEqualTo("<IMG_CONTEXT>");
            // generation_config.json: eos <|im_end|> (the converter's InternVL3 rule), transformers' global defaults
            var g = hf.defaultGeneration();
            assertThat(g.stopIds()).containsExactly(2002);
            assertThat(g.doSample()).isFalse();
            assertThat(g.topK()).isEqualTo(50);
            assertThat(g.penalizePrompt()).as("generate() gets input_ids").isTrue();
        }
    }

    /**
     * apply_chat_template renders and processor input_ids (prompts.json, from transformers' processor on this checkpoint's
     * template), and transformers' InternVLForConditionalGeneration logits (logits.json) for the single-image prompt.
     */
    @Test
    void promptsIdsAndLogitsAreTransformers(@TempDir Path dir) throws IOException {
        dev.navil4j.video.VideoTests.assumeDecoder();   // some cases hold a video: runs in navil4j-video
        JsonNode cases = Json.read(REF.resolve("prompts.json")).get("cases");
        try (InternVLChatModel hf = loadHf(transformersDir(dir))) {
            for (var e : cases.properties()) {
                JsonNode c = e.getValue();
                PreparedPrompt p = hf.prepare(conversation(c));
                assertThat(p.text()).as(e.getKey() + " rendered").isEqualTo(c.get("rendered").asText());
                if (c.has("input_ids")) {
                    int[] want = new int[c.get("input_ids").size()];
                    for (int i = 0; i < want.length; i++) want[i] = c.get("input_ids").get(i).asInt();
                    assertThat(p.ids()).as(e.getKey() + " input_ids").containsExactly(want);
                }
            }
            JsonNode l = Json.read(REF.resolve("logits.json"));
            PreparedPrompt p = hf.prepare(conversation(cases.get(l.get("prompt").asText())));
            float[] feats = concat(p.media());
            float[] logits = hf.forward(hf.newState(), p.ids(), feats, true);
            int v = 2031;
            double worst = 0;
            for (int r = 0; r < l.get("rows").size(); r++) {
                int row = l.get("rows").get(r).asInt();
                for (int j = 0; j < v; j++)
                    worst = Math.max(worst, Math.abs(logits[row * v + j] - l.get("logits").get(r).get(j).asDouble()));
            }
            // transformers ran float32 on the same bf16 values; the difference is float32 summation order
            assertThat(worst).isLessThan(1e-4);
            // greedy generate() with the checkpoint's defaults (generation_config.json: eos <|im_end|>), 12 new tokens
            var r = dev.navil4j.generate.Generator.generate(hf, p, hf.defaultGeneration().withMaxNewTokens(12));
            int[] want = new int[l.get("generated_ids").size()];
            for (int i = 0; i < want.length; i++) want[i] = l.get("generated_ids").get(i).asInt();
            assertThat(r.ids()).containsExactly(want);
        }
    }

    private static float[] concat(List<MediaEmbedding> media) {
        int n = 0;
        for (MediaEmbedding m : media) n += m.rows().length;
        float[] out = new float[n];
        int o = 0;
        for (MediaEmbedding m : media) { System.arraycopy(m.rows(), 0, out, o, m.rows().length); o += m.rows().length; }
        return out;
    }

    /**
     * A prompts.json case as a Conversation: its system message, user turns whose image/video parts become the turn's
     * media (the case's images in order, red_panda where the case names none; the fixture video), assistant answers.
     */
    static Conversation conversation(JsonNode c) {
        String system = null;
        List<Conversation.Turn> turns = new ArrayList<>();
        List<String> images = new ArrayList<>();
        c.path("images").forEach(x -> images.add(x.asText()));
        int nextImage = 0;
        String user = null;
        List<Conversation.Media> media = null;
        for (JsonNode m : c.get("messages")) {
            String role = m.get("role").asText();
            StringBuilder text = new StringBuilder();
            List<Conversation.Media> parts = new ArrayList<>();
            for (JsonNode part : m.get("content")) {
                switch (part.get("type").asText()) {
                    case "text" -> text.append(part.get("text").asText());
                    case "image" -> parts.add(new Conversation.Image(Path.of(nextImage < images.size() ? images.get(nextImage++)
                            : "fixtures/images/red_panda_500x373.png"), null));
                    case "video" -> parts.add(new Conversation.Video(Path.of("fixtures/images/moving_shapes_96x72_24fps.mp4"), 4, null));
                    default -> throw new IllegalArgumentException(part.toString());
                }
            }
            switch (role) {
                case "system" -> system = text.toString();
                case "user" -> { user = text.toString(); media = parts; }
                case "assistant" -> { turns.add(new Conversation.Turn(user, media, text.toString())); user = null; }
                default -> throw new IllegalArgumentException(role);
            }
        }
        turns.add(new Conversation.Turn(user, media, null));
        int maxTiles = c.path("max_patches").asInt(0);
        return new Conversation(system, turns, new Conversation.Limits(maxTiles, 0));
    }

    @Test
    void placeholdersInTextPlaceTheMedia(@TempDir Path dir) throws IOException {
        dev.navil4j.video.VideoTests.assumeDecoder();   // some cases hold a video: runs in navil4j-video
        try (InternVLChatModel hf = loadHf(transformersDir(dir))) {
            var img = new Conversation.Image(Path.of("fixtures/images/tiny_40x30.png"), null);
            PreparedPrompt p = hf.prepare(new Conversation(null, List.of(new Conversation.Turn("Look: <image> ok?", List.of(img), null))));
            assertThat(p.text()).isEqualTo("<|im_start|>user\nLook: <IMG_CONTEXT> ok?<|im_end|>\n<|im_start|>assistant\n");
            assertThatThrownBy(() -> hf.prepare(new Conversation(null, List.of(new Conversation.Turn("<image><image>", List.of(img), null)))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 <image> placeholders for 1");
            // user text that spells <IMG_CONTEXT> stays text: it neither becomes an image slot nor an image token
            PreparedPrompt t = hf.prepare(new Conversation(null, List.of(new Conversation.Turn("<IMG_CONTEXT>", List.of(), null))));
            assertThat(t.ids()).doesNotContain(hf.imgContextId());
            // a video: one <img>…</img> of one tile per sampled frame, "FrameN: " before each (replace_video_token);
            // expected ids tokenized from that text independently of the prompt builder
            var v = new Conversation.Video(Path.of("fixtures/images/moving_shapes_96x72_24fps.mp4"), 3, null);
            PreparedPrompt vp = hf.prepare(new Conversation(null, List.of(new Conversation.Turn("What happens?", List.of(v), null))));
            String frame = "<img>" + "<IMG_CONTEXT>".repeat(64) + "</img>";
            String want = "<|im_start|>user\nFrame1: " + frame + "\nFrame2: " + frame + "\nFrame3: " + frame
                    + "\nWhat happens?<|im_end|>\n<|im_start|>assistant\n";
            assertThat(vp.ids()).containsExactly(hf.tokenizer().encode(want, false));
            assertThat(vp.media()).hasSize(3);
        }
    }

    /** What the -hf loader refuses, each naming the file and field; the nested processor_config.json form loads. */
    @Test
    void refusalsAndFileForms(@TempDir Path dir) throws IOException {
        HfLayoutConverter.convert(ORIGINAL, dir, HfLayoutConverter.Naming.LATER);
        // transformers 5's save_pretrained form: the image processor nested in processor_config.json
        var proc = (com.fasterxml.jackson.databind.node.ObjectNode) Json.read(dir.resolve("processor_config.json"));
        proc.set("image_processor", Json.read(dir.resolve("preprocessor_config.json")));
        Json.MAPPER.writeValue(dir.resolve("processor_config.json").toFile(), proc);
        Files.delete(dir.resolve("preprocessor_config.json"));
        try (InternVLChatModel m = loadHf(dir)) {
            assertThat(m.hfProcessor().tileSize()).isEqualTo(224);
        }
        Path template = dir.resolve("chat_template.jinja");
        String good = Files.readString(template);
        Files.writeString(template, good.replace("<|im_start|>assistant", "<|im_start|>bot"));
        assertThatThrownBy(() -> ModelRegistry.load(dir, LoadOptions.defaults()))
                .hasMessageContaining("chat_template.jinja").hasMessageContaining("is not the InternVL -hf template");
        Files.writeString(template, good);
        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) Json.read(dir.resolve("config.json"));
        cfg.put("image_token_id", 7);
        Json.MAPPER.writeValue(dir.resolve("config.json").toFile(), cfg);
        assertThatThrownBy(() -> ModelRegistry.load(dir, LoadOptions.defaults()))
                .hasMessageContaining("image_token_id 7 is not the tokenizer's <IMG_CONTEXT> (id 2024)");
        cfg.put("image_token_id", 2024);
        ((com.fasterxml.jackson.databind.node.ObjectNode) cfg.get("text_config")).put("model_type", "llama");
        Json.MAPPER.writeValue(dir.resolve("config.json").toFile(), cfg);
        assertThatThrownBy(() -> ModelRegistry.load(dir, LoadOptions.defaults()))
                .hasMessageContaining("model_type \"llama\" is not supported");
    }

    /** InternVLVideoProcessor.sample_frames with initial_shift=True: arange(total/n/2, total, total/n).int(). */
    @Test
    void videoFrameSampling() {
        // by hand: 24 frames, 8 wanted -> step 3, start 1.5 -> 1.5, 4.5, ... 22.5 -> 1, 4, ..., 22
        assertThat(InternVLHfPrompts.sampleFrames(24, 8)).containsExactly(1, 4, 7, 10, 13, 16, 19, 22);
        // 10 frames, 4 wanted -> step 2.5, start 1.25 -> 1.25, 3.75, 6.25, 8.75
        assertThat(InternVLHfPrompts.sampleFrames(10, 4)).containsExactly(1, 3, 6, 8);
        assertThatThrownBy(() -> InternVLHfPrompts.sampleFrames(3, 8)).hasMessageContaining("cannot sample 8 frames");
    }
}
