package dev.navil4j.tokenizer;

import java.util.Arrays;

/**
 * A templated prompt that remembers which characters came from messages: {@link #control} text is the template's
 * (role markers, separators, image-token expansions, and the model's own earlier answers: special tokens in it are
 * matched), {@link #content} text is a user's or system message, in which the template's structural tokens
 * ({@code <|im_start|>}, {@code <|im_end|>}, {@code <IMG_CONTEXT>}, …: the set the family gives) are encoded as plain
 * text (see {@link Tokenizer#encode(PromptText, boolean)}), so a message cannot forge a role turn or an image-context
 * token. Other added tokens a user writes on purpose (InternVL's grounding {@code <ref>}/{@code <box>}) are matched as
 * the reference matches them. Built with {@code allowSpecialInContent}, content is treated as control text: the tokenization
 * of transformers' {@code apply_chat_template}, which renders the whole string and then matches special tokens in
 * all of it.
 * <p>The text is the same string the plain template gives, so ids are identical whenever no message contains
 * special-token text.
 */
public final class PromptText {
    private final StringBuilder text = new StringBuilder();
    private int[] ranges = new int[8];   // [start, end) pairs of content, ascending, non-adjacent
    private int n;                        // ints used in ranges
    private final boolean allowSpecialInContent;
    private final java.util.Set<String> structural;   // null: every added token

    /** Every added token is kept out of content (unless allowed). */
    public PromptText(boolean allowSpecialInContent) { this(allowSpecialInContent, null); }

    /** @param structuralTokens the added tokens never matched inside content; null = every added token */
    public PromptText(boolean allowSpecialInContent, java.util.Set<String> structuralTokens) {
        this.allowSpecialInContent = allowSpecialInContent;
        this.structural = structuralTokens == null ? null : java.util.Set.copyOf(structuralTokens);
    }

    /** The added tokens kept out of content, or null for all of them. */
    public java.util.Set<String> structuralTokens() { return structural; }

    /** Whole text as template text (special tokens matched everywhere): a prompt given as one string. */
    public static PromptText ofControl(String s) { return new PromptText(true).control(s); }

    public PromptText control(String s) {
        text.append(s);
        return this;
    }

    public PromptText content(String s) {
        if (s == null || s.isEmpty()) return this;
        if (allowSpecialInContent) return control(s);
        int start = text.length();
        text.append(s);
        if (n > 0 && ranges[n - 1] == start) ranges[n - 1] = text.length();   // merge with the content just before
        else addRange(start, text.length());
        return this;
    }

    private void addRange(int a, int b) {
        if (n + 2 > ranges.length) ranges = Arrays.copyOf(ranges, ranges.length * 2);
        ranges[n++] = a;
        ranges[n++] = b;
    }

    public String text() { return text.toString(); }

    public boolean allowsSpecialInContent() { return allowSpecialInContent; }

    /** Content ranges as [start, end) pairs over {@link #text()}. */
    public int[] contentRanges() { return Arrays.copyOf(ranges, n); }

    /**
     * Replaces the first {@code placeholder} (wherever it is, as {@code str.replace(placeholder, x, 1)} does) with
     * control text; content around it stays content. Returns false when there is none.
     */
    public boolean replaceFirst(String placeholder, String replacement) {
        int at = text.indexOf(placeholder);
        if (at < 0) return false;
        int end = at + placeholder.length(), delta = replacement.length() - placeholder.length();
        text.replace(at, end, replacement);
        int[] out = new int[n + 2];
        int m = 0;
        for (int i = 0; i < n; i += 2) {
            int a = ranges[i], b = ranges[i + 1];
            if (b <= at) { out[m++] = a; out[m++] = b; continue; }
            if (a >= end) { out[m++] = a + delta; out[m++] = b + delta; continue; }
            // the range overlaps the placeholder: keep its parts before and after
            if (a < at) { out[m++] = a; out[m++] = at; }
            if (b > end) { out[m++] = end + delta; out[m++] = b + delta; }
        }
        ranges = out;
        n = m;
        return true;
    }

    /** The characters [from, to) with their content ranges (for prompts tokenized piecewise, as VoRA's are). */
    public PromptText slice(int from, int to) {
        PromptText p = new PromptText(allowSpecialInContent, structural);
        p.text.append(text, from, to);
        for (int i = 0; i < n; i += 2) {
            int a = Math.max(ranges[i], from), b = Math.min(ranges[i + 1], to);
            if (a < b) p.addRange(a - from, b - from);
        }
        return p;
    }

    public int indexOf(String s, int from) { return text.indexOf(s, from); }

    public int length() { return text.length(); }

    @Override
    public String toString() { return text.toString(); }
}
