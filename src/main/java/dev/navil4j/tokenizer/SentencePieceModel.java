package dev.navil4j.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * A SentencePiece {@code tokenizer.model} (the ModelProto protobuf, parsed here without dependencies) with
 * the BPE encoder and piece decoder of the sentencepiece library: the identity normalizer with dummy
 * prefix and ▁ whitespace escaping, highest-score-first merges (bpe_model.cc), byte fallback for
 * pieces outside the vocabulary, and DecodePieces with its per-byte U+FFFD rule.
 */
public final class SentencePieceModel {
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    static final String SPACE = "\u2581";

    final String where;
    final String[] pieces;
    final float[] scores;
    final int[] types;
    /** NORMAL / USER_DEFINED / UNUSED pieces (what merges may produce), model_interface.cc {@code pieces_}. */
    private final Map<String, Integer> mergeable = new HashMap<>();
    /** The other pieces (control, unknown, byte), {@code reserved_id_map_}: looked up first by PieceToId. */
    private final Map<String, Integer> reserved = new HashMap<>();
    private final List<String> userDefined = new ArrayList<>();
    private final int[] byteToId = new int[256];
    final int unkId;
    final boolean byteFallback, addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces, whitespaceAsSuffix;
    final String unkSurface;

    private SentencePieceModel(String where, byte[] proto) {
        this.where = where;
        List<String> ps = new ArrayList<>();
        List<Float> sc = new ArrayList<>();
        List<Integer> ty = new ArrayList<>();
        boolean[] flags = {false, true, true, true, false}; // byte_fallback, add_dummy_prefix, remove_extra_ws, escape_ws, ws_as_suffix
        int modelType = 1;
        String charsmapName = "";
        int charsmapLen = 0;
        String unkSurf = " \u2047 ";
        int unk = 0;
        try {
            Pb top = new Pb(proto, 0, proto.length);
            while (top.more()) {
                int tag = top.tag();
                int field = tag >>> 3;
                if (field == 1 && (tag & 7) == 2) { // SentencePiece
                    Pb p = top.sub();
                    String piece = null;
                    float score = 0;
                    int type = NORMAL;
                    while (p.more()) {
                        int t = p.tag();
                        switch (t >>> 3) {
                            case 1 -> piece = p.string();
                            case 2 -> score = p.float32();
                            case 3 -> type = (int) p.varint();
                            default -> p.skip(t);
                        }
                    }
                    if (piece == null || piece.isEmpty()) throw new TokenizerException(where + ": piece " + ps.size() + " is empty");
                    ps.add(piece); sc.add(score); ty.add(type);
                } else if (field == 2 && (tag & 7) == 2) { // TrainerSpec
                    Pb t = top.sub();
                    while (t.more()) {
                        int g = t.tag();
                        switch (g >>> 3) {
                            case 3 -> modelType = (int) t.varint();
                            case 35 -> flags[0] = t.varint() != 0;
                            case 24 -> flags[4] = t.varint() != 0;
                            case 44 -> unkSurf = t.string();
                            default -> t.skip(g);
                        }
                    }
                } else if (field == 3 && (tag & 7) == 2) { // NormalizerSpec
                    Pb n = top.sub();
                    while (n.more()) {
                        int g = n.tag();
                        switch (g >>> 3) {
                            case 1 -> charsmapName = n.string();
                            case 2 -> charsmapLen = n.bytes().length;
                            case 3 -> flags[1] = n.varint() != 0;
                            case 4 -> flags[2] = n.varint() != 0;
                            case 5 -> flags[3] = n.varint() != 0;
                            default -> n.skip(g);
                        }
                    }
                } else top.skip(tag);
            }
        } catch (RuntimeException e) {
            if (e instanceof TokenizerException te) throw te;
            throw new TokenizerException(where + ": not a SentencePiece model (malformed protobuf: " + e.getMessage() + ")", e);
        }
        if (ps.isEmpty()) throw new TokenizerException(where + ": not a SentencePiece model (no pieces)");
        if (modelType != 2) throw new TokenizerException(where + ": SentencePiece model_type " + modelType + " is not supported (only BPE = 2)");
        if (charsmapLen > 0) throw new TokenizerException(where + ": normalizer \"" + charsmapName + "\" with a precompiled charsmap is not supported (only identity)");
        pieces = ps.toArray(String[]::new);
        scores = new float[ps.size()];
        types = new int[ps.size()];
        java.util.Arrays.fill(byteToId, -1);
        for (int i = 0; i < pieces.length; i++) {
            scores[i] = sc.get(i);
            types[i] = ty.get(i);
            boolean normal = types[i] == NORMAL || types[i] == USER_DEFINED || types[i] == UNUSED;
            (normal ? mergeable : reserved).putIfAbsent(pieces[i], i);
            if (types[i] == USER_DEFINED) userDefined.add(pieces[i]);
            if (types[i] == UNKNOWN) unk = i;
            if (types[i] == BYTE) {
                int b = pieceToByte(pieces[i]);
                if (b < 0) throw new TokenizerException(where + ": byte piece \"" + pieces[i] + "\" is not <0xNN>");
                byteToId[b] = i;
            }
        }
        userDefined.sort((a, b) -> b.length() - a.length());
        unkId = unk;
        byteFallback = flags[0];
        addDummyPrefix = flags[1];
        removeExtraWhitespaces = flags[2];
        escapeWhitespaces = flags[3];
        whitespaceAsSuffix = flags[4];
        unkSurface = unkSurf;
        if (byteFallback) for (int b = 0; b < 256; b++)
            if (byteToId[b] < 0) throw new TokenizerException(where + ": byte_fallback is on but piece <0x" + String.format("%02X", b) + "> is missing");
    }

