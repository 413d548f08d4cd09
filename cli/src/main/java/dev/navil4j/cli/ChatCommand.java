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

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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
                "(commands: /image FILE, /video FILE [FRAMES], /reset, /quit)."})
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
    /** Wraps the printer so that what is shown is the family's cleaned answer (see ChatModel.cleanStream). */
    private java.util.function.UnaryOperator<java.util.function.Consumer<String>> cleanStream;

    ChatCommand() { this(System.in); }

    ChatCommand(InputStream in) { this.in = in; }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        RequestOptions options = new RequestOptions(maxNewTokens, null, temperature, topP, topK, seed, repetitionPenalty, maxTiles, maxMediaTokens);
        if (maxContext < 0) throw new IllegalArgumentException("--max-context must be >= 0, got " + maxContext);
        if (video == null && spec.commandLine().getParseResult().hasMatchedOption("--frames"))
            throw new IllegalArgumentException("--frames needs --video");
        List<Conversation.Media> media = new ArrayList<>();
        for (Path p : images) media.add(image(p));
        if (video != null) media.add(Media.video(video, frames));

        options = options.withProgress(weightOptions.progress()); // media decode, vision encode, prefill on the terminal
        Path modelDir = dev.navil4j.hub.ModelSource.resolve(model, weightOptions.downloadProgress());
        try (ChatModel model = Navil4j.load(modelDir, weightOptions.apply(new LoadOptions("auto", maxContext, false, true, null)))) {
            if (stats) {
                err.println(dev.navil4j.tensor.Simd.describe());
                err.printf(Locale.ROOT, "loaded %s model from %s in %.2f s%n", model.family(), modelDir, model.loadNanos() / 1e9);
            }
            ChatSession session = model.newSession(system).options(options);
            cleanStream = model::cleanStream;
            if (!question.isEmpty()) {
                answer(session, String.join(" ", question), media, out, err);
                return 0;
            }
            repl(session, media, out, err);
            return 0;
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("out of memory (" + e.getMessage() + "); raise NAVIL4J_HEAP, or lower --max-tiles / --frames / --max-context");
        }
    }

    /** Streams one answer to {@code out} (exactly the cleaned text the API returns), then the stats line. */
    private void answer(ChatSession session, String text, List<Conversation.Media> media, PrintWriter out, PrintWriter err) {
        // the process's CPU time (all threads: JIT compilers included) when the answer's first piece is printed
        java.util.concurrent.atomic.AtomicReference<java.time.Duration> cpuAtFirstPiece = new java.util.concurrent.atomic.AtomicReference<>();
        Response r = session.stream(new Request(text, media, null), cleanStream.apply(piece -> {
            if (stats && cpuAtFirstPiece.get() == null)
                cpuAtFirstPiece.set(ProcessHandle.current().info().totalCpuDuration().orElse(java.time.Duration.ZERO));
            out.print(piece);
            out.flush();
        }));
        out.println();
        out.flush();
        if (stats) {
            double decode = r.decodeTokensPerSecond();
            var mediaCache = session.model().model().mediaCache();
            err.printf(Locale.ROOT, "prepare+image encode %.3f s (%d media tokens) · prefill %d tokens (%d reused from the session's KV cache) %.3f s, %.1f tok/s · decode %d tokens, %s tok/s (%s) · media cache %d hits, %d misses%n",
                    r.prepareNanos() / 1e9, r.mediaTokens(), r.promptTokens(), r.cachedTokens(), r.prefillNanos() / 1e9, r.prefillTokensPerSecond(),
                    r.generatedTokens(), Double.isNaN(decode) ? "n/a" : String.format(Locale.ROOT, "%.1f", decode),
                    r.finish().name().toLowerCase(Locale.ROOT), mediaCache.hits(), mediaCache.misses());
            if (cpuAtFirstPiece.get() != null)
                err.printf(Locale.ROOT, "process CPU before the first answer text %.2f s (all threads since JVM start)%n", cpuAtFirstPiece.get().toNanos() / 1e9);
            err.flush();
        }
    }

    /** The interactive chat: questions answered in one session; slash commands manage media and history. */
    private void repl(ChatSession session, List<Conversation.Media> initial, PrintWriter out, PrintWriter err) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        boolean prompts = in == System.in && System.console() != null && System.console().isTerminal();
        List<Conversation.Media> pending = new ArrayList<>(initial);
        err.println("Interactive chat. Type a question; /image FILE or /video FILE [FRAMES] attaches to the next question; /reset clears the history; /quit exits.");
        err.flush();
        while (true) {
            if (prompts) {
                out.print(pending.isEmpty() ? ">>> " : "[" + pending.size() + " attached] >>> ");
                out.flush();
            }
            String line = reader.readLine();
            if (line == null) return;
            line = line.strip();
            if (line.isEmpty()) continue;
            try {
                if (line.startsWith("/")) {
                    if (!command(line, session, pending, err)) return;
                } else {
                    answer(session, line, pending, out, err);
                    pending.clear();
                }
            } catch (RuntimeException e) {
                // one clear line, and the chat goes on (the failed question is not in the history)
                err.println("navil4j: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                if (Boolean.getBoolean("navil4j.debug")) e.printStackTrace(err);
                err.flush();
            }
        }
    }

    /** Runs a slash command; false to quit. */
    private boolean command(String line, ChatSession session, List<Conversation.Media> pending, PrintWriter err) {
        String[] w = line.split("\\s+", 2);
        String arg = w.length > 1 ? w[1].strip() : "";
        switch (w[0]) {
            case "/quit", "/exit", "/q" -> { return false; }
            case "/reset" -> {
                session.reset();
                err.println(pending.isEmpty() ? "(history cleared)" : "(history and " + pending.size() + " attachment(s) cleared)");
                pending.clear();
            }
            case "/image" -> {
                if (arg.isEmpty()) throw new IllegalArgumentException("usage: /image FILE");
                pending.add(image(Path.of(arg)));
                err.println("(attached " + arg + ")");
            }
            case "/video" -> {
                String[] v = arg.split("\\s+");
                if (arg.isEmpty() || v.length > 2) throw new IllegalArgumentException("usage: /video FILE [FRAMES]");
                int n = frames;
                if (v.length == 2) {
                    try {
                        n = Integer.parseInt(v[1]);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("/video: FRAMES must be a number, got '" + v[1] + "'");
                    }
                }
                pending.add(Media.video(Path.of(v[0]), n));
                err.println("(attached " + v[0] + ", " + n + " frames)");
            }
            case "/help" -> err.println("/image FILE · /video FILE [FRAMES] · /reset · /quit");
            default -> throw new IllegalArgumentException("unknown command " + w[0] + " (/image FILE, /video FILE [FRAMES], /reset, /quit)");
        }
        err.flush();
        return true;
    }

    /** An image file checked to exist and to decode, so a bad file is reported before the model runs. */
    private static Conversation.Media image(Path file) {
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
