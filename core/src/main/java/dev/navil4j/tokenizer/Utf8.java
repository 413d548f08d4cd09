package dev.navil4j.tokenizer;

/**
 * UTF-8 decoding with Python's {@code bytes.decode('utf-8', 'replace')} semantics: every maximal
 * subpart of an ill-formed sequence becomes one U+FFFD (Unicode §3.9, Table 3-7; the same rule as
 * Rust's {@code String::from_utf8_lossy}, which the HF tokenizers' ByteLevel decoder uses).
 */
public final class Utf8 {
    private Utf8() {}

    /** Decodes {@code b[from, to)} lossily. */
    public static String decodeLossy(byte[] b, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        appendLossy(sb, b, from, to, false);
        return sb.toString();
    }

    public static String decodeLossy(byte[] b) { return decodeLossy(b, 0, b.length); }

    /**
     * Appends the decoding of {@code b[from, to)} to {@code sb}. When {@code holdIncompleteTail}, a final
     * sequence that is a valid but unfinished prefix is not decoded; the return value is the index
     * where decoding stopped (= {@code to} unless a tail was held back).
     */
    public static int appendLossy(StringBuilder sb, byte[] b, int from, int to, boolean holdIncompleteTail) {
        int i = from;
        while (i < to) {
            int c = b[i] & 0xFF;
            if (c < 0x80) { sb.append((char) c); i++; continue; }
            int need, lo = 0x80, hi = 0xBF, cp;
            if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1F; }
            else if (c >= 0xE0 && c <= 0xEF) {
                need = 2; cp = c & 0x0F;
                if (c == 0xE0) lo = 0xA0; else if (c == 0xED) hi = 0x9F;
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3; cp = c & 0x07;
                if (c == 0xF0) lo = 0x90; else if (c == 0xF4) hi = 0x8F;
            } else { sb.append('\uFFFD'); i++; continue; } // never a lead byte
            int j = i + 1, got = 0;
            while (got < need && j < to) {
                int d = b[j] & 0xFF;
                // only the second byte has a narrowed range (E0/ED/F0/F4 rules)
                int l = got == 0 ? lo : 0x80, h = got == 0 ? hi : 0xBF;
                if (d < l || d > h) break;
                cp = (cp << 6) | (d & 0x3F);
                j++; got++;
            }
            if (got == need) { sb.appendCodePoint(cp); i = j; continue; }
            if (j == to && holdIncompleteTail) return i; // may still be completed by later bytes
            sb.append('\uFFFD'); // the maximal subpart b[i, j) → one replacement character
            i = j;
        }
        return to;
    }
}
