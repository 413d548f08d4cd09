package dev.navil4j.image;

/**
 * Pillow's BmpImagePlugin header rules (BmpImagePlugin.py _bitmap), applied before the JDK's BMP reader
 * decodes: Pillow opens only these header sizes, bit depths, compressions and bit-field layouts and
 * raises for the rest, so navil4j refuses the same files with the same reason instead of decoding them.
 */
final class BmpHeader {
    private BmpHeader() {}

    private static final int[] HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124};
    private static final long[][] MASKS_32 = {   // (r, g, b, a) layouts Pillow reads from 32-bit BI_BITFIELDS
            {0xFF0000L, 0xFF00L, 0xFFL, 0L}, {0xFF000000L, 0xFF0000L, 0xFF00L, 0L}, {0xFF000000L, 0xFF00L, 0xFFL, 0L},
            {0xFF000000L, 0xFF0000L, 0xFF00L, 0xFFL}, {0xFFL, 0xFF00L, 0xFF0000L, 0xFF000000L},
            {0xFF0000L, 0xFF00L, 0xFFL, 0xFF000000L}, {0xFF000000L, 0xFF00L, 0xFFL, 0xFF0000L}, {0L, 0L, 0L, 0L}};
    private static final long[][] MASKS_16 = {{0xF800L, 0x7E0L, 0x1FL}, {0x7C00L, 0x3E0L, 0x1FL}};   // BGR;16, BGR;15

    private static int u16(byte[] f, int p) { return (f[p] & 0xFF) | (f[p + 1] & 0xFF) << 8; }

    private static long u32(byte[] f, int p) {
        return (f[p] & 0xFFL) | (f[p + 1] & 0xFFL) << 8 | (f[p + 2] & 0xFFL) << 16 | (f[p + 3] & 0xFFL) << 24;
    }

    static boolean isBmp(byte[] f) { return f.length >= 2 && f[0] == 'B' && f[1] == 'M'; }

    /** Throws the ImageException Pillow's refusal corresponds to; files too short are left to the decoder. */
    static void checkSupported(byte[] f, String source) {
        if (!isBmp(f) || f.length < 18) return;
        long headerSize = u32(f, 14);
        boolean known = false;
        for (int s : HEADER_SIZES) known |= s == headerSize;
        if (!known) throw refuse(source, "unsupported BMP header type (" + headerSize + ")");
        if (f.length < 14 + headerSize) return;
        int bits;
        long compression = 0, colors = 0;
        if (headerSize == 12) {
            bits = u16(f, 24);
        } else {
            bits = u16(f, 28);
            compression = u32(f, 30);
            colors = u32(f, 46);
        }
        if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32)
            throw refuse(source, "unsupported BMP pixel depth (" + bits + ")");
        if (compression == 3) {
            // Masks follow the 40-byte header or lie inside a longer one: offset 54 either way; the alpha mask
            // is read only from headers of 56 bytes and more.
            if (f.length < 70) return;
            long r = u32(f, 54), g = u32(f, 58), b = u32(f, 62), a = headerSize >= 56 ? u32(f, 66) : 0;
            boolean ok = false;
            if (bits == 32) for (long[] m : MASKS_32) ok |= m[0] == r && m[1] == g && m[2] == b && m[3] == a;
            else if (bits == 16) for (long[] m : MASKS_16) ok |= m[0] == r && m[1] == g && m[2] == b;
            else if (bits == 24) ok = r == 0xFF0000L && g == 0xFF00L && b == 0xFFL;
            if (!ok) throw refuse(source, "unsupported BMP bitfields layout (" + bits + "-bit, masks "
                    + Long.toHexString(r) + "/" + Long.toHexString(g) + "/" + Long.toHexString(b) + "/" + Long.toHexString(a) + ")");
        } else if (compression != 0 && compression != 1 && compression != 2) {
            throw refuse(source, "unsupported BMP compression (" + compression + ")");
        }
        if (bits <= 8) {
            if (colors == 0) colors = 1L << bits;
            if (colors > 65536) throw refuse(source, "unsupported BMP palette size (" + colors + ")");
            // Pillow's ImagePalette holds at most 256 entries: a longer palette fails at load ("invalid palette size").
            if (colors > 256) throw refuse(source, "invalid BMP palette size (" + colors + " colours, at most 256)");
        }
    }

    private static ImageException refuse(String source, String why) {
        return new ImageException(source + ": " + why + "; Pillow refuses this file too");
    }
}
