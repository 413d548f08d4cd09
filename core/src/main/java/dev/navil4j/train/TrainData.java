package dev.navil4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.vora.VoRAImageProcessor;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Training data in the reference's format and its processing into token ids, labels and pixels:
 * <ul>
 *   <li>JSONL, one {@code {"image": path, "conversations": [{"from": "human"|"gpt"|"system", "value": ...}, ...]}}
 *   per line (image paths relative to the file's folder), or a folder of images each with a same-named
 *   {@code .txt} caption (conversation "&lt;image&gt;\nDescribe the image." → caption);</li>
 *   <li>text (data_module/vqa_processor.py:67-93): system "You are a helpful assistant." unless the first turn is
 *   a system turn; first question = {@code <|im_start|>system\n + system + <|im_end|>} + {@code \n<|im_start|>user\n}
 *   + question + {@code <|im_end|>\n<|im_start|>assistant\n}, with {@code <image>} prepended when the question has
 *   none; later questions start at {@code \n<|im_start|>user\n};</li>
 *   <li>ids (processor.py:224-289): each prompt split on {@code <image>}, chunks encoded without BOS and joined
 *   with -200; each answer encoded and followed by eos; labels = the answer ids and eos, -100 elsewhere;</li>
 *   <li>image: expand2square on black + the CLIP-style AIMv2 processor at the model's image size;</li>
 *   <li>collate (processor.py:368-399): right padding with the pad id, attention 0, labels -100.</li>
 * </ul>
 */
public final class TrainData {
    public static final String IMAGE = "<image>";
    static final String SYSTEM = "You are a helpful assistant.";

    /** One conversation about one image. */
    public record Sample(Path image, List<String[]> turns) {}

    /** A processed sample: ids with one -200, labels, pixels [3, S, S]. */
    public record Encoded(int[] ids, int[] labels, float[] pixels) {}

    private final Tokenizer tokenizer;
    private final int padId, eosId, size;
    private final VoRAImageProcessor.Params imageParams;

    public TrainData(Tokenizer tokenizer, int padId, int eosId, int imageSize) {
        this.tokenizer = tokenizer;
        this.padId = padId;
        this.eosId = eosId;
        this.size = imageSize;
        this.imageParams = VoRAImageProcessor.Params.vora(imageSize);
    }

    /** pad and eos ids from a checkpoint's tokenizer_config.json (pad_token, eos_token), as the reference reads them. */
    public static TrainData forModel(Tokenizer tok, Path modelDir, int imageSize) {
        Json.Obj tc = Json.Obj.of(modelDir.resolve("tokenizer_config.json"));
        int eos = id(tok, tc, "eos_token");
        int pad = tc.has("pad_token") ? id(tok, tc, "pad_token") : eos; // pad_token_id or eos_token_id
        return new TrainData(tok, pad, eos, imageSize);
    }

    private static int id(Tokenizer tok, Json.Obj tc, String key) {
        JsonNode n = tc.required(key);
        String s = n.isTextual() ? n.asText() : n.path("content").asText();
        int id = tok.tokenId(s);
        if (id < 0) throw new WeightsException(tc.where() + ": " + key + " \"" + s + "\" is not in the vocabulary");
        return id;
    }

    public int padId() { return padId; }

    public int eosId() { return eosId; }

    // ---------------------------------------------------------------- reading

    /** JSONL file or image+caption folder. */
    public static List<Sample> read(Path path) {
        if (Files.isDirectory(path)) return readFolder(path);
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException("data " + path + " does not exist");
        List<Sample> out = new ArrayList<>();
        List<String> lines;
        try { lines = Files.readAllLines(path); } catch (IOException e) { throw new UncheckedIOException(path + ": " + e.getMessage(), e); }
        Path base = path.toAbsolutePath().getParent();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String where = path + ":" + (i + 1);
            JsonNode n;
            try { n = Json.MAPPER.readTree(line); } catch (IOException e) { throw new IllegalArgumentException(where + ": not JSON: " + e.getMessage()); }
            out.add(sample(n, base, where));
        }
        if (out.isEmpty()) throw new IllegalArgumentException(path + ": no samples");
        return out;
    }

    static Sample sample(JsonNode n, Path base, String where) {
        if (!n.path("image").isTextual()) throw new IllegalArgumentException(where + ": \"image\" (a path) is required: VoRA trains on one image per sample");
        JsonNode conv = n.path("conversations");
        if (!conv.isArray() || conv.isEmpty()) throw new IllegalArgumentException(where + ": \"conversations\" must be a non-empty list");
        List<String[]> turns = new ArrayList<>();
        for (JsonNode t : conv) {
            String from = t.path("from").asText(""), value = t.path("value").asText(null);
            if (value == null || !(from.equals("human") || from.equals("gpt") || from.equals("system")))
                throw new IllegalArgumentException(where + ": every turn needs \"from\" (human, gpt or system) and a string \"value\"");
            turns.add(new String[]{from, value});
        }
        int start = turns.getFirst()[0].equals("system") ? 1 : 0;
        if ((turns.size() - start) % 2 != 0 || turns.size() - start == 0)
            throw new IllegalArgumentException(where + ": conversations must alternate human / gpt and end with a gpt answer");
        for (int i = start; i < turns.size(); i++)
            if (!turns.get(i)[0].equals((i - start) % 2 == 0 ? "human" : "gpt"))
                throw new IllegalArgumentException(where + ": turn " + i + " should be from " + ((i - start) % 2 == 0 ? "human" : "gpt"));
        return new Sample(base.resolve(n.get("image").asText()).normalize(), turns);
    }

    static List<Sample> readFolder(Path dir) {
        List<Sample> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString(), lower = name.toLowerCase(Locale.ROOT);
                if (!(lower.endsWith(".png") || lower.endsWith(".jpg") || lower.endsWith(".jpeg") || lower.endsWith(".webp"))) continue;
                Path txt = dir.resolve(name.substring(0, name.lastIndexOf('.')) + ".txt");
                if (!Files.isRegularFile(txt)) throw new IllegalArgumentException(p + ": no caption file " + txt.getFileName());
                out.add(new Sample(p, List.of(new String[]{"human", IMAGE + "\nDescribe the image."}, new String[]{"gpt", Files.readString(txt).strip()})));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw new IllegalArgumentException(dir + ": no image files with captions");
        return out;
    }

    // ---------------------------------------------------------------- processing

    /** The prompt strings and answers of a sample (vqa_processor.py). */
    public static List<String[]> promptsAndAnswers(Sample s) {
        List<String[]> turns = s.turns();
        String system = SYSTEM;
        int i0 = 0;
        if (turns.getFirst()[0].equals("system")) { system = turns.getFirst()[1]; i0 = 1; }
        List<String[]> out = new ArrayList<>();
        for (int i = i0; i < turns.size(); i += 2) {
            String q = turns.get(i)[1];
            if (i == i0) {
                if (!q.contains(IMAGE) && !q.contains("<video>")) q = IMAGE + q; // one frame: the placeholder is "<image>"
                q = "<|im_start|>system\n" + system + "<|im_end|>" + "\n<|im_start|>user\n" + q + "<|im_end|>\n<|im_start|>assistant\n";
            } else {
                q = "\n<|im_start|>user\n" + q + "<|im_end|>\n<|im_start|>assistant\n";
            }
            out.add(new String[]{q, turns.get(i + 1)[1]});
        }
        return out;
    }

    /** ids, labels and pixels of one sample. */
    public Encoded encode(Sample s) {
        List<Integer> ids = new ArrayList<>(), labels = new ArrayList<>();
        for (String[] qa : promptsAndAnswers(s)) {
            String[] chunks = qa[0].split(java.util.regex.Pattern.quote(IMAGE), -1);
            for (int c = 0; c < chunks.length; c++) {
                if (c > 0) { ids.add(VoRATrainModel.IMAGE_PLACEHOLDER); labels.add(-100); }
                for (int id : tokenizer.encode(chunks[c], true)) { ids.add(id); labels.add(-100); }
            }
            for (int id : tokenizer.encode(qa[1], true)) { ids.add(id); labels.add(id); }
            ids.add(eosId);
            labels.add(eosId);
        }
        float[] px = VoRAImageProcessor.load(s.image(), imageParams).pixelValues();
        return new Encoded(ids.stream().mapToInt(Integer::intValue).toArray(), labels.stream().mapToInt(Integer::intValue).toArray(), px);
    }

    /** Right-padded batch of encoded samples. */
    public Batch collate(List<Encoded> samples) {
        int b = samples.size(), len = 0;
        for (Encoded e : samples) len = Math.max(len, e.ids().length);
        int[] ids = new int[b * len], labels = new int[b * len], mask = new int[b * len];
        float[] px = new float[b * 3 * size * size];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, -100);
        for (int i = 0; i < b; i++) {
            Encoded e = samples.get(i);
            System.arraycopy(e.ids(), 0, ids, i * len, e.ids().length);
            System.arraycopy(e.labels(), 0, labels, i * len, e.labels().length);
            Arrays.fill(mask, i * len, i * len + e.ids().length, 1);
            System.arraycopy(e.pixels(), 0, px, i * 3 * size * size, 3 * size * size);
        }
        return new Batch(b, len, ids, labels, mask, px, size);
    }
}
