package dev.navil4j.toy;

import dev.navil4j.tokenizer.IncrementalDecoder;
import dev.navil4j.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A byte-level test tokenizer: ids 0–255 are the UTF-8 bytes, then three special tokens. Its incremental
 * decoder holds back an incomplete UTF-8 sequence, so streamed text never splits a character.
 */
public final class ToyTokenizer implements Tokenizer {
    public static final int IM_END = 256, IMAGE = 257, IM_START = 258, SIZE = 259;
    private static final String[] SPECIAL = {"<|im_end|>", "<image>", "<|im_start|>"};

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        int[] out = new int[text.length() * 4 + 1];
        int n = 0;
        for (int i = 0; i < text.length(); ) {
            int special = -1;
            for (int s = 0; s < SPECIAL.length; s++) if (text.startsWith(SPECIAL[s], i)) special = s;
            if (special >= 0) {
                out[n++] = 256 + special;
                i += SPECIAL[special].length();
                continue;
            }
            int cp = text.codePointAt(i);
            for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) out[n++] = b & 0xFF;
            i += Character.charCount(cp);
        }
        return Arrays.copyOf(out, n);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 256) { bytes.write(id); continue; }
            sb.append(bytes.toString(StandardCharsets.UTF_8));
            bytes.reset();
            if (!skipSpecialTokens) sb.append(SPECIAL[id - 256]);
        }
        return sb.append(bytes.toString(StandardCharsets.UTF_8)).toString();
    }

    @Override
    public int tokenId(String token) {
        for (int s = 0; s < SPECIAL.length; s++) if (SPECIAL[s].equals(token)) return 256 + s;
        return -1;
    }

    @Override
    public String token(int id) { return id < 0 || id >= SIZE ? null : id < 256 ? String.valueOf((char) id) : SPECIAL[id - 256]; }

    @Override
    public int size() { return SIZE; }

    @Override
    public boolean isSpecial(int id) { return id >= 256; }

    @Override
    public IncrementalDecoder incrementalDecoder(boolean skipSpecialTokens) {
        return new IncrementalDecoder() {
            private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

            @Override
            public String push(int id) {
                if (id >= 256) {
                    String s = finish();
                    return skipSpecialTokens ? s : s + SPECIAL[id - 256];
                }
                pending.write(id);
                byte[] b = pending.toByteArray();
                int cut = completePrefix(b);
                pending.reset();
                pending.write(b, cut, b.length - cut);
                return new String(b, 0, cut, StandardCharsets.UTF_8);
            }

            @Override
            public String finish() {
                String s = pending.toString(StandardCharsets.UTF_8);
                pending.reset();
                return s;
            }
        };
    }

    /** Length of the prefix that ends before a trailing, still-valid, incomplete multi-byte sequence. */
    static int completePrefix(byte[] b) {
        for (int i = b.length - 1; i >= Math.max(0, b.length - 4); i--) {
            int v = b[i] & 0xFF;
            if ((v & 0xC0) == 0x80) continue; // continuation byte: look further back for its lead
            int need = v >= 0xF0 ? 4 : v >= 0xE0 ? 3 : v >= 0xC0 ? 2 : 1;
            boolean validLead = v >= 0xC2 && v <= 0xF4;
            return validLead && b.length - i < need ? i : b.length;
        }
        return b.length;
    }
}
