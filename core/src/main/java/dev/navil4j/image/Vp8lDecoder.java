package dev.navil4j.image;

/**
 * Lossless WebP (VP8L, RFC 9649) decoded to ARGB as libwebp does it for Pillow. Hand-written, following
 * libwebp's src/dec/vp8l_dec.c (header, transforms, Huffman codes, meta codes, colour cache, LZ77
 * copies), src/utils/huffman_utils.c (which code-length sets are valid) and src/dsp/lossless.c (inverse
 * transforms): the TwelveMonkeys VP8L reader fails on some valid files (several transforms, a one-colour
 * image without palette) and reads colour indices beyond the palette differently (libwebp: transparent
 * black). The distance map is in vp8-tables.txt (code_to_plane).
 */
final class Vp8lDecoder {
    private Vp8lDecoder() {}

    private static final int[] CODE_LENGTH_ORDER = {17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    private static final int[] ALPHABET = {256 + 24, 256, 256, 256, 40};
    private static final int[] CODE_TO_PLANE = Vp8Decoder.table("code_to_plane");

    private static ImageException bad(String source, String why) {
        return new ImageException(source + ": cannot decode lossless WebP (corrupt or truncated): " + why);
    }

    /** LSB-first bit reader; reading past the end is an error (libwebp's eos ends the decode with an error). */
    private static final class Bits {
        final byte[] b;
        final int end;
        final String source;
        long pos;   // bit position from the chunk start
        final int start;

        Bits(byte[] b, int off, int len, String source) {
            this.b = b;
            this.start = off;
            this.end = off + len;
            this.source = source;
        }

        int read(int n) {
            int v = 0;
            for (int i = 0; i < n; i++) {
                long byteAt = start + (pos >> 3);
                if (byteAt >= end) throw bad(source, "premature end of data");
                v |= ((b[(int) byteAt] >> (pos & 7)) & 1) << i;
                pos++;
            }
            return v;
        }
    }

    /** A canonical prefix code; a code with one used symbol reads no bits. */
    private static final class Huffman {
        final int[] counts = new int[16];
        final int[] symbols;
        int single = -1;

        Huffman(int[] lengths, int n, String source) {
            int used = 0;
            for (int s = 0; s < n; s++) {
                if (lengths[s] > 15) throw bad(source, "code length over 15");
                counts[lengths[s]]++;
                if (lengths[s] > 0) used++;
            }
            if (used == 0) throw bad(source, "empty Huffman code");
            symbols = new int[used];
            int[] offs = new int[16];
            for (int l = 1; l < 15; l++) offs[l + 1] = offs[l] + counts[l];
            for (int s = 0; s < n; s++) if (lengths[s] > 0) symbols[offs[lengths[s]]++] = s;
            if (used == 1) {
                single = symbols[0];
                return;
            }
            int open = 1;   // huffman_utils.c BuildHuffmanTable: the code must be complete
            for (int l = 1; l <= 15; l++) {
                open = open * 2 - counts[l];
                if (open < 0) throw bad(source, "over-subscribed Huffman code");
            }
            if (open != 0) throw bad(source, "incomplete Huffman code");
        }

        int read(Bits br) {
            if (single >= 0) return single;
            int code = 0, first = 0, index = 0;
            for (int len = 1; len <= 15; len++) {
                code |= br.read(1);
                int count = counts[len];
                if (code - first < count) return symbols[index + code - first];
                index += count;
                first += count;
                first <<= 1;
                code <<= 1;
            }
            throw bad(br.source, "bad Huffman code");
        }
    }

    /** Width and height from a VP8L header, or null if the signature is wrong. */
    static int[] size(byte[] d, int off, int len) {
        if (len < 5 || (d[off] & 0xFF) != 0x2f) return null;
        int bits = (d[off + 1] & 0xFF) | (d[off + 2] & 0xFF) << 8 | (d[off + 3] & 0xFF) << 16 | (d[off + 4] & 0xFF) << 24;
        return new int[]{(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1};
    }

    private record Transform(int type, int bits, int xsize, int[] data) {}

    /** ARGB pixels of the VP8L chunk payload {@code d[off, off+len)}, row-major, {@code w*h} entries. */
    static int[] decode(byte[] d, int off, int len, String source) {
        int[] wh = size(d, off, len);
        if (wh == null) throw bad(source, "bad signature");
        Bits br = new Bits(d, off, len, source);
        br.read(8);
        int w = br.read(14) + 1, h = br.read(14) + 1;
        br.read(1);   // alpha_is_used: a hint only
        if (br.read(3) != 0) throw bad(source, "unknown version");
        java.util.List<Transform> transforms = new java.util.ArrayList<>();
        int xsize = w;
        int seen = 0;
        while (br.read(1) == 1) {
            int type = br.read(2);
            if ((seen & (1 << type)) != 0) throw bad(source, "transform used twice");
            seen |= 1 << type;
            switch (type) {
                case 0, 1 -> {
                    int bits = br.read(3) + 2;
                    int[] data = decodeImage(br, sub(xsize, bits), sub(h, bits), false);
                    transforms.add(new Transform(type, bits, xsize, data));
                }
                case 2 -> transforms.add(new Transform(2, 0, xsize, null));
                default -> {
                    int n = br.read(8) + 1;
                    int bits = n > 16 ? 0 : n > 4 ? 1 : n > 2 ? 2 : 3;
                    int[] pal = decodeImage(br, n, 1, false);
                    // palette entries are coded as differences to the previous one (per channel)
                    for (int i = 1; i < n; i++) pal[i] = addPixels(pal[i], pal[i - 1]);
                    int[] full = new int[1 << (8 >> bits)];   // zero-padded: indices past the palette are 0x00000000
                    System.arraycopy(pal, 0, full, 0, Math.min(n, full.length));
                    transforms.add(new Transform(3, bits, xsize, full));
                    xsize = sub(xsize, bits);
                }
            }
        }
        int[] px = decodeImage(br, xsize, h, true);
        for (int t = transforms.size() - 1; t >= 0; t--) px = inverse(transforms.get(t), px, h);
        if (px.length != w * h) throw bad(source, "transform sizes inconsistent");
        return px;
    }

    private static int sub(int size, int bits) { return (size + (1 << bits) - 1) >> bits; }

    private static Huffman[] readGroup(Bits br, int cacheSize) {
        Huffman[] g = new Huffman[5];
        for (int j = 0; j < 5; j++) g[j] = readCode(br, ALPHABET[j] + (j == 0 ? cacheSize : 0));
        return g;
    }

    private static Huffman readCode(Bits br, int alphabet) {
        int[] lengths = new int[alphabet];
        if (br.read(1) == 1) {   // simple code: one or two symbols of length 1
            int num = br.read(1) + 1;
            // a symbol past the alphabet is dropped, as libwebp builds the table over the alphabet only
            int s0 = br.read(br.read(1) == 0 ? 1 : 8);
            if (s0 < alphabet) lengths[s0] = 1;
            if (num == 2) {
                int s1 = br.read(8);
                if (s1 < alphabet) lengths[s1] = 1;
            }
        } else {
            int[] cl = new int[19];
            int numCodes = br.read(4) + 4;
            for (int i = 0; i < numCodes; i++) cl[CODE_LENGTH_ORDER[i]] = br.read(3);
            Huffman lenCode = new Huffman(cl, 19, br.source);
            int maxSymbol;
            if (br.read(1) == 1) {
                int nbits = 2 + 2 * br.read(3);
                maxSymbol = 2 + br.read(nbits);
                if (maxSymbol > alphabet) throw bad(br.source, "bad max symbol");
            } else {
                maxSymbol = alphabet;
            }
            int prev = 8, sym = 0;
            while (sym < alphabet) {
                if (maxSymbol-- == 0) break;
                int c = lenCode.read(br);
                if (c < 16) {
                    lengths[sym++] = c;
                    if (c != 0) prev = c;
                } else {
                    int extra = c == 16 ? 2 : c == 17 ? 3 : 7, offset = c == 18 ? 11 : 3;
                    int repeat = br.read(extra) + offset;
                    if (sym + repeat > alphabet) throw bad(br.source, "code lengths overflow");
                    int v = c == 16 ? prev : 0;
                    while (repeat-- > 0) lengths[sym++] = v;
                }
            }
        }
        return new Huffman(lengths, alphabet, br.source);
    }

    /** An entropy-coded image; the main image ({@code level0}) may use meta prefix codes. */
    private static int[] decodeImage(Bits br, int xs, int ys, boolean level0) {
        int cacheBits = 0;
        if (br.read(1) == 1) {
            cacheBits = br.read(4);
            if (cacheBits < 1 || cacheBits > 11) throw bad(br.source, "bad colour cache size");
        }
        int metaBits = 0, metaXs = 0;
        int[] meta = null;
        int groups = 1;
        if (level0 && br.read(1) == 1) {
            metaBits = br.read(3) + 2;
            metaXs = sub(xs, metaBits);
            meta = decodeImage(br, metaXs, sub(ys, metaBits), false);
            for (int i = 0; i < meta.length; i++) {
                meta[i] = (meta[i] >> 8) & 0xffff;
                groups = Math.max(groups, meta[i] + 1);
            }
        }
        int cacheSize = cacheBits > 0 ? 1 << cacheBits : 0;
        Huffman[][] hg = new Huffman[groups][];
        for (int i = 0; i < groups; i++) hg[i] = readGroup(br, cacheSize);
        int[] cache = cacheSize > 0 ? new int[cacheSize] : null;
        long total = (long) xs * ys;
        if (total > Integer.MAX_VALUE) throw bad(br.source, "image too large");
        int[] px = new int[(int) total];
        int pos = 0, cached = 0;
        while (pos < total) {
            int x = pos % xs, y = pos / xs;
            Huffman[] g = hg[meta == null ? 0 : meta[(y >> metaBits) * metaXs + (x >> metaBits)]];
            int green = g[0].read(br);
            if (green < 256) {
                int red = g[1].read(br), blue = g[2].read(br), alpha = g[3].read(br);
                px[pos++] = alpha << 24 | red << 16 | green << 8 | blue;
            } else if (green < 256 + 24) {
                int length = prefixValue(br, green - 256);
                int distSym = g[4].read(br);
                int dist = planeToDistance(xs, prefixValue(br, distSym));
                if (dist > pos || pos + (long) length > total) throw bad(br.source, "bad backward reference");
                for (int i = 0; i < length; i++, pos++) px[pos] = px[pos - dist];
            } else {
                int idx = green - 280;
                if (cache == null || idx >= cacheSize) throw bad(br.source, "bad colour cache index");
                while (cached < pos) insert(cache, cacheBits, px[cached++]);
                px[pos++] = cache[idx];
            }
            if (cache != null) while (cached < pos) insert(cache, cacheBits, px[cached++]);
        }
        return px;
    }

    private static void insert(int[] cache, int bits, int argb) { cache[(0x1e35a7bd * argb) >>> (32 - bits)] = argb; }

    private static int prefixValue(Bits br, int code) {
        if (code < 4) return code + 1;
        int extra = (code - 2) >> 1;
        int offset = (2 + (code & 1)) << extra;
        return offset + br.read(extra) + 1;
    }

    private static int planeToDistance(int xs, int planeCode) {
        if (planeCode > 120) return planeCode - 120;
        int c = CODE_TO_PLANE[planeCode - 1];
        int yo = c >> 4, xo = 8 - (c & 0xf);
        int dist = yo * xs + xo;
        return dist >= 1 ? dist : 1;
    }

    // ---------------------------------------------------------------- inverse transforms (dsp/lossless.c)

    private static int addPixels(int a, int b) {
        int ag = (a & 0xff00ff00) + (b & 0xff00ff00);
        int rb = (a & 0x00ff00ff) + (b & 0x00ff00ff);
        return (ag & 0xff00ff00) | (rb & 0x00ff00ff);
    }

    private static int average2(int a, int b) { return (((a ^ b) & 0xfefefefe) >>> 1) + (a & b); }

    private static int sub3(int a, int b, int c) { return Math.abs(b - c) - Math.abs(a - c); }

    private static int select(int a, int b, int c) {
        int s = sub3(a >>> 24, b >>> 24, c >>> 24) + sub3((a >> 16) & 0xff, (b >> 16) & 0xff, (c >> 16) & 0xff)
                + sub3((a >> 8) & 0xff, (b >> 8) & 0xff, (c >> 8) & 0xff) + sub3(a & 0xff, b & 0xff, c & 0xff);
        return s <= 0 ? a : b;
    }

    private static int clip255(int v) { return v < 0 ? 0 : Math.min(v, 255); }

    private static int clampAddSubtractFull(int a, int b, int c) {
        int r = 0;
        for (int sh = 0; sh < 32; sh += 8)
            r |= clip255(((a >>> sh) & 0xff) + ((b >>> sh) & 0xff) - ((c >>> sh) & 0xff)) << sh;
        return r;
    }

    private static int clampAddSubtractHalf(int a, int b) {
        int r = 0;
        for (int sh = 0; sh < 32; sh += 8) {
            int ca = (a >>> sh) & 0xff, cb = (b >>> sh) & 0xff;
            r |= clip255(ca + (ca - cb) / 2) << sh;
        }
        return r;
    }

    private static int predict(int mode, int[] o, int i, int w) {
        int L = o[i - 1], T = o[i - w], TR = o[i - w + 1], TL = o[i - w - 1];
        return switch (mode) {
            case 1 -> L;
            case 2 -> T;
            case 3 -> TR;
            case 4 -> TL;
            case 5 -> average2(average2(L, TR), T);
            case 6 -> average2(L, TL);
            case 7 -> average2(L, T);
            case 8 -> average2(TL, T);
            case 9 -> average2(T, TR);
            case 10 -> average2(average2(L, TL), average2(T, TR));
            case 11 -> select(T, L, TL);
            case 12 -> clampAddSubtractFull(L, T, TL);
            case 13 -> clampAddSubtractHalf(average2(L, T), TL);
            default -> 0xff000000;   // 0, and 14 / 15 (libwebp's padding entries)
        };
    }

    private static int delta(int t, int c) { return ((byte) t * (byte) c) >> 5; }

    private static int[] inverse(Transform t, int[] in, int h) {
        int w = t.xsize();
        switch (t.type()) {
            case 0 -> {
                int[] o = new int[w * h];
                int tiles = sub(w, t.bits());
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int i = y * w + x;
                        int pred;
                        if (y == 0) pred = x == 0 ? 0xff000000 : o[i - 1];
                        else if (x == 0) pred = o[i - w];
                        else pred = predict((t.data()[(y >> t.bits()) * tiles + (x >> t.bits())] >> 8) & 0xf, o, i, w);
                        o[i] = addPixels(in[i], pred);
                    }
                return o;
            }
            case 1 -> {
                int[] o = new int[w * h];
                int tiles = sub(w, t.bits());
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int code = t.data()[(y >> t.bits()) * tiles + (x >> t.bits())];
                        int g2r = code & 0xff, g2b = (code >> 8) & 0xff, r2b = (code >> 16) & 0xff;
                        int argb = in[y * w + x];
                        int green = (argb >> 8) & 0xff;
                        int red = ((argb >> 16) + delta(g2r, green)) & 0xff;
                        int blue = ((argb & 0xff) + delta(g2b, green) + delta(r2b, red)) & 0xff;
                        o[y * w + x] = (argb & 0xff00ff00) | red << 16 | blue;
                    }
                return o;
            }
            case 2 -> {
                int[] o = new int[in.length];
                for (int i = 0; i < in.length; i++) {
                    int argb = in[i], g = (argb >> 8) & 0xff;
                    int rb = ((argb & 0x00ff00ff) + (g << 16 | g)) & 0x00ff00ff;
                    o[i] = (argb & 0xff00ff00) | rb;
                }
                return o;
            }
            default -> {
                int bits = t.bits();
                int ppb = 1 << bits, bpp = 8 >> bits, mask = (1 << bpp) - 1;
                int packedW = sub(w, bits);
                int[] o = new int[w * h];
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int packed = (in[y * packedW + (x >> bits)] >> 8) & 0xff;
                        int idx = (packed >> ((x & (ppb - 1)) * bpp)) & mask;
                        o[y * w + x] = t.data()[idx];
                    }
                return o;
            }
        }
    }
}
