package dev.navil4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE {@code tokenizer.json} (Qwen2/2.5/3, InternVL3, VoRA), run as HF tokenizers runs it:
 * added tokens matched on the raw text first, each remaining segment normalized (NFC), split by the
 * pre-tokenizer regex, mapped to bytes and BPE-merged; the ByteLevel decoder turns ids back into bytes
 * decoded with U+FFFD for ill-formed UTF-8. Slow Qwen2Tokenizer gives the same ids and, for ASCII added
 * tokens, the same text (it decodes the byte runs between added tokens separately, which is what this does).
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {
    private final String where;
    private final ByteLevelBpe bpe;
    private final String[] idToToken;
    private final byte[][] idToBytes;
    private final Map<String, Integer> tokenToId;
    private final Map<Integer, AddedToken> added = new HashMap<>();
    private final AddedTokenMatcher rawMatcher, normalizedMatcher;
    private final List<Normalizer.Form> normalizers = new ArrayList<>();
    private final PreTokenizer preTokenizer;
    private final int[] prefixIds, suffixIds; // TemplateProcessing "single" around the sequence
    private final int size;

    private ByteLevelBpeTokenizer(Path file, JsonNode root) {
        this.where = file.toString();
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) throw err("model.type must be \"BPE\" (got " + model.path("type") + ")");
        if (!model.path("vocab").isObject()) throw err("model.vocab must be an object");
        if (model.path("byte_fallback").asBoolean(false)) throw err("BPE byte_fallback is not supported (only byte-level BPE)");
        if (!model.path("continuing_subword_prefix").asText("").isEmpty() || !model.path("end_of_word_suffix").asText("").isEmpty())
            throw err("continuing_subword_prefix / end_of_word_suffix are not supported");
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode() && model.path("dropout").asDouble() != 0)
            throw err("BPE dropout is not supported for inference");
        Map<String, Integer> vocab = new HashMap<>(model.get("vocab").size() * 2);
        int maxId = -1;
        for (Map.Entry<String, JsonNode> e : model.get("vocab").properties()) {
            if (!e.getValue().canConvertToInt()) throw err("vocab entry \"" + e.getKey() + "\" has a non-integer id");
            int id = e.getValue().asInt();
            if (id < 0) throw err("vocab entry \"" + e.getKey() + "\" has a negative id");
            vocab.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        JsonNode m = model.path("merges");
        if (!m.isArray()) throw err("model.merges must be an array");
        String[][] merges = new String[m.size()][];
        for (int i = 0; i < merges.length; i++) {
            JsonNode e = m.get(i);
            if (e.isTextual()) {
                // legacy "a b" encoding; byte-level tokens never contain a space
                String[] parts = e.asText().split(" ", -1);
                if (parts.length != 2) throw err("merge " + i + " \"" + e.asText() + "\" is not \"left right\"");
                merges[i] = parts;
            } else if (e.isArray() && e.size() == 2 && e.get(0).isTextual() && e.get(1).isTextual()) {
                merges[i] = new String[]{e.get(0).asText(), e.get(1).asText()};
            } else throw err("merge " + i + " must be \"a b\" or [\"a\", \"b\"]");
        }
        bpe = new ByteLevelBpe(vocab, merges, model.path("ignore_merges").asBoolean(false), where);

        List<AddedToken> raw = new ArrayList<>(), norm = new ArrayList<>();
        for (JsonNode a : root.path("added_tokens")) {
            if (!a.path("id").canConvertToInt() || !a.path("content").isTextual()) throw err("added token without integer id / content: " + a);
            AddedToken t = new AddedToken(a.get("id").asInt(), a.get("content").asText(), a.path("lstrip").asBoolean(false),
                    a.path("rstrip").asBoolean(false), a.path("single_word").asBoolean(false),
                    a.path("normalized").asBoolean(false), a.path("special").asBoolean(false));
            added.put(t.id(), t);
            (t.normalized() ? norm : raw).add(t);
            maxId = Math.max(maxId, t.id());
        }
        rawMatcher = new AddedTokenMatcher(raw);
        normalizedMatcher = new AddedTokenMatcher(norm);

        size = maxId + 1;
        idToToken = new String[size];
        idToBytes = new byte[size][];
        tokenToId = new HashMap<>(vocab);
        vocab.forEach((t, id) -> idToToken[id] = t);
        for (int id = 0; id < size; id++) {
            if (idToToken[id] == null) continue;
            byte[] b = ByteLevel.toBytes(idToToken[id]);
            // the ByteLevel decoder falls back to the token's own UTF-8 when a char is outside the byte table
            idToBytes[id] = b != null ? b : idToToken[id].getBytes(StandardCharsets.UTF_8);
        }
        for (AddedToken t : added.values()) { idToToken[t.id()] = t.content(); tokenToId.put(t.content(), t.id()); }

        parseNormalizer(root.path("normalizer"));
        boolean[] sawByteLevel = {false};
        preTokenizer = parsePreTokenizer(root.path("pre_tokenizer"), sawByteLevel);
        if (!sawByteLevel[0]) throw err("only byte-level BPE is supported: the pre_tokenizer has no ByteLevel step");
        JsonNode dec = root.path("decoder");
        if (!dec.isNull() && !dec.isMissingNode() && !"ByteLevel".equals(dec.path("type").asText()))
            throw err("unsupported decoder " + dec.path("type") + " (only ByteLevel)");
        IntList pre = new IntList(), suf = new IntList();
        parsePostProcessor(root.path("post_processor"), pre, suf);
        prefixIds = pre.toArray();
        suffixIds = suf.toArray();
    }

    /** Loads {@code tokenizer.json}; a missing, malformed or unsupported file is a {@link TokenizerException}. */
    public static ByteLevelBpeTokenizer load(Path file) {
        if (!Files.isRegularFile(file)) throw new TokenizerException(file + ": no such file");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + ": invalid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new TokenizerException(file + ": not a JSON object");
        return new ByteLevelBpeTokenizer(file, root);
    }

    private TokenizerException err(String msg) { return new TokenizerException(where + ": " + msg); }

    private void parseNormalizer(JsonNode n) {
        if (n.isNull() || n.isMissingNode()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "NFC" -> normalizers.add(Normalizer.Form.NFC);
            case "NFD" -> normalizers.add(Normalizer.Form.NFD);
            case "NFKC" -> normalizers.add(Normalizer.Form.NFKC);
            case "NFKD" -> normalizers.add(Normalizer.Form.NFKD);
            case "Sequence" -> { for (JsonNode c : n.path("normalizers")) parseNormalizer(c); }
            default -> throw err("unsupported normalizer \"" + type + "\"");
        }
    }

    private PreTokenizer parsePreTokenizer(JsonNode n, boolean[] sawByteLevel) {
        if (n.isNull() || n.isMissingNode()) return (s, out) -> out.add(s);
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode c : n.path("pretokenizers")) steps.add(parsePreTokenizer(c, sawByteLevel));
                return new PreTokenizer.Sequence(steps);
            }
            case "Split" -> {
                JsonNode p = n.path("pattern");
                java.util.regex.Pattern pattern;
                if (p.has("Regex")) pattern = PreTokenizer.compile(p.get("Regex").asText());
                else if (p.has("String")) pattern = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(p.get("String").asText()));
                else throw err("Split pre-tokenizer without Regex/String pattern");
                PreTokenizer.Behavior b = switch (n.path("behavior").asText()) {
                    case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
                    case "Removed" -> PreTokenizer.Behavior.REMOVED;
                    case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
                    case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
                    case "Contiguous" -> PreTokenizer.Behavior.CONTIGUOUS;
                    default -> throw err("unknown Split behavior " + n.path("behavior"));
                };
                return new PreTokenizer.Split(pattern, b, n.path("invert").asBoolean(false));
            }
            case "ByteLevel" -> {
                sawByteLevel[0] = true;
                return new PreTokenizer.ByteLevelSplit(n.path("add_prefix_space").asBoolean(true),
                        n.path("use_regex").asBoolean(true) ? PreTokenizer.compile(PreTokenizer.GPT2_REGEX) : null);
            }
            default -> throw err("unsupported pre_tokenizer \"" + type + "\"");
        }
    }

    private void parsePostProcessor(JsonNode n, IntList pre, IntList suf) {
        if (n.isNull() || n.isMissingNode()) return;
        switch (n.path("type").asText()) {
            case "ByteLevel" -> { } // only adjusts offsets
            case "Sequence" -> { for (JsonNode c : n.path("processors")) parsePostProcessor(c, pre, suf); }
            case "TemplateProcessing" -> {
                boolean seenSeq = false;
                for (JsonNode piece : n.path("single")) {
                    if (piece.has("Sequence")) { seenSeq = true; continue; }
                    String name = piece.path("SpecialToken").path("id").asText();
                    JsonNode ids = n.path("special_tokens").path(name).path("ids");
                    if (!ids.isArray()) throw err("TemplateProcessing special token \"" + name + "\" has no ids");
                    for (JsonNode id : ids) (seenSeq ? suf : pre).add(id.asInt());
                }
            }
            default -> throw err("unsupported post_processor \"" + n.path("type").asText() + "\"");
        }
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList();
        if (addSpecialTokens) for (int id : prefixIds) out.add(id);
        List<String> words = new ArrayList<>();
        for (AddedTokenMatcher.Piece p : rawMatcher.split(text)) {
            if (p.isToken()) { out.add(p.id()); continue; }
            String s = p.text();
            for (Normalizer.Form f : normalizers) s = Normalizer.normalize(s, f);
            for (AddedTokenMatcher.Piece q : normalizedMatcher.split(s)) {
                if (q.isToken()) { out.add(q.id()); continue; }
                words.clear();
                preTokenizer.split(q.text(), words);
                for (String w : words) if (!w.isEmpty()) bpe.encodeWord(w, out);
            }
        }
        if (addSpecialTokens) for (int id : suffixIds) out.add(id);
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        Decoder d = new Decoder(skipSpecialTokens);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        return sb.append(d.finish()).toString();
    }

    /** Byte runs between added tokens are decoded lossily; with {@code stream}, an unfinished character waits. */
    private final class Decoder implements IncrementalDecoder {
        private final boolean skip;
        private byte[] pending = new byte[64];
        private int n;
        private final StringBuilder out = new StringBuilder();

        Decoder(boolean skip) { this.skip = skip; }

        private void flush() {
            Utf8.appendLossy(out, pending, 0, n, false);
            n = 0;
        }

        private String take() {
            String s = out.toString();
            out.setLength(0);
            return s;
        }

        @Override
        public String push(int id) {
            AddedToken a = added.get(id);
            if (a != null) {
                if (!(skip && a.special())) { flush(); out.append(a.content()); }
                return take();
            }
            byte[] b = id >= 0 && id < size ? idToBytes[id] : null;
            if (b == null) return take(); // tokenizers skips ids outside the vocabulary
            if (n + b.length > pending.length) pending = java.util.Arrays.copyOf(pending, Math.max(pending.length * 2, n + b.length));
            System.arraycopy(b, 0, pending, n, b.length);
            n += b.length;
            // emit everything up to a possibly unfinished last character
            int stop = Utf8.appendLossy(out, pending, 0, n, true);
            System.arraycopy(pending, stop, pending, 0, n - stop);
            n -= stop;
            return take();
        }

        @Override
        public String finish() {
            flush();
            return take();
        }
    }

    @Override
    public int tokenId(String token) { return tokenToId.getOrDefault(token, -1); }

    @Override
    public String token(int id) { return id >= 0 && id < size ? idToToken[id] : null; }

    @Override
    public int size() { return size; }

    @Override
    public boolean isSpecial(int id) {
        AddedToken a = added.get(id);
        return a != null && a.special();
    }

    @Override
    public IncrementalDecoder incrementalDecoder(boolean skipSpecialTokens) { return new Decoder(skipSpecialTokens); }

    @Override
    public String toString() { return "ByteLevelBpeTokenizer(" + where + ", " + size + " ids)"; }
}
