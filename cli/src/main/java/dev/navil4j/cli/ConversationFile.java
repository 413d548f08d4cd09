package dev.navil4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.Media;
import dev.navil4j.chat.Conversation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A chat's history as a JSON file, what the interactive chat's {@code /save} writes and {@code /load} reads:
 * <pre>{@code
 * {"format": "navil4j-conversation", "version": 1,
 *  "system": null,
 *  "turns": [{"user": "What is in it?", "media": [{"image": "photo.jpg"}], "assistant": "A red panda."},
 *            {"user": "Summarise", "media": [{"video": "clip.mp4", "frames": 8}], "assistant": "..."}]}
 * }</pre>
 * Media are stored as references (paths as they were given, not their bytes), so a loaded conversation needs the
 * same files; they are checked to exist when the file is read, since every later question re-reads them (the
 * history's images are part of each prompt). {@code system} null means the model's default system message.
 */
final class ConversationFile {
    static final String FORMAT = "navil4j-conversation";
    static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The system message (null = the model's default) and the answered turns, oldest first. */
    record Saved(String system, List<Conversation.Turn> turns) {}

    private ConversationFile() {}

    /** Writes {@code system} and {@code turns} to {@code file} (replacing it). */
    static void write(Path file, String system, List<Conversation.Turn> turns) throws IOException {
        Files.writeString(file, toJson(system, turns) + "\n");
    }

    static String toJson(String system, List<Conversation.Turn> turns) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        if (system == null) root.putNull("system");
        else root.put("system", system);
        ArrayNode ts = root.putArray("turns");
        for (int i = 0; i < turns.size(); i++) {
            Conversation.Turn t = turns.get(i);
            ObjectNode o = ts.addObject();
            o.put("user", t.user());
            ArrayNode media = o.putArray("media");
            for (Conversation.Media m : t.media() == null ? List.<Conversation.Media>of() : t.media()) {
                ObjectNode mo = media.addObject();
                switch (m) {
                    case Conversation.Image img -> {
                        if (img.path() == null) throw new IllegalArgumentException("turn " + (i + 1) + " has an image held in memory, which cannot be saved as a reference");
                        mo.put("image", img.path().toString());
                    }
                    case Conversation.Video v -> {
                        if (v.path() == null) throw new IllegalArgumentException("turn " + (i + 1) + " has a video held in memory, which cannot be saved as a reference");
                        mo.put("video", v.path().toString());
                        mo.put("frames", v.frames());
                        if (v.boundSeconds() != null) mo.putArray("bound_seconds").add(v.boundSeconds()[0]).add(v.boundSeconds()[1]);
                    }
                }
            }
            o.put("assistant", t.assistant());
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the conversation as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Reads a conversation file; every problem is an {@link IllegalArgumentException} naming the file (and the turn). */
    static Saved read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText(null)))
            throw new IllegalArgumentException(file + ": not a navil4j conversation (no \"format\": \"" + FORMAT + "\"; /save writes one)");
        if (root.path("version").asInt(-1) != VERSION)
            throw new IllegalArgumentException(file + ": conversation format version " + root.path("version") + ", this navil4j reads version " + VERSION);
        JsonNode sys = root.path("system");
        if (!sys.isMissingNode() && !sys.isNull() && !sys.isTextual())
            throw new IllegalArgumentException(file + ": \"system\" must be a string or null");
        JsonNode ts = root.path("turns");
        if (!ts.isArray()) throw new IllegalArgumentException(file + ": \"turns\" must be an array");
        List<Conversation.Turn> turns = new ArrayList<>();
        for (int i = 0; i < ts.size(); i++) {
            JsonNode t = ts.get(i);
            String where = file + ": turn " + (i + 1);
            if (!t.path("user").isTextual() || !t.path("assistant").isTextual())
                throw new IllegalArgumentException(where + " needs \"user\" and \"assistant\" strings");
            List<Conversation.Media> media = new ArrayList<>();
            JsonNode ms = t.path("media");
            if (!ms.isMissingNode() && !ms.isArray()) throw new IllegalArgumentException(where + ": \"media\" must be an array");
            for (JsonNode m : ms) media.add(media(m, where));
            turns.add(new Conversation.Turn(t.get("user").asText(), List.copyOf(media), t.get("assistant").asText()));
        }
        return new Saved(sys.isTextual() ? sys.asText() : null, List.copyOf(turns));
    }

    private static Conversation.Media media(JsonNode m, String where) {
        try {
            if (m.path("image").isTextual()) return Media.image(Path.of(m.get("image").asText()));
            if (m.path("video").isTextual()) {
                Path p = Path.of(m.get("video").asText());
                int frames = m.path("frames").asInt(0);
                JsonNode b = m.path("bound_seconds");
                if (b.isArray() && b.size() == 2) return Media.video(p, frames, b.get(0).asDouble(), b.get(1).asDouble());
                return Media.video(p, frames);
            }
        } catch (IllegalArgumentException e) { // MediaException, InvalidPathException
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
        throw new IllegalArgumentException(where + ": a media entry needs \"image\" or \"video\" (a path)");
    }
}