    public static SentencePieceModel load(Path file) {
        if (!Files.isRegularFile(file)) throw new TokenizerException(file + ": no such file");
        try {
            return new SentencePieceModel(file.toString(), Files.readAllBytes(file));
        } catch (IOException e) {
            throw new TokenizerException(file + ": " + e.getMessage(), e);
        }
    }

    public int size() { return pieces.length; }

    /** sentencepiece PieceToId: reserved pieces first, then normal ones, else unk. */
    public int pieceToId(String piece) {
        Integer r = reserved.get(piece);
        if (r != null) return r;
        Integer n = mergeable.get(piece);
        return n != null ? n : unkId;
    }

    public String idToPiece(int id) {
        if (id < 0 || id >= pieces.length) throw new TokenizerException(where + ": piece id " + id + " is out of range [0, " + pieces.length + ")");
        return pieces[id];
    }

    /**
     * The bytes piece {@code id} stands for in decoded text (DecodePieces: ▁ is a space, a byte piece its byte), or
     * null for control and unknown pieces (the decoder writes no fixed bytes for them).
     */
    byte[] pieceBytes(int id) {
        if (id < 0 || id >= pieces.length) return null;
        return switch (types[id]) {
            case BYTE -> new byte[]{(byte) pieceToByte(pieces[id])};
            case CONTROL, UNKNOWN -> null;
            default -> pieces[id].replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
        };
    }

    static int pieceToByte(String p) {
        if (p.length() != 6 || !p.startsWith("<0x") || p.charAt(5) != '>') return -1;
        try { return Integer.parseInt(p.substring(3, 5), 16); } catch (NumberFormatException e) { return -1; }
    }

    // ---------------------------------------------------------------- encode

