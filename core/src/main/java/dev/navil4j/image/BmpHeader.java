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

    /**
     * An RLE8 / RLE4 bitmap (compression 1 / 2) decoded as Pillow 12.3's BmpRleDecoder (BmpImagePlugin.py)
     * does, or null for other files. Pillow's decoder is followed rule for rule, also where it differs from
     * the format's usual reading: an RLE4 absolute run of odd length loses its last pixel and leaves the
     * stream one byte behind (so Pillow's g_pal4rle.bmp of bmpsuite is not its g_pal4.bmp); runs are
     * clipped to the row, a delta moves by right + up·width in the output, absolute runs are padded to an
     * even file offset, the picture ends at an end-of-bitmap code or when enough pixels are there; fewer
     * pixels than the picture needs is an error ("not enough image data").
     */
    static java.awt.image.BufferedImage decodeRle(byte[] f, String source) {
        if (!isBmp(f) || f.length < 54) return null;
        long headerSize = u32(f, 14);
        if (headerSize == 12 || f.length < 14 + headerSize) return null;
        long compression = u32(f, 30);
        if (compression != 1 && compression != 2) return null;
        boolean rle4 = compression == 2;
        int width = (int) u32(f, 18);
        boolean yFlip = (f[25] & 0xFF) == 0xFF;   // header_data[7] == 0xFF: top-down
        long h = u32(f, 22);
        int height = (int) (yFlip ? (1L << 32) - h : h);
        int bits = u16(f, 28);
        long colors = u32(f, 46);
        if (colors == 0) colors = 1L << bits;
        long offset = u32(f, 10);
        if (offset == 14 + headerSize && bits <= 8) offset += 4 * colors;
        // palette: BGRX entries after the header, as many as the file holds
        int palStart = (int) (14 + headerSize);
        int n = (int) Math.min(colors, Math.max(0, (f.length - palStart) / 4));
        byte[] r = new byte[n], g = new byte[n], b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = f[palStart + 4 * i];
            g[i] = f[palStart + 4 * i + 1];
            r[i] = f[palStart + 4 * i + 2];
        }
        long dest = (long) width * height;
        if (width <= 0 || height <= 0 || dest > Integer.MAX_VALUE - 256)
            throw new ImageException(source + ": BMP size " + width + "x" + height + " is not decodable");
        byte[] data = new byte[(int) dest + 256];
        int len = 0, x = 0;
        long pos = offset;
        while (len < dest) {
            if (pos + 2 > f.length) break;   // fd.read(1) came back empty
            int count = f[(int) pos] & 0xFF, byt = f[(int) pos + 1] & 0xFF;
            pos += 2;
            if (count != 0) {   // encoded run
                if (x + count > width) count = Math.max(0, width - x);
                for (int i = 0; i < count && len < data.length; i++)
                    data[len++] = (byte) (rle4 ? ((i & 1) == 0 ? byt >> 4 : byt & 0x0F) : byt);
                x += count;
            } else if (byt == 0) {   // end of line: pad to a whole row
                while (len % width != 0) data[len++] = 0;
                x = 0;
            } else if (byt == 1) {   // end of bitmap
                break;
            } else if (byt == 2) {   // delta
                if (pos + 2 > f.length) break;
                int right = f[(int) pos] & 0xFF, up = f[(int) pos + 1] & 0xFF;
                pos += 2;
                long skip = right + (long) up * width;
                if (len + skip > dest) { len = (int) dest; break; }
                len += (int) skip;
                x = len % width;
            } else {   // absolute run: Pillow 12.3 reads byt / 2 bytes for RLE4 (two pixels each; an odd
                       // count loses its last pixel and the stream stays one byte behind), byt bytes for RLE8
                int byteCount = rle4 ? byt / 2 : byt;
                int avail = (int) Math.max(0, Math.min(byteCount, f.length - pos));
                for (int i = 0; i < avail; i++) {
                    int v = f[(int) pos + i] & 0xFF;
                    if (rle4) {
                        data[len++] = (byte) (v >> 4);
                        data[len++] = (byte) (v & 0x0F);
                    } else {
                        data[len++] = (byte) v;
                    }
                }
                pos += avail;
                if (avail < byteCount) break;
                x += byt;
                if (pos % 2 != 0) pos++;   // word alignment by the file offset, as Pillow seeks
            }
        }
        if (len < dest)
            throw new ImageException(source + ": RLE BMP has " + len + " of " + dest + " pixels (not enough image data; Pillow refuses it too)");
        java.awt.image.IndexColorModel cm = new java.awt.image.IndexColorModel(8, n, r, g, b);
        java.awt.image.WritableRaster ras = cm.createCompatibleWritableRaster(width, height);
        byte[] px = ((java.awt.image.DataBufferByte) ras.getDataBuffer()).getData();
        for (int row = 0; row < height; row++) {
            int dst = yFlip ? row : height - 1 - row;   // bottom-up unless the height is negative
            System.arraycopy(data, row * width, px, dst * width, width);
        }
        return new java.awt.image.BufferedImage(cm, ras, false, null);
    }

    /**
     * An OS/2 2.x bitmap (64-byte BITMAPCOREHEADER2) rewritten as the equivalent 40-byte-header Windows
     * bitmap, which the JDK reader decodes (it refuses the 64-byte header). Pillow reads the first 40 bytes
     * of that header as a BITMAPINFOHEADER and ignores the rest (BmpImagePlugin.py _bitmap), so dropping
     * bytes 40..63 and moving the pixel offset by 24 gives its reading. Other files are returned unchanged.
     */
    static byte[] os2v2AsWindows(byte[] f) {
        if (!isBmp(f) || f.length < 14 + 64 || u32(f, 14) != 64) return f;
        long off = u32(f, 10);
        if (off < 14 + 64) return f;
        byte[] out = new byte[f.length - 24];
        System.arraycopy(f, 0, out, 0, 54);
        System.arraycopy(f, 78, out, 54, f.length - 78);
        putU32(out, 14, 40);
        putU32(out, 10, off - 24);
        long size = u32(f, 2);
        if (size >= 24) putU32(out, 2, size - 24);
        return out;
    }

    private static void putU32(byte[] b, int p, long v) {
        b[p] = (byte) v; b[p + 1] = (byte) (v >> 8); b[p + 2] = (byte) (v >> 16); b[p + 3] = (byte) (v >> 24);
    }
}
