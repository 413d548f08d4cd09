package dev.navil4j.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

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
    private final AddedToken[] addedById;
    private final AddedTokenMatcher rawMatcher, normalizedMatcher;
    private final List<Normalizer.Form> normalizers = new ArrayList<>();
    private final PreTokenizer preTokenizer;
    private final int[] prefixIds, suffixIds; // TemplateProcessing "single" around the sequence
    private final int size;
    /** Slow Qwen2Tokenizer: NFC of the whole text before added tokens are split off (prepare_for_tokenization). */
    private final boolean normalizeFirst;

    private ByteLevelBpeTokenizer(Path file, Parsed parsed) {
        this.where = file.toString();
        this.normalizeFirst = parsed.normalizeFirst();
        JsonNode root = parsed.root();
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) throw err("model.type must be \"BPE\" (got " + model.path("type") + ")");
        if (parsed.vocab() == null) throw err("model.vocab must be an object");
        if (model.path("byte_fallback").asBoolean(false)) throw err("BPE byte_fallback is not supported (only byte-level BPE)");
        if (!model.path("continuing_subword_prefix").asText("").isEmpty() || !model.path("end_of_word_suffix").asText("").isEmpty())
            throw err("continuing_subword_prefix / end_of_word_suffix are not supported");
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode() && model.path("dropout").asDouble() != 0)
            throw err("BPE dropout is not supported for inference");
        Map<String, Integer> vocab = parsed.vocab();
        String[][] merges = parsed.merges();
        if (merges == null) throw err("model.merges must be an array");
        int maxId = -1;
        for (int id : vocab.values()) maxId = Math.max(maxId, id);
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
        addedById = new AddedToken[size];
        for (AddedToken t : added.values()) { idToToken[t.id()] = t.content(); tokenToId.put(t.content(), t.id()); addedById[t.id()] = t; }

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
        try (JsonParser p = new ObjectMapper().getFactory().createParser(file.toFile())) {
            return new ByteLevelBpeTokenizer(file, parse(file, p));
        } catch (IOException e) {
            throw new TokenizerException(file + ": invalid JSON: " + e.getMessage(), e);
        }
    }

    /** The Qwen2 pre-tokenizer regex (tokenization_qwen2.py PRETOKENIZE_REGEX). */
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * The slow Qwen2Tokenizer from {@code vocab.json} + {@code merges.txt} + {@code tokenizer_config.json}
     * (checkpoints that ship no tokenizer.json): the same byte-level BPE pipeline, NFC applied to the whole
     * text first, added tokens from added_tokens_decoder / added_tokens.json, special = flagged special or
     * named in the special-token lists (what skip_special_tokens drops in the slow tokenizer).
     */
    public static ByteLevelBpeTokenizer loadQwen2Slow(Path dir) {
        Path vf = dir.resolve("vocab.json"), mf = dir.resolve("merges.txt"), cf = dir.resolve("tokenizer_config.json");
        for (Path f : new Path[]{vf, mf}) if (!Files.isRegularFile(f)) throw new TokenizerException(f + ": no such file");
        ObjectMapper om = new ObjectMapper();
        try {
            JsonNode vocabJson = om.readTree(vf.toFile());
            if (vocabJson == null || !vocabJson.isObject()) throw new TokenizerException(vf + ": not a JSON object");
            Map<String, Integer> vocab = new HashMap<>(vocabJson.size() * 2);
            for (Map.Entry<String, JsonNode> e : vocabJson.properties()) {
                if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) throw new TokenizerException(vf + ": entry \"" + e.getKey() + "\" has no valid id");
                vocab.put(e.getKey(), e.getValue().asInt());
            }
            List<String[]> merges = new ArrayList<>();
            List<String> lines = Files.readAllLines(mf, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (i == 0 && line.startsWith("#version")) continue;
                if (line.isBlank()) continue;
                String[] parts = line.split(" ", -1);
                if (parts.length != 2) throw new TokenizerException(mf + ": line " + (i + 1) + " \"" + line + "\" is not \"left right\"");
                merges.add(parts);
            }
            JsonNode cfg = Files.isRegularFile(cf) ? om.readTree(cf.toFile()) : om.createObjectNode();
            Set<String> specials = new HashSet<>();
            for (String k : new String[]{"bos_token", "eos_token", "unk_token", "pad_token"}) {
                JsonNode n = cfg.path(k);
                if (n.isTextual()) specials.add(n.asText()); else if (n.path("content").isTextual()) specials.add(n.get("content").asText());
            }
            for (JsonNode n : cfg.path("additional_special_tokens")) specials.add(n.isTextual() ? n.asText() : n.path("content").asText());
            ArrayNode added = om.createArrayNode();
            Set<String> seen = new HashSet<>();
            for (Map.Entry<String, JsonNode> e : cfg.path("added_tokens_decoder").properties()) {
                ObjectNode a = ((ObjectNode) e.getValue().deepCopy()).put("id", Integer.parseInt(e.getKey()));
                a.put("special", a.path("special").asBoolean(false) || specials.contains(a.path("content").asText()));
                added.add(a);
                seen.add(a.path("content").asText());
            }
            Path atf = dir.resolve("added_tokens.json");
            if (Files.isRegularFile(atf)) for (Map.Entry<String, JsonNode> e : om.readTree(atf.toFile()).properties()) {
                if (seen.add(e.getKey())) added.add(om.createObjectNode().put("id", e.getValue().asInt()).put("content", e.getKey())
                        .put("special", specials.contains(e.getKey())));
            }
            ObjectNode root = om.createObjectNode();
            root.putObject("model").put("type", "BPE");
            root.set("added_tokens", added);
            root.putObject("normalizer").put("type", "NFC");
            ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
            ArrayNode steps = pre.putArray("pretokenizers");
            ObjectNode split = steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false);
            split.putObject("pattern").put("Regex", QWEN2_REGEX);
            steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
            root.putObject("decoder").put("type", "ByteLevel");
            return new ByteLevelBpeTokenizer(dir, new Parsed(root, vocab, merges.toArray(String[][]::new), true));
        } catch (IOException e) {
            throw new TokenizerException(dir + ": invalid tokenizer files: " + e.getMessage(), e);
        }
    }

    /** tokenizer.json with model.vocab and model.merges streamed (151k entries each for Qwen) and the rest as a tree. */
    private record Parsed(ObjectNode root, Map<String, Integer> vocab, String[][] merges, boolean normalizeFirst) {}

    private static Parsed parse(Path file, JsonParser p) throws IOException {
        ObjectMapper om = new ObjectMapper();
        if (p.nextToken() != JsonToken.START_OBJECT) throw new TokenizerException(file + ": not a JSON object");
        ObjectNode root = om.createObjectNode(), model = om.createObjectNode();
        Map<String, Integer> vocab = null;
        String[][] merges = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            if (!"model".equals(name) || t != JsonToken.START_OBJECT) { root.set(name, om.readTree(p)); continue; }
            root.set("model", model);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                if ("vocab".equals(key) && v == JsonToken.START_OBJECT) {
                    vocab = new HashMap<>(1 << 18);
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String tok = p.currentName();
                        if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) throw new TokenizerException(file + ": vocab entry \"" + tok + "\" has a non-integer id");
                        int id = p.getIntValue();
                        if (id < 0) throw new TokenizerException(file + ": vocab entry \"" + tok + "\" has a negative id");
                        vocab.put(tok, id);
                    }
                } else if ("merges".equals(key) && v == JsonToken.START_ARRAY) {
                    List<String[]> list = new ArrayList<>(1 << 17);
                    for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                        int i = list.size();
                        if (e == JsonToken.VALUE_STRING) {
                            // legacy "a b" encoding; byte-level tokens never contain a space
                            String s = p.getText();
                            int sp = s.indexOf(' ');
                            if (sp < 0 || s.indexOf(' ', sp + 1) >= 0) throw new TokenizerException(file + ": merge " + i + " \"" + s + "\" is not \"left right\"");
                            list.add(new String[]{s.substring(0, sp), s.substring(sp + 1)});
                        } else if (e == JsonToken.START_ARRAY) {
                            String a = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                            String b = a != null && p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                            if (b == null || p.nextToken() != JsonToken.END_ARRAY)
                                throw new TokenizerException(file + ": merge " + i + " must be \"a b\" or [\"a\", \"b\"]");
                            list.add(new String[]{a, b});
                        } else throw new TokenizerException(file + ": merge " + i + " must be \"a b\" or [\"a\", \"b\"]");
                    }
                    merges = list.toArray(String[][]::new);
                } else model.set(key, om.readTree(p));
            }
        }
        return new Parsed(root, vocab, merges, false);
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
                boolean invert = n.path("invert").asBoolean(false);
                if (p.has("Regex") && p.get("Regex").asText().equals(QWEN2_REGEX) && "Isolated".equals(n.path("behavior").asText()) && !invert)
                    return new Qwen2PreTokenizer(); // same splits as the regex, without java.util.regex
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
                return new PreTokenizer.Split(pattern, b, invert);
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
        return encode(text, addSpecialTokens, AddedTokenMatcher.NO_RANGES, null);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens, int[] literalRanges, java.util.Set<String> literalTokens) {
        IntList out = new IntList();
        if (addSpecialTokens) for (int id : prefixIds) out.add(id);
        List<String> words = new ArrayList<>();
        int[] lit = literalRanges;
        if (normalizeFirst && !normalizers.isEmpty()) {
            if (lit.length == 0) for (Normalizer.Form f : normalizers) text = Normalizer.normalize(text, f);
            else {
                // normalized segment by segment so that the literal ranges still mark the same characters
                StringBuilder b = new StringBuilder();
                lit = new int[literalRanges.length];
                int at = 0;
                for (int k = 0; k <= literalRanges.length; k++) {
                    int to = k < literalRanges.length ? literalRanges[k] : text.length();
                    String seg = text.substring(at, to);
                    for (Normalizer.Form f : normalizers) seg = Normalizer.normalize(seg, f);
                    b.append(seg);
                    if (k < literalRanges.length) lit[k] = b.length();
                    at = to;
                }
                text = b.toString();
            }
        }
        for (AddedTokenMatcher.Piece p : rawMatcher.split(text, lit, 0, literalTokens)) {
            if (p.isToken()) { out.add(p.id()); continue; }
            String s = p.text();
            int[] pieceLit = lit;
            int pieceStart = p.start();
            if (!normalizeFirst && !normalizers.isEmpty()) {
                String raw = s;
                for (Normalizer.Form f : normalizers) s = Normalizer.normalize(s, f);
                if (lit.length > 0 && !s.equals(raw)) {
                    // normalization changed the piece's length: the whole piece is literal if any of it is (a
                    // literal range is a whole message, so at worst a template character next to it stays literal)
                    pieceLit = overlapsAny(lit, p.start(), p.start() + raw.length()) ? new int[]{0, s.length()} : AddedTokenMatcher.NO_RANGES;
                    pieceStart = 0;
                }
            }
            for (AddedTokenMatcher.Piece q : normalizedMatcher.split(s, pieceLit, pieceStart, literalTokens)) {
                if (q.isToken()) { out.add(q.id()); continue; }
                words.clear();
                preTokenizer.split(q.text(), words);
                for (String w : words) if (!w.isEmpty()) bpe.encodeWord(w, out);
            }
        }
        if (addSpecialTokens) for (int id : suffixIds) out.add(id);
        return out.toArray();
    }

    private static boolean overlapsAny(int[] ranges, int a, int b) {
        for (int k = 0; k < ranges.length; k += 2) if (a < ranges[k + 1] && b > ranges[k]) return true;
        return false;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        // byte runs between added tokens, each decoded lossily (what the streaming Decoder does, without
        // its per-id string building)
        StringBuilder sb = new StringBuilder(ids.length * 4);
        byte[] buf = new byte[Math.max(16, ids.length * 4)];
        int n = 0;
        for (int id : ids) {
            AddedToken a = id >= 0 && id < size ? addedById[id] : null;
            if (a != null) {
                if (skipSpecialTokens && a.special()) continue;
                Utf8.appendLossy(sb, buf, 0, n, false);
                n = 0;
                sb.append(a.content());
                continue;
            }
            byte[] b = id >= 0 && id < size ? idToBytes[id] : null;
            if (b == null) continue; // tokenizers skips ids outside the vocabulary
            if (n + b.length > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, n + b.length));
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }
        Utf8.appendLossy(sb, buf, 0, n, false);
        return sb.toString();
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
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= size) return null;
        AddedToken a = addedById[id];
        if (a != null) return a.special() ? null : a.content().getBytes(StandardCharsets.UTF_8); // decode writes an added token's content
        return idToBytes[id] == null ? null : idToBytes[id].clone();
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