    /** normalizer.cc Normalize for the identity normalizer: dummy prefix, ▁ for ' ', optional whitespace trimming. */
    String normalize(String s) {
        if (s.isEmpty()) return s;
        StringBuilder out = new StringBuilder(s.length() + 8);
        int i = 0;
        if (removeExtraWhitespaces) while (i < s.length() && s.charAt(i) == ' ') i++;
        if (i == s.length()) return "";
        String ws = escapeWhitespaces ? SPACE : " ";
        if (!whitespaceAsSuffix && addDummyPrefix) out.append(ws);
        boolean prevSpace = removeExtraWhitespaces;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ') {
                if (prevSpace) continue;
                out.append(ws);
                prevSpace = removeExtraWhitespaces;
            } else {
                out.append(c);
                prevSpace = false;
            }
        }
        if (removeExtraWhitespaces) while (out.length() > 0 && out.toString().endsWith(ws)) out.setLength(out.length() - ws.length());
        if (whitespaceAsSuffix && addDummyPrefix) out.append(ws);
        return out.toString();
    }

    /** SentencePieceProcessor::Encode → ids (with byte fallback for pieces outside the vocabulary). */
    public int[] encode(String text) {
        IntList out = new IntList();
        encode(text, out);
        return out.toArray();
    }

    void encode(String text, IntList out) { encode(text, out, java.util.Set.of()); }

    /**
     * As {@link #encode(String, IntList)}, with the user-defined symbols in {@code plain} neither atomic nor produced
     * by a merge: their text is spelled with ordinary pieces (message text holding special-token text).
     */
    void encode(String text, IntList out, java.util.Set<String> plain) {
        String norm = normalize(text);
        if (norm.isEmpty()) return;
        List<String> segs = bpe(norm, plain);
        boolean prevUnk = false;
        for (String w : segs) {
            int id = pieceToId(w);
            boolean isUnk = id == unkId && !w.equals(pieces[unkId]);
            if (isUnk && byteFallback) {
                for (byte b : w.getBytes(StandardCharsets.UTF_8)) out.add(byteToId[b & 0xFF]);
            } else if (!(isUnk && prevUnk)) out.add(id); // runs of unknown pieces merge into one <unk>
            prevUnk = isUnk;
        }
    }

    private record Pair(int left, int right, float score, int size) {}

    /** bpe_model.cc Model::Encode on a normalized string: the pieces (as strings) in order. */
    private List<String> bpe(String s, java.util.Set<String> plain) {
        // split into characters; user-defined symbols are atomic (PrefixMatcher) and never merged
        List<String> sym = new ArrayList<>();
        List<Boolean> frozen = new ArrayList<>();
        for (int i = 0; i < s.length(); ) {
            String ud = null;
            for (String u : userDefined) if (s.startsWith(u, i) && !plain.contains(u)) { ud = u; break; }
            int len = ud != null ? ud.length() : Character.charCount(s.codePointAt(i));
            sym.add(s.substring(i, i + len));
            frozen.add(ud != null);
            i += len;
        }
        int n = sym.size();
        String[] piece = sym.toArray(String[]::new);
        int[] prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        // highest score first, then leftmost
        PriorityQueue<Pair> agenda = new PriorityQueue<>((a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        Map<String, String[]> revMerge = new HashMap<>();
        java.util.function.BiConsumer<Integer, Integer> maybeAdd = (l, r) -> {
            if (l < 0 || r < 0 || frozen.get(l) || frozen.get(r)) return;
            String m = piece[l] + piece[r];
            Integer id = mergeable.get(m);
            if (id == null || plain.contains(m)) return;
            agenda.add(new Pair(l, r, scores[id], m.length()));
            if (types[id] == UNUSED) revMerge.put(m, new String[]{piece[l], piece[r]});
        };
        for (int i = 1; i < n; i++) maybeAdd.accept(i - 1, i);
        while (!agenda.isEmpty()) {
            Pair top = agenda.poll();
            // stale: one side already merged away or grown
            if (piece[top.left].isEmpty() || piece[top.right].isEmpty()
                    || piece[top.left].length() + piece[top.right].length() != top.size) continue;
            piece[top.left] = piece[top.left] + piece[top.right];
            piece[top.right] = "";
            next[top.left] = next[top.right];
            if (next[top.right] >= 0) prev[next[top.right]] = top.left;
            maybeAdd.accept(prev[top.left], top.left);
            maybeAdd.accept(top.left, next[top.left]);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i >= 0 && n > 0; i = next[i]) resegment(piece[i], revMerge, out);
        return out;
    }

    /** Unused pieces are split back into the two pieces they were merged from. */
    private void resegment(String w, Map<String, String[]> revMerge, List<String> out) {
        int id = pieceToId(w);
        String[] p = revMerge.get(w);
        if (id == unkId || types[id] != UNUSED || p == null) { out.add(w); return; }
        resegment(p[0], revMerge, out);
        resegment(p[1], revMerge, out);
    }

    // ---------------------------------------------------------------- decode

    /**
     * SentencePieceProcessor::DecodePieces: control pieces vanish, the first piece loses one leading ▁
     * (dummy prefix), ▁ → ' ', runs of byte pieces become UTF-8 with one U+FFFD per ill-formed byte.
     */
    public String decodePieces(List<String> ps) {
        StringBuilder text = new StringBuilder();
        boolean isBosWs = true, bosWsSeen = false;
        List<Integer> bytes = new ArrayList<>();
        for (String p : ps) {
            int id = pieceToId(p);
            if (types[id] == BYTE) { bytes.add(pieceToByte(p)); continue; }
            flushBytes(bytes, text);
            if (bosWsSeen || text.length() > 0) isBosWs = false;
            String surface;
            bosWsSeen = false;
            if (types[id] == CONTROL) surface = "";
            else if (id == unkId && types[id] == UNKNOWN) surface = p.equals(pieces[unkId]) ? unkSurface : p;
            else {
                String q = p;
                if (isBosWs && (addDummyPrefix || removeExtraWhitespaces)) {
                    if (q.startsWith(SPACE)) { q = q.substring(SPACE.length()); bosWsSeen = !removeExtraWhitespaces; }
                }
                surface = q.replace(SPACE, " ");
            }
            text.append(surface);
        }
        flushBytes(bytes, text);
        return text.toString();
    }

    /** ProcessBytePieces: valid characters decode, every other byte is one U+FFFD (util.cc DecodeUTF8). */
    private static void flushBytes(List<Integer> bytes, StringBuilder text) {
        int n = bytes.size();
        for (int i = 0; i < n; ) {
            int c = bytes.get(i);
            int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            int cp = -1;
            if (len == 1) cp = c;
            else if (len > 1 && i + len <= n) {
                cp = c & (0x7F >> len);
                for (int k = 1; k < len; k++) {
                    int d = bytes.get(i + k);
                    if ((d & 0xC0) != 0x80) { cp = -1; break; }
                    cp = (cp << 6) | (d & 0x3F);
                }
                int min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
                if (cp >= 0 && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) cp = -1;
            }
            if (cp < 0) { text.append('\uFFFD'); i++; }
            else { text.appendCodePoint(cp); i += len; }
        }
        bytes.clear();
    }

    /** A minimal protobuf wire-format reader over {@code buf[pos, end)}. */
    private static final class Pb {
        final byte[] buf;
        int pos;
        final int end;

        Pb(byte[] buf, int pos, int end) { this.buf = buf; this.pos = pos; this.end = end; }

        boolean more() { return pos < end; }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) throw new IllegalStateException("truncated varint at byte " + pos);
                byte b = buf[pos++];
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) return v;
            }
            throw new IllegalStateException("varint too long at byte " + pos);
        }

        int tag() { return (int) varint(); }

        byte[] bytes() {
            long len = varint();
            if (len < 0 || len > end - pos) throw new IllegalStateException("length " + len + " past the end at byte " + pos);
            byte[] b = java.util.Arrays.copyOfRange(buf, pos, pos + (int) len);
            pos += (int) len;
            return b;
        }

        String string() { return new String(bytes(), StandardCharsets.UTF_8); }

        Pb sub() {
            long len = varint();
            if (len < 0 || len > end - pos) throw new IllegalStateException("length " + len + " past the end at byte " + pos);
            Pb p = new Pb(buf, pos, pos + (int) len);
            pos += (int) len;
            return p;
        }

        float float32() {
            if (end - pos < 4) throw new IllegalStateException("truncated float at byte " + pos);
            int bits = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
            pos += 4;
            return Float.intBitsToFloat(bits);
        }

        void skip(int tag) {
            switch (tag & 7) {
                case 0 -> varint();
                case 1 -> { if (end - pos < 8) throw new IllegalStateException("truncated fixed64"); pos += 8; }
                case 2 -> bytes();
                case 5 -> { if (end - pos < 4) throw new IllegalStateException("truncated fixed32"); pos += 4; }
                default -> throw new IllegalStateException("unsupported wire type " + (tag & 7) + " at byte " + pos);
            }
        }
    }
}
