package dev.navil4j.tokenizer;

/**
 * GPT-2's byte ↔ printable-character table used by byte-level BPE vocabularies (HF tokenizers
 * {@code bytes_char()}): printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100….
 */
final class ByteLevel {
    /** byte value → the char that stands for it in vocab strings. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** char → byte value, or -1; indexed by char below 0x200. */
    static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The bytes a vocab string stands for, or null if it contains a char outside the table. */
    static byte[] toBytes(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) return null;
            out[i] = (byte) b;
        }
        return out;
    }
}
