package dev.navil4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * InternLM2's slow tokenizer (the hub's InternLM2Tokenizer remote code on transformers 4.x
 * PreTrainedTokenizer, as NaViL's demo loads it with use_fast=False) over a SentencePiece BPE model.
 * <p>Encode: the text is split on every added token first and each remaining segment is sp-encoded on
 * its own, so every segment gets its own dummy ▁ ({@code <|im_start|>user} → {@code <|im_start|>},
 * {@code ▁user}); {@code <s>} is prepended when add_bos_token.
 * <p>Decode (4.x {@code _decode} + InternLM2 {@code convert_tokens_to_string}): additional special tokens
 * beyond the sp vocabulary are separate pieces joined with " "; inside a run, special tokens are written
 * verbatim after a " " (unless the previous token was special too) with the pending pieces sp-decoded
 * before them; every run then goes through clean_up_tokenization.
 */
public final class InternLM2Tokenizer implements Tokenizer {
    private final String where;
    private final SentencePieceModel sp;
    private final Map<String, Integer> addedEncoder = new HashMap<>();
    private final Map<Integer, String> addedDecoder = new HashMap<>();
    private final Set<String> allSpecialTokens = new LinkedHashSet<>();
    private final Set<Integer> allSpecialIds = new java.util.HashSet<>();
    /** Added tokens decoded as their own sub-text (4.x {@code legacy_added_tokens}). */
    private final Set<String> legacyAdded = new java.util.HashSet<>();
    private final AddedTokenMatcher matcher;
    private final int bosId, eosId;
    private final boolean addBos, addEos, cleanUpSpaces;
    private final int size;

