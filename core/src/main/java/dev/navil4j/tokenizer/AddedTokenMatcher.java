package dev.navil4j.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits text on added tokens the way HF tokenizers' AddedVocabulary does: leftmost-longest matches
 * (aho-corasick LeftmostLongest), a single_word token only between non-word characters, lstrip/rstrip
 * absorbing the neighbouring whitespace. Transformers' slow-tokenizer trie finds the same matches.
 */
final class AddedTokenMatcher {
    /** A piece of the input: an added token id (text null) or a text segment (id -1) starting at {@code start}. */
    record Piece(int id, String text, int start) {
        Piece(int id, String text) { this(id, text, 0); }

        boolean isToken() { return text == null; }
    }

    /** tokens grouped by first char, longest first. */
    private final Map<Character, AddedToken[]> byFirst = new HashMap<>();

    AddedTokenMatcher(List<AddedToken> tokens) {
        Map<Character, List<AddedToken>> m = new HashMap<>();
        for (AddedToken t : tokens) m.computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>()).add(t);
        m.forEach((c, l) -> {
            AddedToken[] a = l.toArray(AddedToken[]::new);
            Arrays.sort(a, Comparator.comparingInt((AddedToken t) -> -t.content().length()));
            byFirst.put(c, a);
        });
    }

    boolean isEmpty() { return byFirst.isEmpty(); }

    List<Piece> split(String s) { return split(s, NO_RANGES, 0, null); }

    static final int[] NO_RANGES = new int[0];

    /**
     * As {@link #split(String)}, but no added token of {@code only} (null: none at all) is matched where it would
     * overlap a literal range ([start, end) pairs over a text of which {@code s} starts at {@code offset}): that text
     * stays in the text pieces, to be encoded like any other text.
     */
    List<Piece> split(String s, int[] literal, int offset, java.util.Set<String> only) {
        List<Piece> out = new ArrayList<>();
        if (byFirst.isEmpty()) { if (!s.isEmpty()) out.add(new Piece(-1, s, 0)); return out; }
        int startOffset = 0, i = 0, n = s.length();
        while (i < n) {
            AddedToken[] cands = byFirst.get(s.charAt(i));
            AddedToken hit = null;
            if (cands != null) {
                for (AddedToken t : cands) {
                    if (s.startsWith(t.content(), i)) { hit = t; break; }
                }
            }
            if (hit != null && literal.length > 0 && (only == null || only.contains(hit.content()))
                    && overlaps(literal, offset + i, offset + i + hit.content().length())) hit = null;
            if (hit == null) { i++; continue; }
            int end = i + hit.content().length();
            // single_word: HF drops the leftmost-longest match unless word boundaries surround it, and the
            // non-overlapping search resumes after it
            if (hit.singleWord() && ((i > 0 && isWordChar(s.codePointBefore(i)))
                    || (end < n && isWordChar(s.codePointAt(end))))) { i = end; continue; }
            int start = i, stop = i + hit.content().length();
            if (hit.lstrip()) {
                int k = start;
                while (k > 0 && isWhitespace(s.codePointBefore(k))) k -= Character.charCount(s.codePointBefore(k));
                start = Math.max(k, startOffset);
            }
            if (hit.rstrip()) {
                while (stop < n && isWhitespace(s.codePointAt(stop))) stop += Character.charCount(s.codePointAt(stop));
            }
            if (startOffset < start) out.add(new Piece(-1, s.substring(startOffset, start), startOffset));
            out.add(new Piece(hit.id(), null));
            startOffset = stop;
            i = stop;
        }
        if (startOffset < n) out.add(new Piece(-1, s.substring(startOffset), startOffset));
        return out;
    }

    private static boolean overlaps(int[] ranges, int a, int b) {
        for (int k = 0; k < ranges.length; k += 2) if (a < ranges[k + 1] && b > ranges[k]) return true;
        return false;
    }

    /** Rust char::is_alphanumeric() || '_' (the AddedVocabulary word test). */
    static boolean isWordChar(int cp) {
        if (cp == '_' || Character.isAlphabetic(cp)) return true;
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Rust char::is_whitespace(): the Unicode White_Space property. */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }
}
