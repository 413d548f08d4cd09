package dev.navil4j.cli;

import dev.navil4j.toy.ToyFamily;
import dev.navil4j.toy.ToyModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code navil4j chat} run in-process on the toy model: answers, the interactive chat, and every error path. */
class ChatCommandTest {
    @TempDir
    Path tmp;
    Path model, png;

    record Run(int code, String out, String err) {}

    @BeforeEach
    void setUp() throws IOException {
        ToyFamily.register();
        model = ToyFamily.writeModel(tmp.resolve("toy"), 512);
        png = tmp.resolve("img.png");
        ImageIO.write(new BufferedImage(8, 6, BufferedImage.TYPE_INT_RGB), "png", png.toFile());
    }

    private static Run run(String stdin, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    private static String answer(String q, int turn, int media) { return ToyModel.answerFor(q, turn, media).strip(); }

    /** A failure: exit code ≠ 0, nothing on stdout, exactly one line on stderr, no stack trace. */
    private static void assertOneLineError(Run r, String expected) {
        assertThat(r.code()).isNotZero();
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().toList()).hasSize(1);
        assertThat(r.err()).matches("(?s)navil4j( [a-z]+)?: .*").contains(expected).doesNotContain("Exception").doesNotContain("\tat ");
    }

    /** picocli's usage errors are one line naming the command and pointing at its --help, exit code 2. */
    @Test
    void usageErrorsAreOneLineWithTheHelpPointer() {
        for (String[] args : new String[][] {
                {"chat", "--model", "x", "--max-tile", "3", "Hi"},
                {"chat", "--model", "x", "--max-tiles", "0", "Hi"},
                {"chat", "--model", "x", "--frames", "abc", "Hi"},
                {"chat", "--model", "x", "--video", "v.mp4", "--frames", "100000", "Hi"}}) {
            Run r = run("", args);
            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.out()).isEmpty();
            assertThat(r.err().lines().toList()).as(r.err()).hasSize(1);
            assertThat(r.err()).startsWith("navil4j chat: ").contains("navil4j chat --help").doesNotContain("Exception");
        }
    }

    /** quantize never overwrites a non-empty output without --force. */
    @Test
    void quantizeRefusesANonEmptyOutputWithoutForce() throws IOException {
        Path out = tmp.resolve("q8");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        Run r = run("", "quantize", model.toString(), out.toString(), "--weights", "q8");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("already exists and is not empty").contains("--force");
        assertThat(Files.readString(out.resolve("keep.txt"))).isEqualTo("mine");
    }

    @Test
    void oneShotStreamsTheCleanedAnswer() {
        Run r = run("", "chat", "--model", model.toString(), "--image", png.toString(), "Describe", "the image.");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(answer("Describe the image.", 1, 6) + System.lineSeparator());
        assertThat(r.err()).isEmpty();
    }

    @Test
    void statsGoToStderr() {
        Run r = run("", "chat", "--model", model.toString(), "--stats", "--max-tiles", "1", "--image", png.toString(), "Hi");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(answer("Hi", 1, 2) + System.lineSeparator());
        assertThat(r.err()).contains("loaded toy model from").contains("image encode").contains("(2 media tokens)")
                .containsPattern("prefill \\d+ tokens \\(\\d+ reused from the session's KV cache\\) [0-9.]+ s, [0-9.]+ tok/s").containsPattern("decode \\d+ tokens, [0-9.]+ tok/s \\(stop\\)");
    }

    @Test
    void generationOptionsReachTheModel() {
        Run r = run("", "chat", "--model", model.toString(), "--max-new-tokens", "7", "Hi");
        assertThat(r.out()).isEqualTo(ToyModel.answerFor("Hi", 1, 0).substring(0, 7).strip() + System.lineSeparator());
        Run a = run("", "chat", "--model", model.toString(), "--temperature", "1", "--top-k", "50", "--top-p", "0.95", "--seed", "5", "Hi");
        Run b = run("", "chat", "--model", model.toString(), "--temperature", "1", "--top-k", "50", "--top-p", "0.95", "--seed", "5", "Hi");
        assertThat(a.code()).isZero();
        assertThat(a.out()).isEqualTo(b.out());
    }

    @Test
    void interactiveChatKeepsHistoryAttachesAndResets() {
        String in = "Hi\n\n/image " + png + "\nLook\n/bogus\n/image " + tmp.resolve("none.png") + "\n/reset\nAgain\n/quit\nnever asked\n";
        Run r = run(in, "chat", "--model", model.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out().lines().toList()).containsExactly(answer("Hi", 1, 0), answer("Look", 2, 6), answer("Again", 1, 0));
        assertThat(r.err()).contains("(attached " + png + ")").contains("(history cleared)")
                .contains("navil4j: unknown command /bogus").contains("navil4j: image not found: " + tmp.resolve("none.png"))
                .doesNotContain("Exception");
    }

    @Test
    void interactiveChatReportsAnOverlongPromptAndGoesOn() throws IOException {
        Path small = ToyFamily.writeModel(tmp.resolve("small"), 160);
        Run r = run("x".repeat(200) + "\nHi\n", "chat", "--model", small.toString());
        assertThat(r.code()).isZero();
        assertThat(r.err()).contains("navil4j: prompt of ").contains("exceeds the model's context of 160 tokens");
        assertThat(r.out().lines().toList()).containsExactly(answer("Hi", 1, 0));
    }

    @Test
    void aMissingModelDirectory() {
        assertOneLineError(run("", "chat", "--model", tmp.resolve("nope").toString(), "Hi"), "model directory not found: " + tmp.resolve("nope"));
    }

    @Test
    void aDirectoryThatIsNotAModel() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertOneLineError(run("", "chat", "--model", empty.toString(), "Hi"), "not a model directory (no config.json)");
        Path other = Files.createDirectories(tmp.resolve("other"));
        Files.writeString(other.resolve("config.json"), "{\"architectures\": [\"BertModel\"], \"model_type\": \"bert\"}");
        assertOneLineError(run("", "chat", "--model", other.toString(), "Hi"), "unsupported model");
        Files.writeString(other.resolve("config.json"), "{not json");
        Run bad = run("", "chat", "--model", other.toString(), "Hi");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).startsWith("navil4j: ").doesNotContain("\tat ");
    }

    @Test
    void aMissingImage() {
        assertOneLineError(run("", "chat", "--model", model.toString(), "--image", tmp.resolve("no.png").toString(), "Hi"),
                "image not found: " + tmp.resolve("no.png"));
        assertOneLineError(run("", "chat", "--model", model.toString(), "--image", tmp.toString(), "Hi"), "image is not a file: " + tmp);
        assertOneLineError(run("", "chat", "--model", model.toString(), "--video", tmp.resolve("no.mp4").toString(), "Hi"),
                "video not found: " + tmp.resolve("no.mp4"));
    }

    @Test
    void anUnreadableImage() throws IOException {
        Path text = Files.writeString(tmp.resolve("notes.png"), "this is not a PNG");
        assertOneLineError(run("", "chat", "--model", model.toString(), "--image", text.toString(), "Hi"), "cannot read image " + text);
    }

    @Test
    void aPromptOverTheContext() throws IOException {
        Path small = ToyFamily.writeModel(tmp.resolve("small"), 64);
        assertOneLineError(run("", "chat", "--model", small.toString(), "x".repeat(100)), "exceeds the model's context of 64 tokens");
        assertOneLineError(run("", "chat", "--model", model.toString(), "--max-context", "40", "Hello"), "exceeds the model's context of 40 tokens");
        assertOneLineError(run("", "chat", "--model", model.toString(), "--max-media-tokens", "5", "--image", png.toString(), "Hi"),
                "over the budget of 5");
    }

    @Test
    void badOptionValues() {
        assertOneLineError(run("", "chat", "--model", model.toString(), "--top-p", "2", "Hi"), "top-p must be in (0, 1]");
        assertOneLineError(run("", "chat", "--model", model.toString(), "--frames", "4", "Hi"), "--frames needs --video");
        Run r = run("", "chat", "Hi");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("Missing required option: '--model=DIR|HUB_ID'");
    }
}
