package dev.navil4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pre-tokenizers of tokenizer.json that byte-level BPE checkpoints use: {@code Split} (regex or
 * string, all five behaviours, invert), {@code ByteLevel} (prefix space, optional GPT-2 regex) and
 * {@code Sequence}. Each maps one piece of normalized text to the pieces BPE runs on.
 */
interface PreTokenizer {
    void split(String piece, List<String> out);

    /** Onig's {@code \s} (Unicode White_Space) spelled out for java.util.regex, whose {@code \s} is ASCII-only. */
    String WS = "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\xA0\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

    /** GPT-2's pattern, used by ByteLevel when use_regex is true. */
    String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /**
     * Translates an Oniguruma pattern (what tokenizers compiles) to java.util.regex: {@code \s}/{@code \S}
     * become explicit White_Space classes (also inside brackets), {@code (?i:} gets Unicode case folding
     * (Onig folds e.g. U+017F ſ to s). {@code \p{L}}, {@code \p{N}}, lookahead and alternation mean the same.
     */
    static Pattern compile(String onig) {
        StringBuilder out = new StringBuilder(onig.length() + 64);
        boolean inClass = false;
        for (int i = 0; i < onig.length(); i++) {
            char c = onig.charAt(i);
            if (c == '\\' && i + 1 < onig.length()) {
                char d = onig.charAt(i + 1);
                if (d == 's') out.append(inClass ? WS : "[" + WS + "]");
                else if (d == 'S') out.append("[^" + WS + "]"); // inside a class: a nested class = union
                else out.append(c).append(d);
                i++;
                continue;
            }
            if (c == '[' && !inClass) inClass = true;
            else if (c == '[') throw new TokenizerException("unsupported nested character class in pre-tokenizer regex: " + onig);
            else if (c == ']' && inClass) inClass = false;
            else if (!inClass && onig.startsWith("(?i:", i)) { out.append("(?iu:"); i += 3; continue; }
            out.append(c);
        }
        try {
            return Pattern.compile(out.toString());
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new TokenizerException("pre-tokenizer regex not translatable to Java: " + onig + " (" + e.getDescription() + ")", e);
        }
    }

    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public void split(String piece, List<String> out) {
            List<String> cur = new ArrayList<>(List.of(piece));
            for (PreTokenizer p : steps) {
                List<String> next = new ArrayList<>();
                for (String s : cur) p.split(s, next);
                cur = next;
            }
            out.addAll(cur);
        }
    }

    enum Behavior { ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    /** HF {@code Split}: the pattern's matches are delimiters handled per behaviour (invert swaps the roles). */
    record Split(Pattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public void split(String s, List<String> out) {
            // (start, end, isDelimiter) spans covering s
            List<int[]> spans = new ArrayList<>();
            Matcher m = pattern.matcher(s);
            int last = 0;
            while (m.find()) {
                if (m.end() == m.start()) continue; // tokenizers ignores empty matches
                if (m.start() > last) spans.add(new int[]{last, m.start(), invert ? 1 : 0});
                spans.add(new int[]{m.start(), m.end(), invert ? 0 : 1});
                last = m.end();
            }
            if (last < s.length()) spans.add(new int[]{last, s.length(), invert ? 1 : 0});
            switch (behavior) {
                case ISOLATED -> { for (int[] sp : spans) out.add(s.substring(sp[0], sp[1])); }
                case REMOVED -> { for (int[] sp : spans) if (sp[2] == 0) out.add(s.substring(sp[0], sp[1])); }
                case MERGED_WITH_PREVIOUS -> {
                    int start = -1, end = -1;
                    for (int[] sp : spans) {
                        if (sp[2] == 1 && start >= 0) { end = sp[1]; continue; }
                        if (start >= 0) out.add(s.substring(start, end));
                        start = sp[0]; end = sp[1];
                    }
                    if (start >= 0) out.add(s.substring(start, end));
                }
                case MERGED_WITH_NEXT -> {
                    int start = -1;
                    for (int[] sp : spans) {
                        if (start < 0) start = sp[0];
                        if (sp[2] == 1) continue; // the delimiter waits for what follows
                        out.add(s.substring(start, sp[1]));
                        start = -1;
                    }
                    if (start >= 0) out.add(s.substring(start));
                }
                case CONTIGUOUS -> {
                    int start = -1, end = -1;
                    boolean prevDelim = false;
                    for (int[] sp : spans) {
                        if (sp[2] == 1 && prevDelim) { end = sp[1]; continue; }
                        if (start >= 0) out.add(s.substring(start, end));
                        start = sp[0]; end = sp[1]; prevDelim = sp[2] == 1;
                    }
                    if (start >= 0) out.add(s.substring(start, end));
                }
            }
        }
    }

    /** HF {@code ByteLevel} pre-tokenizer; the byte mapping itself happens in the BPE model (it works on bytes). */
    record ByteLevelSplit(boolean addPrefixSpace, Pattern regex) implements PreTokenizer {
        @Override
        public void split(String s, List<String> out) {
            if (addPrefixSpace && !s.startsWith(" ")) s = " " + s;
            if (regex == null) { out.add(s); return; }
            new Split(regex, Behavior.ISOLATED, false).split(s, out);
        }
    }
}
