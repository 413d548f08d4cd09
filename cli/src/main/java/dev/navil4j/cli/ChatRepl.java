package dev.navil4j.cli;

import dev.navil4j.ChatModel;
import dev.navil4j.ChatSession;
import dev.navil4j.Media;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.TokenStream;
import dev.navil4j.chat.Conversation;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The interactive chat of {@code navil4j chat}: questions answered in one session, slash commands for media,
 * history and files. Ctrl-C while an answer is generated cancels that answer (it is not added to the history);
 * Ctrl-C at an empty prompt says how to leave, a second one in a row leaves; Ctrl-D leaves.
 */
final class ChatRepl {
    static final String HELP = String.join("\n",
            "Type a question and press Enter. Commands:",
            "  /image FILE            attach an image to the next question",
            "  /video FILE [FRAMES]   attach a video (sampled into FRAMES frames) to the next question",
            "  /reset                 forget the conversation and the attachments",
            "  /save FILE             write the conversation (system message, questions, media paths, answers) as JSON",
            "  /load FILE             continue a conversation written by /save",
            "  /help                  this list",
            "  /exit, /quit           leave (or Ctrl-D)",
            "Keys: arrows/Home/End edit the line, up/down and Ctrl-R search the history, Ctrl-C cancels a running answer.");

    private final ChatModel model;
    private final RequestOptions options;
    private final int defaultFrames;
    private final boolean stats;
    private final ReplConsole console;
    private final UnaryOperator<Consumer<String>> cleanStream;
    private ChatSession session;
    private final List<Conversation.Media> pending = new ArrayList<>();

    ChatRepl(ChatModel model, ChatSession session, List<Conversation.Media> initial, int defaultFrames, boolean stats, ReplConsole console) {
        this.model = model;
        this.session = session;
        this.options = session.options();
        this.defaultFrames = defaultFrames;
        this.stats = stats;
        this.console = console;
        this.cleanStream = model::cleanStream;
        pending.addAll(initial);
    }

    /** The session now in use (a /load replaces it). */
    ChatSession session() { return session; }

    void run() {
        console.message("Interactive chat. Type a question; /image FILE or /video FILE [FRAMES] attaches to the next question; "
                + "/save, /load FILE; /reset clears the history; /help; /exit" + (console.interactive() ? " or Ctrl-D exits." : " exits."));
        boolean interruptedOnce = false;
        while (true) {
            String line;
            try {
                line = console.readLine(pending.isEmpty() ? ">>> " : "[" + pending.size() + " attached] >>> ");
            } catch (ReplConsole.Interrupted e) {
                // Ctrl-C on typed text clears the line (as in a shell); on an empty line it is a step towards leaving
                if (!e.partialLine.isBlank()) { interruptedOnce = false; continue; }
                if (interruptedOnce) return;
                interruptedOnce = true;
                console.message("(press Ctrl-C again or type /exit to leave)");
                continue;
            }
            if (line == null) return;
            interruptedOnce = false;
            line = line.strip();
            if (line.isEmpty()) continue;
            try {
                if (line.startsWith("/")) {
                    if (!command(line)) return;
                } else {
                    answer(line);
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                // one clear line, and the chat goes on (the failed question is not in the history)
                String m = e.getMessage() == null ? e.toString() : e.getMessage();
                console.message("navil4j: " + (e instanceof OutOfMemoryError ? "out of memory (" + m + "); attach less, or raise NAVIL4J_HEAP" : m));
                if (Boolean.getBoolean("navil4j.debug")) {
                    java.io.StringWriter w = new java.io.StringWriter();
                    e.printStackTrace(new PrintWriter(w));
                    console.message(w.toString());
                }
            }
        }
    }

    /** Streams one answer; Ctrl-C meanwhile stops it (the session keeps its history without this turn). */
    private void answer(String text) {
        PrintWriter out = console.answerOut();
        ChatCommand.FirstPieceCpu cpu = new ChatCommand.FirstPieceCpu(stats);
        boolean[] printed = {false};
        Consumer<String> printer = cleanStream.apply(piece -> {
            cpu.mark();
            printed[0] = true;
            out.print(piece);
            out.flush();
        });
        Request request = new Request(text, List.copyOf(pending), null);
        Response r;
        try (TokenStream ts = session.tokens(request)) {
            r = console.whileCancellable(ts::close, () -> {
                while (ts.hasNext()) printer.accept(ts.next());
                return ts.response();
            });
        } catch (RuntimeException | OutOfMemoryError e) {
            // a question refused before any text (e.g. over the context) leaves no empty answer line behind
            if (printed[0]) out.println();
            out.flush();
            throw e;
        }
        out.println();
        out.flush();
        pending.clear();
        if (r.finish() == Response.Finish.CANCELLED)
            console.message("(answer cancelled after " + r.generatedTokens() + " tokens; it is not kept in the history)");
        if (stats) for (String s : ChatCommand.statsLines(session, r, cpu)) console.message(s);
    }

    /** Runs a slash command; false to leave. */
    private boolean command(String line) {
        String[] w = line.split("\\s+", 2);
        String arg = w.length > 1 ? w[1].strip() : "";
        switch (w[0]) {
            case "/quit", "/exit", "/q" -> { return false; }
            case "/reset" -> {
                session.reset();
                console.message(pending.isEmpty() ? "(history cleared)" : "(history and " + pending.size() + " attachment(s) cleared)");
                pending.clear();
            }
            case "/image" -> {
                if (arg.isEmpty()) throw new IllegalArgumentException("usage: /image FILE");
                pending.add(ChatCommand.image(Path.of(arg)));
                console.message("(attached " + arg + ")");
            }
            case "/video" -> {
                String[] v = arg.split("\\s+");
                if (arg.isEmpty() || v.length > 2) throw new IllegalArgumentException("usage: /video FILE [FRAMES]");
                int n = defaultFrames;
                if (v.length == 2) {
                    try {
                        n = Integer.parseInt(v[1]);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("/video: FRAMES must be a number, got '" + v[1] + "'");
                    }
                }
                String problem = VideoBudget.problem(model, n);
                if (problem != null) throw new IllegalArgumentException("/video: " + problem);
                pending.add(Media.video(Path.of(v[0]), n));
                console.message("(attached " + v[0] + ", " + n + " frames)");
            }
            case "/save" -> {
                if (arg.isEmpty()) throw new IllegalArgumentException("usage: /save FILE");
                List<Conversation.Turn> turns = session.history();
                try {
                    ConversationFile.write(Path.of(arg), session.system(), turns);
                } catch (IOException e) {
                    throw new IllegalArgumentException("cannot write " + arg + " (" + e.getMessage() + ")");
                }
                console.message("(saved " + turns.size() + " turn(s) to " + arg + ")");
            }
            case "/load" -> {
                if (arg.isEmpty()) throw new IllegalArgumentException("usage: /load FILE");
                ConversationFile.Saved saved = ConversationFile.read(Path.of(arg));
                session = model.newSession(saved.system(), saved.turns()).options(options);
                console.message("(loaded " + saved.turns().size() + " turn(s) from " + arg + "; the next question continues that conversation)");
            }
            case "/help", "/?" -> console.message(HELP);
            default -> throw new IllegalArgumentException("unknown command " + w[0] + " (/help lists the commands)");
        }
        return true;
    }
}
