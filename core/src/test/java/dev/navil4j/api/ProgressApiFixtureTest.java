package dev.navil4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.navil4j.ChatModel;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.ProgressEvent;
import dev.navil4j.ProgressEvent.Stage;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.Generator;
import dev.navil4j.generate.Sequence;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.verify.Fixture;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Progress events on the fixture checkpoints of every family: load (per tensor), media decode, vision encode (tiles,
 * scales, images) and prefill arrive in order, counts stay within their totals and every stage ends at its total;
 * the answers are still the reference's (progress changes nothing that is computed).
 */
class ProgressApiFixtureTest {
    static final Path INTERNVL = Path.of("fixtures/internvl3-tiny");

    static JsonNode find(Fixture f, String name) {
        return f.cases().stream().filter(c -> c.path("name").asText().equals(name)).findFirst().orElseThrow();
    }

    static List<ProgressEvent> of(List<ProgressEvent> events, Stage stage) {
        return events.stream().filter(e -> e.stage() == stage).toList();
    }

    /** Within a stage: done never decreases, the total never changes, and the last event is done == total. */
    static void assertWellFormed(List<ProgressEvent> events) {
        for (Stage s : Stage.values()) {
            List<ProgressEvent> st = of(events, s);
            if (st.isEmpty()) continue;
            for (int i = 1; i < st.size(); i++) {
                assertThat(st.get(i).done()).as("%s done order", s).isGreaterThanOrEqualTo(st.get(i - 1).done());
                assertThat(st.get(i).total()).as("%s total", s).isEqualTo(st.getFirst().total());
            }
            assertThat(st.getLast().finished()).as("%s ends at its total", s).isTrue();
        }
    }

    /** Stages in the order a request goes through them (each stage's events contiguous). */
    static void assertStageOrder(List<ProgressEvent> events, Stage... expected) {
        List<Stage> seen = new ArrayList<>();
        for (ProgressEvent e : events) if (seen.isEmpty() || seen.getLast() != e.stage()) seen.add(e.stage());
        assertThat(seen).containsExactly(expected);
    }