    private InternLM2Tokenizer(Path dir) {
        this.where = dir.toString();
        sp = SentencePieceModel.load(dir.resolve("tokenizer.model"));
        JsonNode cfg = readJson(dir.resolve("tokenizer_config.json"), true);
        JsonNode stm = readJson(dir.resolve("special_tokens_map.json"), false);
        JsonNode addedJson = readJson(dir.resolve("added_tokens.json"), false);

        List<AddedToken> list = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : cfg.path("added_tokens_decoder").properties()) {
            int id;
            try { id = Integer.parseInt(e.getKey()); } catch (NumberFormatException ex) { throw err("tokenizer_config.json: added_tokens_decoder key \"" + e.getKey() + "\" is not an id"); }
            JsonNode a = e.getValue();
            if (!a.path("content").isTextual()) throw err("tokenizer_config.json: added token " + id + " has no content");
            AddedToken t = new AddedToken(id, a.get("content").asText(), a.path("lstrip").asBoolean(false), a.path("rstrip").asBoolean(false),
                    a.path("single_word").asBoolean(false), a.path("normalized").asBoolean(false), a.path("special").asBoolean(false));
            list.add(t);
            addedEncoder.put(t.content(), id);
            addedDecoder.put(id, t.content());
        }
        for (Map.Entry<String, JsonNode> e : addedJson.properties()) {
            if (addedEncoder.containsKey(e.getKey())) continue;
            int id = e.getValue().asInt();
            list.add(new AddedToken(id, e.getKey(), false, false, false, false, false));
            addedEncoder.put(e.getKey(), id);
            addedDecoder.put(id, e.getKey());
        }
        // special tokens: tokenizer_config.json wins over special_tokens_map.json, as from_pretrained merges them
        String bos = special(cfg, stm, "bos_token"), eos = special(cfg, stm, "eos_token");
        String unk = special(cfg, stm, "unk_token"), pad = special(cfg, stm, "pad_token");
        for (String s : new String[]{bos, eos, unk, pad}) if (s != null) allSpecialTokens.add(s);
        JsonNode extra = cfg.has("additional_special_tokens") ? cfg.get("additional_special_tokens") : stm.path("additional_special_tokens");
        List<String> additional = new ArrayList<>();
        for (JsonNode a : extra) additional.add(a.isTextual() ? a.asText() : a.path("content").asText());
        allSpecialTokens.addAll(additional);
        for (String s : allSpecialTokens) {
            if (!addedEncoder.containsKey(s)) { // a special token not listed as added: registered with its sp id
                int id = sp.pieceToId(s);
                list.add(new AddedToken(id, s, false, false, false, false, true));
                addedEncoder.put(s, id);
                addedDecoder.put(id, s);
            }
            allSpecialIds.add(addedEncoder.get(s));
        }
        for (String s : addedEncoder.keySet()) if (!allSpecialTokens.contains(s)) legacyAdded.add(s);
        for (String s : additional) if (addedEncoder.get(s) >= sp.size()) legacyAdded.add(s);
        matcher = new AddedTokenMatcher(list);
        bosId = bos == null ? -1 : addedEncoder.get(bos);
        eosId = eos == null ? -1 : addedEncoder.get(eos);
        addBos = cfg.path("add_bos_token").asBoolean(true);
        addEos = cfg.path("add_eos_token").asBoolean(false);
        cleanUpSpaces = cfg.path("clean_up_tokenization_spaces").asBoolean(false);
        int max = sp.size() - 1;
        for (int id : addedDecoder.keySet()) max = Math.max(max, id);
        size = max + 1;
    }

    /** Loads {@code tokenizer.model} + {@code tokenizer_config.json} (+ special_tokens_map.json, added_tokens.json) of a model directory. */
    public static InternLM2Tokenizer load(Path modelDir) { return new InternLM2Tokenizer(modelDir); }

    private TokenizerException err(String msg) { return new TokenizerException(where + ": " + msg); }

    private static JsonNode readJson(Path f, boolean required) {
        if (!Files.isRegularFile(f)) {
            if (required) throw new TokenizerException(f + ": no such file");
            return new ObjectMapper().createObjectNode();
        }
        try {
            JsonNode n = new ObjectMapper().readTree(f.toFile());
            if (n == null || !n.isObject()) throw new TokenizerException(f + ": not a JSON object");
            return n;
        } catch (IOException e) {
            throw new TokenizerException(f + ": invalid JSON: " + e.getMessage(), e);
        }
    }

    private static String special(JsonNode cfg, JsonNode stm, String key) {
        JsonNode n = cfg.has(key) ? cfg.get(key) : stm.path(key);
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual()) return n.get("content").asText();
        return null;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return encode(text, addSpecialTokens, AddedTokenMatcher.NO_RANGES, null);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens, int[] literalRanges, Set<String> literalTokens) {
        Set<String> plain = addedEncoder.keySet();
        if (literalTokens != null) {
            plain = new java.util.HashSet<>(literalTokens);
            plain.retainAll(addedEncoder.keySet());
        }
        IntList out = new IntList();
        if (addSpecialTokens && addBos && bosId >= 0) out.add(bosId);
        for (AddedTokenMatcher.Piece p : matcher.split(text, literalRanges, 0, literalTokens)) {
            if (p.isToken()) out.add(p.id());
            // message text: added tokens that are also user-defined sentencepiece symbols must not come back from sp
            else if (overlaps(literalRanges, p.start(), p.start() + p.text().length())) sp.encode(p.text(), out, plain);
            else sp.encode(p.text(), out); // each segment separately: its own dummy prefix
        }
        if (addSpecialTokens && addEos && eosId >= 0) out.add(eosId);
        return out.toArray();
    }

    private static boolean overlaps(int[] ranges, int a, int b) {
        for (int k = 0; k < ranges.length; k += 2) if (a < ranges[k + 1] && b > ranges[k]) return true;
        return false;
    }

    private String idToToken(int id) {
        String a = addedDecoder.get(id);
        return a != null ? a : sp.idToPiece(id);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> subTexts = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (int id : ids) {
            if (skipSpecialTokens && allSpecialIds.contains(id)) continue;
            String tok = idToToken(id);
            if (legacyAdded.contains(tok)) {
                if (!current.isEmpty()) {
                    String s = convertTokensToString(current);
                    if (!s.isEmpty()) subTexts.add(s);
                    current.clear();
                }
                subTexts.add(tok);
            } else current.add(tok);
        }
        if (!current.isEmpty()) subTexts.add(convertTokensToString(current));
        String text = String.join(" ", subTexts); // spaces_between_special_tokens=True (4.x default)
        return cleanUpSpaces ? cleanUp(text) : text;
    }

    /** InternLM2Tokenizer.convert_tokens_to_string (its prefix-space add and [1:] cancel out). */
    private String convertTokensToString(List<String> tokens) {
        StringBuilder out = new StringBuilder();
        List<String> pending = new ArrayList<>();
        boolean prevIsSpecial = false;
        for (String t : tokens) {
            if (allSpecialTokens.contains(t)) {
                if (!prevIsSpecial) out.append(' ');
                out.append(sp.decodePieces(pending)).append(t);
                prevIsSpecial = true;
                pending.clear();
            } else {
                pending.add(t);
                prevIsSpecial = false;
            }
        }
        out.append(sp.decodePieces(pending));
        return cleanUp(out.toString());
    }

    /** transformers' clean_up_tokenization, the same chain of str.replace calls in the same order. */
    static String cleanUp(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (allSpecialIds.contains(id)) return null;
        String a = addedDecoder.get(id);
        // decode's clean-up (" ." -> ".") may still drop a space before punctuation: between JSON tokens a space is
        // optional, so constrained JSON stays valid; inside a JSON string the text loses that space
        return a != null ? a.getBytes(java.nio.charset.StandardCharsets.UTF_8) : sp.pieceBytes(id);
    }

    @Override
    public int tokenId(String token) {
        Integer a = addedEncoder.get(token);
        if (a != null) return a;
        int id = sp.pieceToId(token);
        return id == sp.unkId && !token.equals(sp.pieces[sp.unkId]) ? -1 : id;
    }

    @Override
    public String token(int id) {
        String a = addedDecoder.get(id);
        if (a != null) return a;
        return id >= 0 && id < sp.size() ? sp.pieces[id] : null;
    }

    @Override
    public int size() { return size; }

    @Override
    public boolean isSpecial(int id) { return allSpecialIds.contains(id); }

    @Override
    public IncrementalDecoder incrementalDecoder(boolean skipSpecialTokens) {
        return new Streaming(skipSpecialTokens);
    }

    /**
     * Streaming by re-decoding: the reference decode is not prefix-stable (a special token inserts a
     * " " before the pieces pending since the previous one; clean-up can still rewrite " ." etc.), so
     * only text that no later id can change is emitted: everything up to the last kept special or
     * legacy token, and — when skipping special tokens, so no such token can arrive — the pending run
     * up to its last three non-space characters (no clean-up pattern can reach past them, since every
     * pattern starts with a space and only spaces are ever removed) and before trailing U+FFFD.
     */
    private final class Streaming implements IncrementalDecoder {
        private final boolean skip;
        private final List<Integer> ids = new ArrayList<>();
        private int emitted, boundary;
        private final boolean pureRun;

        Streaming(boolean skip) {
            this.skip = skip;
            boolean anyKeptLegacy = false;
            for (String t : legacyAdded) if (!allSpecialIds.contains(addedEncoder.get(t))) anyKeptLegacy = true;
            pureRun = skip && !anyKeptLegacy;
        }

        private String decodeIds(int n) {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) a[i] = ids.get(i);
            return decode(a, skip);
        }

        @Override
        public String push(int id) {
            ids.add(id);
            boolean kept = !(skip && allSpecialIds.contains(id));
            if (kept && (allSpecialIds.contains(id) || legacyAdded.contains(idToToken(id)))) boundary = ids.size();
            String stable;
            if (pureRun) {
                List<String> pieces = new ArrayList<>();
                for (int x : ids) if (!allSpecialIds.contains(x)) pieces.add(idToToken(x));
                String raw = sp.decodePieces(pieces);
                int cut = raw.length();
                while (cut > 0 && raw.charAt(cut - 1) == '\uFFFD') cut--;
                while (cut >= 3 && (raw.charAt(cut - 1) == ' ' || raw.charAt(cut - 2) == ' ' || raw.charAt(cut - 3) == ' '
                        || Character.isHighSurrogate(raw.charAt(cut - 1)))) cut--;
                if (cut < 3) cut = 0;
                stable = cleanUp(raw.substring(0, cut));
                if (cleanUpSpaces) stable = cleanUp(stable); // decode's second pass; the same 3-character argument holds
            } else stable = decodeIds(boundary);
            if (stable.length() <= emitted) return "";
            String out = stable.substring(emitted);
            emitted = stable.length();
            return out;
        }

        @Override
        public String finish() {
            String full = decodeIds(ids.size());
            String out = full.length() > emitted ? full.substring(emitted) : "";
            emitted = full.length();
            return out;
        }
    }

    @Override
    public String toString() { return "InternLM2Tokenizer(" + where + ", " + size + " ids)"; }
}
