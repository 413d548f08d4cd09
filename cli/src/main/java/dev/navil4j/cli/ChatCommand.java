package dev.navil4j.cli;

import dev.navil4j.ChatModel;
import dev.navil4j.ChatSession;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.chat.Conversation;
import dev.navil4j.image.ImageException;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.RgbImage;
import dev.navil4j.models.LoadOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code navil4j chat}: one question (when given) or an interactive multi-round chat, the answer streamed
 * as it is generated. Everything model-specific is behind the library API, so the command has no
 * per-family options.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Chats with a model: answers QUESTION and exits, or, without one, starts an interactive chat",
                "(commands: /image FILE, /video FILE [FRAMES], /reset, /save FILE, /load FILE, /help, /exit; Ctrl-C cancels an answer)."})
final class ChatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|HUB_ID",
            description = "checkpoint directory (config.json, *.safetensors, tokenizer), or a Hugging Face repo id "
                    + "(org/name[@revision]) resolved through the HF cache as serve does")
    String model;

    @Option(names = "--image", paramLabel = "FILE", description = "attach an image (repeat for several)")
    List<Path> images = new ArrayList<>();

    @Option(names = "--video", paramLabel = "FILE", description = "attach a video, sampled into --frames frames")
    Path video;

    @Option(names = "--frames", paramLabel = "N", defaultValue = "8", description = "frames sampled from --video (default ${DEFAULT-VALUE})")
    int frames;

    @Option(names = "--max-tiles", paramLabel = "N", description = "the most tiles an image is split into (default: the model's)")
    Integer maxTiles;

    @Option(names = "--max-media-tokens", paramLabel = "N", description = "refuse prompts whose images/video take more than N tokens")
    Integer maxMediaTokens;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "the most tokens to generate per answer")
    Integer maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "sample with this temperature (0 = greedy, the default)")
    Float temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling mass (enables sampling)")
    Float topP;

    @Option(names = "--top-k", paramLabel = "K", description = "sample among the K most likely tokens (enables sampling)")
    Integer topK;

    @Option(names = "--seed", paramLabel = "S", description = "sampling seed")
    Long seed;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "repetition penalty (1 = none)")
    Float repetitionPenalty;

    @Option(names = "--system", paramLabel = "TEXT", description = "system message (default: the model's)")
    String system;

    @Option(names = "--max-context", paramLabel = "N", defaultValue = "0", description = "cap the context length (0 = the model's)")
    int maxContext;

    @Mixin
    WeightOptions weightOptions = new WeightOptions();

    @Option(names = "--stats", description = "print load time, image-encode time, prefill and decode tokens/s to stderr")
    boolean stats;

    @Parameters(arity = "0..*", paramLabel = "QUESTION", description = "the question (words are joined); none = interactive chat")
    List<String> question = new ArrayList<>();

    private final InputStream in;

    ChatCommand() { this(System.in); }

    ChatCommand(InputStream in) { this.in = in; }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        // option values are checked before anything is loaded: a mistake is one usage line, not a minute of work
        RequestOptions options;
        try {
            options = new RequestOptions(maxNewTokens, null, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens);
        } catch (IllegalArgumentException e) {
            throw UsageErrors.of(spec, e.getMessage());
        }
        if (maxTiles != null && maxTiles < 1) throw UsageErrors.of(spec, "--max-tiles must be >= 1, got " + maxTiles);
        if (maxMediaTokens != null && maxMediaTokens < 1) throw UsageErrors.of(spec, "--max-media-tokens must be >= 1, got " + maxMediaTokens);
        if (maxContext < 0) throw UsageErrors.of(spec, "--max-context must be >= 0, got " + maxContext);
        boolean framesGiven = spec.commandLine().getParseResult().hasMatchedOption("--frames");
        if (video == null && framesGiven) throw UsageErrors.of(spec, "--frames needs --video");
        if (frames < 1 || frames > VideoBudget.MAX_FRAMES)
            throw UsageErrors.of(spec, "--frames must be in 1.." + VideoBudget.MAX_FRAMES + ", got " + frames);
        LoadOptions loadOptions;
        try {
            loadOptions = weightOptions.apply(new LoadOptions("auto", maxContext, false, true, null));
        } catch (IllegalArgumentException e) {
            throw UsageErrors.of(spec, e.getMessage());
        }
        List<Conversation.Media> media = new ArrayList<>();
        for (Path p : images) media.add(image(p));
        if (video != null) media.add(Media.video(video, frames));

        options = options.withProgress(weightOptions.progress()); // media decode, vision encode, prefill on the terminal
        Path modelDir = weightOptions.resolveModel(model);
        try (ChatModel model = Navil4j.load(modelDir, loadOptions)) {
            if (stats) {
                err.println(dev.navil4j.tensor.Simd.describe());
                err.printf(Locale.ROOT, "loaded %s model from %s in %.2f s%n", model.family(), modelDir, model.loadNanos() / 1e9);
            }
            // the model's numbers are known now, the video is not decoded yet: refuse a frame count that cannot fit
            String tooMany = video == null ? null : VideoBudget.problem(model, frames);
            if (tooMany != null) throw UsageErrors.of(spec, "--frames " + frames + ": " + tooMany);
            ChatSession session = model.newSession(system).options(options);
            if (!question.isEmpty()) {
                answer(model, session, String.join(" ", question), media, out, err);
                return 0;
            }
            try (ReplConsole console = console(out, err)) {
                new ChatRepl(model, session, media, frames, stats, console).run();
            }
            return 0;
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("out of memory (" + e.getMessage() + "); raise NAVIL4J_HEAP, or lower --max-tiles / --frames / --max-context");
        }
    }

    /**
     * JLine at a terminal (this process's own stdin and stdout both a TTY); otherwise lines read from the stream as
     * they come, without prompts or escape codes (pipes, files, tests).
     */
    private ReplConsole console(PrintWriter out, PrintWriter err) {
        boolean terminal = in == System.in && System.console() != null && System.console().isTerminal();
        if (terminal && !Boolean.getBoolean("navil4j.plainConsole")) {
            String[] why = new String[1];
            Path history = JLineReplConsole.historyFile(System.getenv("NAVIL4J_HISTORY"), System.getProperty("user.home"), why);
            try {
                JLineReplConsole c = JLineReplConsole.open(history);
                if (why[0] != null) c.message("(history is kept for this session only: " + why[0] + ")");
                return c;
            } catch (IOException | RuntimeException | LinkageError e) {
                err.println("navil4j: no line editing (" + e.getMessage() + "); reading plain lines");
            }
        }
        return new PlainReplConsole(in, out, err);
    }

    /** Streams one answer to {@code out} (exactly the cleaned text the API returns), then the stats lines. */
    private void answer(ChatModel model, ChatSession session, String text, List<Conversation.Media> media, PrintWriter out, PrintWriter err) {
        FirstPieceCpu cpu = new FirstPieceCpu(stats);
        Response r = session.stream(new Request(text, media, null), model.cleanStream(piece -> {
            cpu.mark();
            out.print(piece);
            out.flush();
        }));
        out.println();
        out.flush();
        if (stats) {
            for (String line : statsLines(session, r, cpu)) err.println(line);
            err.flush();
        }
    }

    /** The process's CPU time (all threads: JIT compilers included) when an answer's first piece is printed. */
    static final class FirstPieceCpu {
        private final boolean enabled;
        private java.time.Duration at;

        FirstPieceCpu(boolean enabled) { this.enabled = enabled; }

        void mark() {
            if (enabled && at == null) at = ProcessHandle.current().info().totalCpuDuration().orElse(java.time.Duration.ZERO);
        }
    }

    /** The --stats lines of one answer. */
    static List<String> statsLines(ChatSession session, Response r, FirstPieceCpu cpu) {
        List<String> lines = new ArrayList<>();
        double decode = r.decodeTokensPerSecond();
        var mediaCache = session.model().model().mediaCache();
        lines.add(String.format(Locale.ROOT, "prepare+image encode %.3f s (%d media tokens) · prefill %d tokens (%d reused from the session's KV cache) %.3f s, %.1f tok/s · decode %d tokens, %s tok/s (%s) · media cache %d hits, %d misses",
                r.prepareNanos() / 1e9, r.mediaTokens(), r.promptTokens(), r.cachedTokens(), r.prefillNanos() / 1e9, r.prefillTokensPerSecond(),
                r.generatedTokens(), Double.isNaN(decode) ? "n/a" : String.format(Locale.ROOT, "%.1f", decode),
                r.finish().name().toLowerCase(Locale.ROOT), mediaCache.hits(), mediaCache.misses()));
        if (cpu.at != null)
            lines.add(String.format(Locale.ROOT, "process CPU before the first answer text %.2f s (all threads since JVM start)", cpu.at.toNanos() / 1e9));
        return lines;
    }

    /** An image file checked to exist and to decode, so a bad file is reported before the model runs. */
    static Conversation.Media image(Path file) {
        Conversation.Media m = Media.image(file);
        readImage(file);
        return m;
    }

    /**
     * Decodes an image file with the engine's loader (Pillow-exact RGB) or says clearly why it cannot; the one
     * place the CLI decodes images (the model decodes them again when it prepares the prompt).
     */
    static RgbImage readImage(Path file) {
        try {
            return ImageLoader.loadRgb(file);
        } catch (ImageException e) {
            // the loader's message starts with the file name: "<file>: not a recognised image format (...)"
            throw new Media.MediaException("cannot read image " + e.getMessage(), e);
        }
    }
}