    /** Tensors in a safetensors file, read from its header here (8-byte little-endian length, then JSON). */
    static int tensorCount(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            ByteBuffer header = ByteBuffer.allocate((int) len.getLong(0));
            ch.read(header, 8);
            JsonNode h = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
            int n = 0;
            for (var it = h.fieldNames(); it.hasNext(); ) if (!it.next().equals("__metadata__")) n++;
            return n;
        }
    }

    @Test
    void internVLLoadImageRequestAndCachedRepeat() throws IOException {
        List<ProgressEvent> load = new CopyOnWriteArrayList<>();
        try (Fixture f = new Fixture(INTERNVL);
             ChatModel model = Navil4j.load(INTERNVL.resolve("model"), LoadOptions.defaults().withProgress(load::add))) {
            // LOAD: one step per tensor scanned for NaN/Inf and one per tensor the model takes
            assertWellFormed(load);
            assertThat(load).allMatch(e -> e.stage() == Stage.LOAD && e.unit() == ProgressEvent.Unit.TENSORS);
            assertThat(load.getLast().total()).isEqualTo(2L * tensorCount(INTERNVL.resolve("model/model.safetensors")));
            assertThat(load.size()).isGreaterThan(10);

            JsonNode c = find(f, "gen_image");
            RequestOptions base = InternVLApiFixtureTest.options(c);
            List<ProgressEvent> events = new CopyOnWriteArrayList<>();
            Response r = model.newSession().ask(new Request(c.path("question").asText(), List.of(InternVLApiFixtureTest.images(f, c)),
                    base.withProgress(events::add)));
            InternVLApiFixtureTest.assertMatches(f, c, r);
            assertWellFormed(events);
            assertStageOrder(events, Stage.MEDIA_DECODE, Stage.VISION_ENCODE, Stage.PREFILL);
            assertThat(of(events, Stage.MEDIA_DECODE)).singleElement()
                    .satisfies(e -> assertThat(e.detail()).isEqualTo("red_panda_500x373.png"))
                    .satisfies(e -> assertThat(e.total()).isEqualTo(1));
            // the tiles: the fixture's preprocess case of the same image and params expects num_patches 7 (6 + thumbnail)
            long tiles = find(f, "grid_panda_224_max6").path("expect").path("num_patches").asLong();
            List<ProgressEvent> vision = of(events, Stage.VISION_ENCODE);
            assertThat(vision.getLast().total()).isEqualTo(tiles);
            assertThat(vision).allMatch(e -> e.unit() == ProgressEvent.Unit.TILES);
            // 7 tiles take two ViT passes (4 tiles per pass), each reported
            assertThat(vision.stream().map(ProgressEvent::done).toList()).hasSize(2).isSorted().doesNotHaveDuplicates();
            // PREFILL: the reference prompt's length (nothing reused in a fresh session)
            int promptLength = f.ints(c.path("expect").path("prompt_ids")).length;
            assertThat(of(events, Stage.PREFILL).getLast().total()).isEqualTo(promptLength);

            // the same image again: its features come from the media cache, reported at once
            events.clear();
            Response again = model.newSession().ask(new Request(c.path("question").asText(), List.of(InternVLApiFixtureTest.images(f, c)),
                    base.withProgress(events::add)));
            InternVLApiFixtureTest.assertMatches(f, c, again);
            assertThat(of(events, Stage.VISION_ENCODE)).singleElement().satisfies(e -> assertThat(e.done()).isEqualTo(tiles));
        }
    }

    /**
     * {@code Navil4j.load("org/name", options with a listener)}: the missing files of the snapshot are downloaded (from a
     * local fake of the hub serving the fixture checkpoint) with DOWNLOAD events per file, then the LOAD events.
     */
    @Test
    void hubLoadReportsTheDownloadPerFileThenTheLoad(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Path served = INTERNVL.resolve("model").toAbsolutePath();
        java.util.Map<String, String> saved = new java.util.HashMap<>();
        for (String k : List.of("HF_HUB_CACHE", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_TOKEN")) saved.put(k, System.getProperty(k));
        try (dev.navil4j.hub.FakeHub hub = new dev.navil4j.hub.FakeHub("org/internvl3-tiny", served)) {
            System.setProperty("HF_HUB_CACHE", tmp.resolve("cache").toString());
            System.setProperty("HF_ENDPOINT", hub.endpoint());
            System.setProperty("HF_HUB_OFFLINE", "0");
            System.setProperty("HF_TOKEN", "");
            List<ProgressEvent> events = new CopyOnWriteArrayList<>();
            try (ChatModel model = Navil4j.load("org/internvl3-tiny", LoadOptions.defaults().withProgress(events::add))) {
                assertThat(model.family()).isEqualTo("internvl3");
            }
            List<ProgressEvent> download = of(events, Stage.DOWNLOAD);
            // every file of the served directory that a model download takes (HfHub's list of wanted suffixes, as
            // huggingface_hub's allow_patterns in the reference loaders), each ending at its size on disk
            List<String> wanted = List.of(".json", ".safetensors", ".model", ".txt", ".tiktoken", ".jinja");
            java.util.Map<String, Long> sizes = new java.util.TreeMap<>();
            try (var files = java.nio.file.Files.list(served)) {
                for (Path p : files.toList())
                    if (wanted.stream().anyMatch(p.getFileName().toString()::endsWith))
                        sizes.put(p.getFileName().toString(), java.nio.file.Files.size(p));
            }
            java.util.Map<String, Long> finished = new java.util.TreeMap<>();
            for (ProgressEvent e : download) {
                assertThat(e.unit()).isEqualTo(ProgressEvent.Unit.BYTES);
                assertThat(e.total()).as(e.detail()).isEqualTo(sizes.get(e.detail()));
                if (e.finished()) finished.put(e.detail(), e.done());
            }
            assertThat(finished).isEqualTo(sizes);
            // per file, done never decreases; all of the download comes before the load
            for (String file : sizes.keySet()) {
                List<Long> done = download.stream().filter(e -> e.detail().equals(file)).map(ProgressEvent::done).toList();
                assertThat(done).as(file).isSorted();
                assertThat(done.getLast()).isEqualTo(sizes.get(file));
            }
            int lastDownload = events.indexOf(download.getLast()), firstLoad = events.indexOf(of(events, Stage.LOAD).getFirst());
            assertThat(lastDownload).isLessThan(firstLoad);
            assertWellFormed(of(events, Stage.LOAD));
            // a second load reads the cache: no download at all
            events.clear();
            try (ChatModel again = Navil4j.load("org/internvl3-tiny", LoadOptions.defaults().withProgress(events::add))) {
                assertThat(of(events, Stage.DOWNLOAD)).isEmpty();
            }
        } finally {
            saved.forEach((k, v) -> { if (v == null) System.clearProperty(k); else System.setProperty(k, v); });
        }
    }

    /** {@code ChatModel.batch}: each row's listener gets that row's events; the answers are still the reference's. */
    @Test
    void batchReportsEachRequestToItsOwnListener() {
        try (Fixture f = new Fixture(INTERNVL); ChatModel model = Navil4j.load(INTERNVL.resolve("model"))) {
            JsonNode image = find(f, "gen_image"), text = find(f, "gen_text");
            List<ProgressEvent> imageEvents = new CopyOnWriteArrayList<>(), textEvents = new CopyOnWriteArrayList<>();
            List<Response> out = model.batch(List.of(
                    new Request(image.path("question").asText(), List.of(InternVLApiFixtureTest.images(f, image)),
                            InternVLApiFixtureTest.options(image).withProgress(imageEvents::add)),
                    new Request(text.path("question").asText(), List.of(),
                            InternVLApiFixtureTest.options(text).withProgress(textEvents::add))));
            InternVLApiFixtureTest.assertMatches(f, image, out.get(0));
            InternVLApiFixtureTest.assertMatches(f, text, out.get(1));
            assertWellFormed(imageEvents);
            assertWellFormed(textEvents);
            assertStageOrder(imageEvents, Stage.MEDIA_DECODE, Stage.VISION_ENCODE, Stage.PREFILL);
            assertStageOrder(textEvents, Stage.PREFILL);
            // each row's PREFILL counts its own prompt: the reference prompt lengths of the two cases
            assertThat(of(imageEvents, Stage.PREFILL).getLast().total()).isEqualTo(f.ints(image.path("expect").path("prompt_ids")).length);
            assertThat(of(textEvents, Stage.PREFILL).getLast().total()).isEqualTo(f.ints(text.path("expect").path("prompt_ids")).length);
        }
    }

    @Test
    void chunkedPrefillReportsEachChunkAndGeneratesTheReference() {
        try (Fixture f = new Fixture(INTERNVL); ChatModel model = Navil4j.load(INTERNVL.resolve("model"))) {
            JsonNode c = find(f, "gen_image");
            PreparedPrompt p = model.model().prepare(new Conversation(null, List.of(new Conversation.Turn(c.path("question").asText(),
                    List.of(InternVLApiFixtureTest.images(f, c)), null)), new Conversation.Limits(6, 0)));
            List<ProgressEvent> events = new ArrayList<>();
            int[] eventsAtFirstText = {-1};
            Sequence.Listener text = piece -> { if (eventsAtFirstText[0] < 0) eventsAtFirstText[0] = events.size(); };
            Sequence.Result r = Generator.generate(model.model(), p, InternVLApiFixtureTest.options(c).applyTo(model.model().defaultGeneration()),
                    model.model().newState(), text, events::add, 64);
            // the stage ends before any text is streamed (a terminal's progress line is wiped before the answer)
            assertThat(eventsAtFirstText[0]).isEqualTo(events.size());
            assertThat(r.ids()).isEqualTo(f.ints(c.path("expect").path("generated_ids")));
            List<Long> expected = new ArrayList<>();
            for (long d = 64; d < p.length(); d += 64) expected.add(d);
            expected.add((long) p.length());
            assertThat(events).allMatch(e -> e.stage() == Stage.PREFILL && e.total() == p.length());
            assertThat(events.stream().map(ProgressEvent::done).toList()).isEqualTo(expected);
        }
    }

    @Test
    void naViLReportsScalesPerImage() {
        Path dir = Path.of("fixtures/navil-qwen3-tiny");
        try (Fixture f = new Fixture(dir); ChatModel model = Navil4j.load(dir.resolve("model"))) {
            JsonNode c = find(f, "gen_two_images");
            List<Conversation.Media> images = new ArrayList<>();
            for (JsonNode p : c.path("images")) images.add(Media.image(f.resolve(p.asText())));
            List<ProgressEvent> events = new ArrayList<>();
            Response r = model.newSession().ask(new Request(c.path("question").asText(), images, RequestOptions.defaults()
                    .withMaxNewTokens(c.path("generation").path("max_new_tokens").asInt()).withDoSample(false).withProgress(events::add)));
            assertThat(r.tokenIds()).isEqualTo(f.ints(c.path("expect").path("generated_ids")));
            assertWellFormed(events);
            assertStageOrder(events, Stage.MEDIA_DECODE, Stage.VISION_ENCODE, Stage.PREFILL);
            assertThat(of(events, Stage.MEDIA_DECODE).stream().map(ProgressEvent::done).toList()).containsExactly(1L, 2L);
            // the case's num_scales per image: [3, 3]; an image's scales count once it is encoded
            int first = c.path("num_scales").get(0).asInt(), second = c.path("num_scales").get(1).asInt();
            assertThat(of(events, Stage.VISION_ENCODE).stream().map(ProgressEvent::done).toList())
                    .containsExactly((long) first, (long) first + second);
            assertThat(of(events, Stage.VISION_ENCODE)).allMatch(e -> e.unit() == ProgressEvent.Unit.SCALES);
        }
    }

    @Test
    void voRAReportsItsImage() {
        Path dir = Path.of("fixtures/vora-tiny");
        try (Fixture f = new Fixture(dir); ChatModel model = Navil4j.load(f.modelDir(find(f, "gen_image_system")))) {
            JsonNode c = find(f, "gen_image_system");
            JsonNode g = c.path("generation");
            RequestOptions o = RequestOptions.defaults().withMaxNewTokens(g.path("max_new_tokens").asInt()).withDoSample(false);
            if (g.has("repetition_penalty")) o = o.withRepetitionPenalty((float) g.path("repetition_penalty").asDouble());
            List<ProgressEvent> events = new ArrayList<>();
            String system = c.path("system").isTextual() ? c.path("system").asText() : null;
            Response r = model.newSession(system).ask(new Request(c.path("question").asText(),
                    List.of(Media.image(f.resolve(c.path("images").get(0).asText()))), o.withProgress(events::add)));
            assertThat(r.tokenIds()).isEqualTo(f.ints(c.path("expect").path("generated_ids")));
            assertWellFormed(events);
            assertStageOrder(events, Stage.MEDIA_DECODE, Stage.VISION_ENCODE, Stage.PREFILL);
            assertThat(of(events, Stage.VISION_ENCODE)).singleElement()
                    .satisfies(e -> assertThat(e.unit()).isEqualTo(ProgressEvent.Unit.IMAGES))
                    .satisfies(e -> assertThat(e.total()).isEqualTo(1));
        }
    }
}
