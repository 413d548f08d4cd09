package dev.navil4j.image;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Lossy WebP (a VP8 key frame, RFC 6386) decoded to RGB bit for bit as libwebp does it for Pillow.
 * Hand-written: the TwelveMonkeys WebP plugin is not libwebp-exact on lossy files (it replicates chroma
 * instead of libwebp's "fancy" upsampling, uses another YUV→RGB and reconstructs some macroblocks
 * differently), and no pure-Java library reproduces libwebp. Follows the structure of libwebp's decoder:
 * src/dec/vp8_dec.c (headers, tokens), tree_dec.c (modes, probabilities), quant_dec.c, frame_dec.c
 * (reconstruction, filter strengths, filter order), src/dsp/dec.c (transforms, predictors, loop filters),
 * src/dsp/upsampling.c + io_dec.c EmitFancyRGB (chroma upsampling) and src/dsp/yuv.h (YUV→RGB).
 * Intra prediction reads unfiltered neighbours (libwebp stashes them before filtering), so the loop filter
 * runs over the whole frame afterwards in macroblock order, which gives libwebp's result.
 * The constant tables of the format are in vp8-tables.txt.
 */
final class Vp8Decoder {
    private Vp8Decoder() {}

    // ---------------------------------------------------------------- constant tables

    private static final int[] COEFF_PROBS, COEFF_UPDATE_PROBS, BMODE_PROBS, DC_Q, AC_Q;
    private static final Map<String, int[]> TABLES;

    /** A named table of vp8-tables.txt (also used by {@link Vp8lDecoder}). */
    static int[] table(String name) {
        int[] t = TABLES.get(name);
        if (t == null) throw new IllegalStateException("vp8-tables.txt has no " + name);
        return t;
    }
    private static final int[] ZIGZAG = {0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15};
    private static final int[] BANDS = {0, 1, 2, 3, 6, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 0};
    private static final int[][] CAT_PROBS = {{173, 148, 140}, {176, 155, 140, 135}, {180, 157, 141, 134, 130},
            {254, 254, 243, 230, 196, 177, 153, 140, 133, 130, 129}};
    // 4x4 sub-block mode tree (RFC 6386 11.2) in libwebp's mode numbering: leaf = -mode.
    private static final int[] BMODE_TREE = {-0, 1, -1, 2, -2, 3, 4, 6, -3, 5, -4, -5, -6, 7, -7, 8, -8, -9};

    static {
        Map<String, int[]> t = new HashMap<>();
        try (InputStream in = Vp8Decoder.class.getResourceAsStream("vp8-tables.txt")) {
            if (in == null) throw new IllegalStateException("vp8-tables.txt missing from the classpath");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            String line, name = null;
            int[] cur = null;
            int n = 0;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#") || line.isBlank()) continue;
                String[] f = line.trim().split("\\s+");
                if (!Character.isDigit(f[0].charAt(0))) {
                    name = f[0];
                    cur = new int[Integer.parseInt(f[1])];
                    n = 0;
                    t.put(name, cur);
                    continue;
                }
                for (String s : f) cur[n++] = Integer.parseInt(s);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read vp8-tables.txt", e);
        }
        TABLES = t;
        COEFF_PROBS = t.get("coeff_probs");
        COEFF_UPDATE_PROBS = t.get("coeff_update_probs");
        BMODE_PROBS = t.get("kf_bmode_probs");
        DC_Q = t.get("dc_q");
        AC_Q = t.get("ac_q");
    }

    // ---------------------------------------------------------------- boolean decoder (RFC 6386 7.3)

    /**
     * The boolean entropy decoder. Past the end of its data it reads zeros; {@code eof} is set as
     * libwebp's VP8BitReader sets it: when a bit is requested while more than all but the last byte
     * have been shifted in (and at once for an empty partition).
     */
    static final class BoolReader {
        private final byte[] buf;
        private int pos;
        private final int end;
        private final long limit;
        private int value, range = 255, bitCount;
        private long shifted;
        boolean eof;

        BoolReader(byte[] buf, int off, int len) {
            this.buf = buf;
            this.pos = off;
            this.end = off + len;
            this.limit = 8L * len - 8;
            value = (next() << 8) | next();
            eof = len == 0;
        }

        private int next() { return pos < end ? buf[pos++] & 0xFF : 0; }

        int bit(int prob) {
            if (shifted > limit) eof = true;
            int split = 1 + (((range - 1) * prob) >> 8);
            int big = split << 8;
            int ret;
            if (value >= big) {
                ret = 1;
                range -= split;
                value -= big;
            } else {
                ret = 0;
                range = split;
            }
            while (range < 128) {
                value <<= 1;
                range <<= 1;
                shifted++;
                if (++bitCount == 8) {
                    bitCount = 0;
                    value |= next();
                }
            }
            return ret;
        }

        int value(int bits) {
            int v = 0;
            while (bits-- > 0) v |= bit(0x80) << bits;
            return v;
        }

        int flag() { return value(1); }

        int signedValue(int bits) {
            int v = value(bits);
            return flag() != 0 ? -v : v;
        }
    }

    // ---------------------------------------------------------------- decoded frame

    /** A decoded frame: Y, U, V planes (unpadded macroblock size) and the picture size. */
    record Frame(int width, int height, int yStride, int uvStride, byte[] y, byte[] u, byte[] v) {}

    /** Picture size from a VP8 frame header, or null if it is not a VP8 key frame. */
    static int[] size(byte[] d, int off, int len) {
        if (len < 10) return null;
        int bits = (d[off] & 0xFF) | (d[off + 1] & 0xFF) << 8 | (d[off + 2] & 0xFF) << 16;
        if ((bits & 1) != 0) return null;
        if ((d[off + 3] & 0xFF) != 0x9d || (d[off + 4] & 0xFF) != 0x01 || (d[off + 5] & 0xFF) != 0x2a) return null;
        int w = ((d[off + 7] & 0xFF) << 8 | (d[off + 6] & 0xFF)) & 0x3fff;
        int h = ((d[off + 9] & 0xFF) << 8 | (d[off + 8] & 0xFF)) & 0x3fff;
        return new int[]{w, h};
    }

    private static ImageException bad(String source, String why) {
        return new ImageException(source + ": cannot decode lossy WebP (corrupt or truncated): " + why);
    }

    private static final class Segment {
        final int[] y1 = new int[2], y2 = new int[2], uv = new int[2];
    }

    /** Decodes the VP8 chunk payload {@code d[off, off+len)}. */
    static Frame decode(byte[] d, int off, int len, String source) {
        if (len < 10) throw bad(source, "truncated header");
        int bits = (d[off] & 0xFF) | (d[off + 1] & 0xFF) << 8 | (d[off + 2] & 0xFF) << 16;
        boolean keyFrame = (bits & 1) == 0;
        int profile = (bits >> 1) & 7, show = (bits >> 4) & 1, partLen = bits >>> 5;
        if (!keyFrame) throw bad(source, "not a key frame");
        if (profile > 3) throw bad(source, "incorrect keyframe parameters");
        if (show == 0) throw bad(source, "frame not displayable");
        int[] wh = size(d, off, len);
        if (wh == null) throw bad(source, "bad code word");
        int width = wh[0], height = wh[1];
        if (width == 0 || height == 0) throw bad(source, "zero size");
        int p = off + 10, left = len - 10;
        if (partLen > left) throw bad(source, "bad partition length");
        BoolReader br = new BoolReader(d, p, partLen);
        p += partLen;
        left -= partLen;

        br.flag();   // colour space
        br.flag();   // clamping type (libwebp ignores it: pixels are always clamped)
        // Segment header (9.3)
        boolean useSegment = br.flag() != 0, updateMap = false, absoluteDelta = true;
        int[] segQ = new int[4], segF = new int[4];
        int[] segProbs = {255, 255, 255};
        if (useSegment) {
            updateMap = br.flag() != 0;
            if (br.flag() != 0) {
                absoluteDelta = br.flag() != 0;
                for (int s = 0; s < 4; s++) segQ[s] = br.flag() != 0 ? br.signedValue(7) : 0;
                for (int s = 0; s < 4; s++) segF[s] = br.flag() != 0 ? br.signedValue(6) : 0;
            }
            if (updateMap) for (int s = 0; s < 3; s++) segProbs[s] = br.flag() != 0 ? br.value(8) : 255;
        }
        if (br.eof) throw bad(source, "cannot parse segment header");
        // Filter header (9.4)
        boolean simple = br.flag() != 0;
        int level = br.value(6), sharpness = br.value(3);
        boolean useLfDelta = br.flag() != 0;
        int[] refLfDelta = new int[4], modeLfDelta = new int[4];
        if (useLfDelta && br.flag() != 0) {
            for (int i = 0; i < 4; i++) if (br.flag() != 0) refLfDelta[i] = br.signedValue(6);
            for (int i = 0; i < 4; i++) if (br.flag() != 0) modeLfDelta[i] = br.signedValue(6);
        }
        int filterType = level == 0 ? 0 : simple ? 1 : 2;
        if (br.eof) throw bad(source, "cannot parse filter header");
        // Partitions (9.5)
        int numParts = 1 << br.value(2);
        int lastPart = numParts - 1;
        if (left < 3 * lastPart) throw bad(source, "cannot parse partitions");
        BoolReader[] parts = new BoolReader[numParts];
        int sz = p, partStart = p + 3 * lastPart, sizeLeft = left - 3 * lastPart;
        for (int i = 0; i < lastPart; i++) {
            int psize = (d[sz] & 0xFF) | (d[sz + 1] & 0xFF) << 8 | (d[sz + 2] & 0xFF) << 16;
            if (psize > sizeLeft) psize = sizeLeft;
            parts[i] = new BoolReader(d, partStart, psize);
            partStart += psize;
            sizeLeft -= psize;
            sz += 3;
        }
        parts[lastPart] = new BoolReader(d, partStart, sizeLeft);
        if (sizeLeft <= 0) throw bad(source, "cannot parse partitions");
        // Quantizers (9.6, quant_dec.c)
        int baseQ = br.value(7);
        int dqY1Dc = br.flag() != 0 ? br.signedValue(4) : 0;
        int dqY2Dc = br.flag() != 0 ? br.signedValue(4) : 0;
        int dqY2Ac = br.flag() != 0 ? br.signedValue(4) : 0;
        int dqUvDc = br.flag() != 0 ? br.signedValue(4) : 0;
        int dqUvAc = br.flag() != 0 ? br.signedValue(4) : 0;
        Segment[] dqm = new Segment[4];
        for (int i = 0; i < 4; i++) {
            int q;
            if (useSegment) {
                q = segQ[i] + (absoluteDelta ? 0 : baseQ);
            } else if (i > 0) {
                dqm[i] = dqm[0];
                continue;
            } else {
                q = baseQ;
            }
            Segment m = new Segment();
            m.y1[0] = DC_Q[clip(q + dqY1Dc, 127)];
            m.y1[1] = AC_Q[clip(q, 127)];
            m.y2[0] = DC_Q[clip(q + dqY2Dc, 127)] * 2;
            m.y2[1] = Math.max(8, (AC_Q[clip(q + dqY2Ac, 127)] * 101581) >> 16);   // x * 155 / 100
            m.uv[0] = DC_Q[clip(q + dqUvDc, 117)];
            m.uv[1] = AC_Q[clip(q + dqUvAc, 127)];
            dqm[i] = m;
        }
        br.flag();   // update_proba: ignored (one frame)
        // Token probabilities (13.4)
        int[] probs = new int[4 * 8 * 3 * 11];
        for (int i = 0; i < probs.length; i++)
            probs[i] = br.bit(COEFF_UPDATE_PROBS[i]) != 0 ? br.value(8) : COEFF_PROBS[i];
        boolean useSkip = br.flag() != 0;
        int skipP = useSkip ? br.value(8) : 0;

        // Filter strengths per segment and i4x4 (frame_dec.c PrecomputeFilterStrengths)
        int[][] fLimit = new int[4][2], fIlevel = new int[4][2], fHev = new int[4][2];
        if (filterType > 0) {
            for (int s = 0; s < 4; s++) {
                int base = useSegment ? segF[s] + (absoluteDelta ? 0 : level) : level;
                for (int i4 = 0; i4 <= 1; i4++) {
                    int lv = base;
                    if (useLfDelta) {
                        lv += refLfDelta[0];
                        if (i4 == 1) lv += modeLfDelta[0];
                    }
                    lv = lv < 0 ? 0 : Math.min(lv, 63);
                    if (lv > 0) {
                        int il = lv;
                        if (sharpness > 0) {
                            il >>= sharpness > 4 ? 2 : 1;
                            if (il > 9 - sharpness) il = 9 - sharpness;
                        }
                        if (il < 1) il = 1;
                        fIlevel[s][i4] = il;
                        fLimit[s][i4] = 2 * lv + il;
                        fHev[s][i4] = lv >= 40 ? 2 : lv >= 15 ? 1 : 0;
                    }
                }
            }
        }

        int mbW = (width + 15) >> 4, mbH = (height + 15) >> 4;
        int yStride = mbW * 16, uvStride = mbW * 8;
        byte[] Y = new byte[yStride * mbH * 16], U = new byte[uvStride * mbH * 8], V = new byte[uvStride * mbH * 8];
        // per-macroblock filter info for the whole frame: limit, ilevel, inner, hev
        int[] fInfo = new int[mbW * mbH * 4];

        int[] intraT = new int[4 * mbW], intraL = new int[4];
        int[] nzTop = new int[mbW], nzDcTop = new int[mbW];
        int[] yT = new int[16 * mbW], uT = new int[8 * mbW], vT = new int[8 * mbW];
        int[] ws = new int[BPS * 26];   // libwebp's yuv_b work area
        short[] coeffs = new short[384];
        int[] imodes = new int[16];
        for (int mbY = 0; mbY < mbH; mbY++) {
            BoolReader tokens = parts[mbY & lastPart];
            int nzLeft = 0, nzDcLeft = 0;
            java.util.Arrays.fill(intraL, 0);
            initRow(ws, mbY);
            for (int mbX = 0; mbX < mbW; mbX++) {
                // Intra modes (tree_dec.c ParseIntraMode)
                int segment = updateMap ? (br.bit(segProbs[0]) == 0 ? br.bit(segProbs[1]) : br.bit(segProbs[2]) + 2) : 0;
                int skip = useSkip ? br.bit(skipP) : 0;
                boolean i4x4 = br.bit(145) == 0;
                if (!i4x4) {
                    int ymode = br.bit(156) != 0 ? (br.bit(128) != 0 ? TM_PRED : H_PRED) : (br.bit(163) != 0 ? V_PRED : DC_PRED);
                    imodes[0] = ymode;
                    for (int i = 0; i < 4; i++) { intraT[4 * mbX + i] = ymode; intraL[i] = ymode; }
                } else {
                    for (int y = 0; y < 4; y++) {
                        int ymode = intraL[y];
                        for (int x = 0; x < 4; x++) {
                            int pb = (intraT[4 * mbX + x] * 10 + ymode) * 9;
                            int i = BMODE_TREE[br.bit(BMODE_PROBS[pb])];
                            while (i > 0) i = BMODE_TREE[2 * i + br.bit(BMODE_PROBS[pb + i])];
                            ymode = -i;
                            intraT[4 * mbX + x] = ymode;
                            imodes[y * 4 + x] = ymode;
                        }
                        intraL[y] = ymode;
                    }
                }
                int uvmode = br.bit(142) == 0 ? DC_PRED : br.bit(114) == 0 ? V_PRED : br.bit(183) != 0 ? TM_PRED : H_PRED;

                // Residuals (vp8_dec.c ParseResiduals)
                java.util.Arrays.fill(coeffs, (short) 0);
                int nonZeroY = 0, nonZeroUV = 0;
                if (skip == 0) {
                    Segment q = dqm[segment];
                    int first;
                    int acType;
                    if (!i4x4) {
                        short[] dc = new short[16];
                        int ctx = nzDcTop[mbX] + nzDcLeft;
                        int nz = coeffsOf(tokens, probs, 1, ctx, q.y2, 0, dc, 0);
                        nzDcTop[mbX] = nzDcLeft = nz > 0 ? 1 : 0;
                        if (nz > 1) {
                            transformWht(dc, coeffs);
                        } else {
                            int dc0 = (dc[0] + 3) >> 3;
                            for (int i = 0; i < 256; i += 16) coeffs[i] = (short) dc0;
                        }
                        first = 1;
                        acType = 0;
                    } else {
                        first = 0;
                        acType = 3;
                    }
                    int tnz = nzTop[mbX] & 0x0f, lnz = nzLeft & 0x0f;
                    int dst = 0;
                    for (int y = 0; y < 4; y++) {
                        int l = lnz & 1;
                        int nzc = 0;
                        for (int x = 0; x < 4; x++) {
                            int ctx = l + (tnz & 1);
                            int nz = coeffsOf(tokens, probs, acType, ctx, q.y1, first, coeffs, dst);
                            l = nz > first ? 1 : 0;
                            tnz = (tnz >>> 1) | (l << 7);
                            nzc = nzCodeBits(nzc, nz, coeffs[dst] != 0);
                            dst += 16;
                        }
                        tnz >>>= 4;
                        lnz = (lnz >>> 1) | (l << 7);
                        nonZeroY = (nonZeroY << 8) | nzc;
                    }
                    int outT = tnz, outL = lnz >>> 4;
                    for (int ch = 0; ch < 4; ch += 2) {
                        int nzc = 0;
                        tnz = nzTop[mbX] >>> (4 + ch);
                        lnz = nzLeft >>> (4 + ch);
                        for (int y = 0; y < 2; y++) {
                            int l = lnz & 1;
                            for (int x = 0; x < 2; x++) {
                                int ctx = l + (tnz & 1);
                                int nz = coeffsOf(tokens, probs, 2, ctx, q.uv, 0, coeffs, dst);
                                l = nz > 0 ? 1 : 0;
                                tnz = (tnz >>> 1) | (l << 3);
                                nzc = nzCodeBits(nzc, nz, coeffs[dst] != 0);
                                dst += 16;
                            }
                            tnz >>>= 2;
                            lnz = (lnz >>> 1) | (l << 5);
                        }
                        nonZeroUV |= nzc << (4 * ch);
                        outT |= (tnz << 4) << ch;
                        outL |= (lnz & 0xf0) << ch;
                    }
                    nzTop[mbX] = outT;
                    nzLeft = outL;
                    skip = (nonZeroY | nonZeroUV) == 0 ? 1 : 0;
                } else {
                    nzTop[mbX] = nzLeft = 0;
                    if (!i4x4) nzDcTop[mbX] = nzDcLeft = 0;
                }
                if (tokens.eof) throw bad(source, "premature end of file");
                if (filterType > 0) {
                    int fi = (mbY * mbW + mbX) * 4;
                    int k = i4x4 ? 1 : 0;
                    fInfo[fi] = fLimit[segment][k];
                    fInfo[fi + 1] = fIlevel[segment][k];
                    fInfo[fi + 2] = (i4x4 || skip == 0) ? 1 : 0;
                    fInfo[fi + 3] = fHev[segment][k];
                }
                reconstruct(ws, mbX, mbY, mbW, mbH, i4x4, imodes, uvmode, coeffs, nonZeroY, nonZeroUV,
                        yT, uT, vT, Y, U, V, yStride, uvStride);
            }
            if (br.eof) throw bad(source, "premature end of partition 0");
        }
        if (filterType > 0) {
            for (int mbY = 0; mbY < mbH; mbY++)
                for (int mbX = 0; mbX < mbW; mbX++)
                    filterMb(Y, U, V, yStride, uvStride, mbX, mbY, fInfo, (mbY * mbW + mbX) * 4, filterType);
        }
        return new Frame(width, height, yStride, uvStride, Y, U, V);
    }

    private static int clip(int v, int max) { return v < 0 ? 0 : Math.min(v, max); }

    private static int nzCodeBits(int nzc, int nz, boolean dcNz) {
        nzc <<= 2;
        nzc |= nz > 3 ? 3 : nz > 1 ? 2 : (dcNz ? 1 : 0);
        return nzc;
    }

    /** Tokens of one 4x4 block (vp8_dec.c GetCoeffs); returns the index of the last non-zero coefficient + 1. */
    private static int coeffsOf(BoolReader br, int[] probs, int type, int ctx, int[] dq, int n, short[] out, int o) {
        int p = probIndex(type, BANDS[n], ctx);
        for (; n < 16; ++n) {
            if (br.bit(probs[p]) == 0) return n;
            while (br.bit(probs[p + 1]) == 0) {
                ++n;
                if (n == 16) return 16;
                p = probIndex(type, BANDS[n], 0);
            }
            int v;
            int next = BANDS[n + 1];
            if (br.bit(probs[p + 2]) == 0) {
                v = 1;
                p = probIndex(type, next, 1);
            } else {
                v = largeValue(br, probs, p);
                p = probIndex(type, next, 2);
            }
            int s = br.bit(0x80) != 0 ? -v : v;
            out[o + ZIGZAG[n]] = (short) (s * dq[n > 0 ? 1 : 0]);
        }
        return 16;
    }

    private static int probIndex(int type, int band, int ctx) { return ((type * 8 + band) * 3 + ctx) * 11; }

    private static int largeValue(BoolReader br, int[] probs, int p) {
        int v;
        if (br.bit(probs[p + 3]) == 0) {
            v = br.bit(probs[p + 4]) == 0 ? 2 : 3 + br.bit(probs[p + 5]);
        } else if (br.bit(probs[p + 6]) == 0) {
            if (br.bit(probs[p + 7]) == 0) {
                v = 5 + br.bit(159);
            } else {
                v = 7 + 2 * br.bit(165);
                v += br.bit(145);
            }
        } else {
            int bit1 = br.bit(probs[p + 8]);
            int bit0 = br.bit(probs[p + 9 + bit1]);
            int cat = 2 * bit1 + bit0;
            v = 0;
            for (int pr : CAT_PROBS[cat]) v += v + br.bit(pr);
            v += 3 + (8 << cat);
        }
        return v;
    }

    // ---------------------------------------------------------------- transforms (dsp/dec.c)

    private static void transformWht(short[] in, short[] out) {
        int[] tmp = new int[16];
        for (int i = 0; i < 4; i++) {
            int a0 = in[i] + in[12 + i], a1 = in[4 + i] + in[8 + i];
            int a2 = in[4 + i] - in[8 + i], a3 = in[i] - in[12 + i];
            tmp[i] = a0 + a1;
            tmp[8 + i] = a0 - a1;
            tmp[4 + i] = a3 + a2;
            tmp[12 + i] = a3 - a2;
        }
        int o = 0;
        for (int i = 0; i < 4; i++) {
            int dc = tmp[i * 4] + 3;
            int a0 = dc + tmp[3 + i * 4], a1 = tmp[1 + i * 4] + tmp[2 + i * 4];
            int a2 = tmp[1 + i * 4] - tmp[2 + i * 4], a3 = dc - tmp[3 + i * 4];
            out[o] = (short) ((a0 + a1) >> 3);
            out[o + 16] = (short) ((a3 + a2) >> 3);
            out[o + 32] = (short) ((a0 - a1) >> 3);
            out[o + 48] = (short) ((a3 - a2) >> 3);
            o += 64;
        }
    }

    private static int mul1(int a) { return ((a * 20091) >> 16) + a; }

    private static int mul2(int a) { return (a * 35468) >> 16; }

    private static int clip8(int v) { return (v & ~0xff) == 0 ? v : v < 0 ? 0 : 255; }

    private static void store(int[] dst, int at, int v) { dst[at] = clip8(dst[at] + (v >> 3)); }

    /** Full inverse DCT of one block added to the prediction at {@code dst[d]} (TransformOne). */
    private static void transform(short[] in, int io, int[] dst, int d) {
        int[] c = new int[16];
        for (int i = 0, t = 0; i < 4; i++, t += 4) {
            int a = in[io + i] + in[io + i + 8], b = in[io + i] - in[io + i + 8];
            int cc = mul2(in[io + i + 4]) - mul1(in[io + i + 12]);
            int dd = mul1(in[io + i + 4]) + mul2(in[io + i + 12]);
            c[t] = a + dd;
            c[t + 1] = b + cc;
            c[t + 2] = b - cc;
            c[t + 3] = a - dd;
        }
        for (int i = 0; i < 4; i++, d += BPS) {
            int dc = c[i] + 4;
            int a = dc + c[i + 8], b = dc - c[i + 8];
            int cc = mul2(c[i + 4]) - mul1(c[i + 12]);
            int dd = mul1(c[i + 4]) + mul2(c[i + 12]);
            store(dst, d, a + dd);
            store(dst, d + 1, b + cc);
            store(dst, d + 2, b - cc);
            store(dst, d + 3, a - dd);
        }
    }

    private static void transformAc3(short[] in, int io, int[] dst, int d) {
        int a = in[io] + 4;
        int c4 = mul2(in[io + 4]), d4 = mul1(in[io + 4]);
        int c1 = mul2(in[io + 1]), d1 = mul1(in[io + 1]);
        int[] rows = {a + d4, a + c4, a - c4, a - d4};
        for (int y = 0; y < 4; y++) {
            int r = d + y * BPS, dc = rows[y];
            store(dst, r, dc + d1);
            store(dst, r + 1, dc + c1);
            store(dst, r + 2, dc - c1);
            store(dst, r + 3, dc - d1);
        }
    }

    private static void transformDc(short[] in, int io, int[] dst, int d) {
        int dc = in[io] + 4;
        for (int j = 0; j < 4; j++) for (int i = 0; i < 4; i++) store(dst, d + i + j * BPS, dc);
    }

    private static void doTransform(int bits, short[] in, int io, int[] dst, int d) {
        switch (bits >>> 30) {
            case 3 -> transform(in, io, dst, d);
            case 2 -> transformAc3(in, io, dst, d);
            case 1 -> transformDc(in, io, dst, d);
            default -> { }
        }
    }

    private static void doUvTransform(int bits, short[] in, int io, int[] dst, int d) {
        if ((bits & 0xff) == 0) return;
        if ((bits & 0xaa) != 0) {   // TransformUV: full transforms (no AC3 variant for chroma)
            transform(in, io, dst, d);
            transform(in, io + 16, dst, d + 4);
            transform(in, io + 32, dst, d + 4 * BPS);
            transform(in, io + 48, dst, d + 4 * BPS + 4);
        } else {   // TransformDCUV
            if (in[io] != 0) transformDc(in, io, dst, d);
            if (in[io + 16] != 0) transformDc(in, io + 16, dst, d + 4);
            if (in[io + 32] != 0) transformDc(in, io + 32, dst, d + 4 * BPS);
            if (in[io + 48] != 0) transformDc(in, io + 48, dst, d + 4 * BPS + 4);
        }
    }

    // ---------------------------------------------------------------- reconstruction (frame_dec.c)

    private static final int BPS = 32, Y_OFF = BPS + 8, U_OFF = Y_OFF + BPS * 16 + BPS, V_OFF = U_OFF + 16;
    private static final int DC_PRED = 0, TM_PRED = 1, V_PRED = 2, H_PRED = 3;
    private static final int DC_NOTOP = 4, DC_NOLEFT = 5, DC_NOTOPLEFT = 6;

    private static void initRow(int[] ws, int mbY) {
        for (int j = 0; j < 16; j++) ws[Y_OFF + j * BPS - 1] = 129;
        for (int j = 0; j < 8; j++) {
            ws[U_OFF + j * BPS - 1] = 129;
            ws[V_OFF + j * BPS - 1] = 129;
        }
        if (mbY > 0) {
            ws[Y_OFF - 1 - BPS] = ws[U_OFF - 1 - BPS] = ws[V_OFF - 1 - BPS] = 129;
        } else {
            for (int i = 0; i < 16 + 4 + 1; i++) ws[Y_OFF - BPS - 1 + i] = 127;
            for (int i = 0; i < 8 + 1; i++) {
                ws[U_OFF - BPS - 1 + i] = 127;
                ws[V_OFF - BPS - 1 + i] = 127;
            }
        }
    }

    private static int checkMode(int mbX, int mbY, int mode) {
        if (mode == DC_PRED) {
            if (mbX == 0) return mbY == 0 ? DC_NOTOPLEFT : DC_NOLEFT;
            return mbY == 0 ? DC_NOTOP : DC_PRED;
        }
        return mode;
    }

    private static final int[] SCAN = new int[16];

    static {
        for (int n = 0; n < 16; n++) SCAN[n] = (n & 3) * 4 + (n >> 2) * 4 * BPS;
    }

    private static void reconstruct(int[] ws, int mbX, int mbY, int mbW, int mbH, boolean i4x4, int[] imodes, int uvmode,
                                    short[] coeffs, int nonZeroY, int nonZeroUV, int[] yT, int[] uT, int[] vT,
                                    byte[] Y, byte[] U, byte[] V, int yStride, int uvStride) {
        if (mbX > 0) {   // rotate in the left samples (4 columns, incl. the top row)
            for (int j = -1; j < 16; j++) System.arraycopy(ws, Y_OFF + j * BPS + 12, ws, Y_OFF + j * BPS - 4, 4);
            for (int j = -1; j < 8; j++) {
                System.arraycopy(ws, U_OFF + j * BPS + 4, ws, U_OFF + j * BPS - 4, 4);
                System.arraycopy(ws, V_OFF + j * BPS + 4, ws, V_OFF + j * BPS - 4, 4);
            }
        }
        if (mbY > 0) {
            System.arraycopy(yT, mbX * 16, ws, Y_OFF - BPS, 16);
            System.arraycopy(uT, mbX * 8, ws, U_OFF - BPS, 8);
            System.arraycopy(vT, mbX * 8, ws, V_OFF - BPS, 8);
        }
        int bits = nonZeroY;
        if (i4x4) {
            int tr = Y_OFF - BPS + 16;
            if (mbY > 0) {
                if (mbX >= mbW - 1) java.util.Arrays.fill(ws, tr, tr + 4, yT[mbX * 16 + 15]);
                else System.arraycopy(yT, (mbX + 1) * 16, ws, tr, 4);
            }
            for (int r = 1; r <= 3; r++) System.arraycopy(ws, tr, ws, tr + 4 * r * BPS, 4);
            for (int n = 0; n < 16; n++, bits <<= 2) {
                int dst = Y_OFF + SCAN[n];
                predLuma4(ws, dst, imodes[n]);
                doTransform(bits, coeffs, n * 16, ws, dst);
            }
        } else {
            predBlock(ws, Y_OFF, 16, checkMode(mbX, mbY, imodes[0]));
            if (bits != 0)
                for (int n = 0; n < 16; n++, bits <<= 2) doTransform(bits, coeffs, n * 16, ws, Y_OFF + SCAN[n]);
        }
        int uvPred = checkMode(mbX, mbY, uvmode);
        predBlock(ws, U_OFF, 8, uvPred);
        predBlock(ws, V_OFF, 8, uvPred);
        doUvTransform(nonZeroUV, coeffs, 256, ws, U_OFF);
        doUvTransform(nonZeroUV >>> 8, coeffs, 320, ws, V_OFF);
        if (mbY < mbH - 1) {
            System.arraycopy(ws, Y_OFF + 15 * BPS, yT, mbX * 16, 16);
            System.arraycopy(ws, U_OFF + 7 * BPS, uT, mbX * 8, 8);
            System.arraycopy(ws, V_OFF + 7 * BPS, vT, mbX * 8, 8);
        }
        for (int j = 0; j < 16; j++) {
            int o = (mbY * 16 + j) * yStride + mbX * 16;
            for (int i = 0; i < 16; i++) Y[o + i] = (byte) ws[Y_OFF + j * BPS + i];
        }
        for (int j = 0; j < 8; j++) {
            int o = (mbY * 8 + j) * uvStride + mbX * 8;
            for (int i = 0; i < 8; i++) {
                U[o + i] = (byte) ws[U_OFF + j * BPS + i];
                V[o + i] = (byte) ws[V_OFF + j * BPS + i];
            }
        }
    }

    /** 16x16 luma or 8x8 chroma prediction (VE16, HE16, the DC16 variants, TM16 and their 8x8 chroma counterparts). */
    private static void predBlock(int[] w, int dst, int size, int mode) {
        int shift = size == 16 ? 5 : 4;
        switch (mode) {
            case DC_PRED -> {
                int dc = size;
                for (int j = 0; j < size; j++) dc += w[dst - 1 + j * BPS] + w[dst + j - BPS];
                fill(w, dst, size, dc >> shift);
            }
            case DC_NOTOP -> {
                int dc = size >> 1;
                for (int j = 0; j < size; j++) dc += w[dst - 1 + j * BPS];
                fill(w, dst, size, dc >> (shift - 1));
            }
            case DC_NOLEFT -> {
                int dc = size >> 1;
                for (int i = 0; i < size; i++) dc += w[dst + i - BPS];
                fill(w, dst, size, dc >> (shift - 1));
            }
            case DC_NOTOPLEFT -> fill(w, dst, size, 0x80);
            case V_PRED -> {
                for (int j = 0; j < size; j++) System.arraycopy(w, dst - BPS, w, dst + j * BPS, size);
            }
            case H_PRED -> {
                for (int j = 0; j < size; j++) java.util.Arrays.fill(w, dst + j * BPS, dst + j * BPS + size, w[dst + j * BPS - 1]);
            }
            default -> trueMotion(w, dst, size);
        }
    }

    private static void fill(int[] w, int dst, int size, int v) {
        for (int j = 0; j < size; j++) java.util.Arrays.fill(w, dst + j * BPS, dst + j * BPS + size, v);
    }

    private static void trueMotion(int[] w, int dst, int size) {
        int top = dst - BPS, tl = w[top - 1];
        for (int y = 0; y < size; y++) {
            int l = w[dst + y * BPS - 1];
            for (int x = 0; x < size; x++) {
                int v = w[top + x] + l - tl;
                w[dst + y * BPS + x] = v < 0 ? 0 : Math.min(v, 255);
            }
        }
    }

    private static int avg3(int a, int b, int c) { return (a + 2 * b + c + 2) >> 2; }

    private static int avg2(int a, int b) { return (a + b + 1) >> 1; }

    private static void predLuma4(int[] w, int d, int mode) {
        int t = d - BPS;
        switch (mode) {
            case 0 -> {   // DC4
                int dc = 4;
                for (int i = 0; i < 4; i++) dc += w[t + i] + w[d - 1 + i * BPS];
                dc >>= 3;
                for (int j = 0; j < 4; j++) java.util.Arrays.fill(w, d + j * BPS, d + j * BPS + 4, dc);
            }
            case 1 -> trueMotion(w, d, 4);
            case 2 -> {   // VE4: smoothed top row
                int[] v = {avg3(w[t - 1], w[t], w[t + 1]), avg3(w[t], w[t + 1], w[t + 2]),
                        avg3(w[t + 1], w[t + 2], w[t + 3]), avg3(w[t + 2], w[t + 3], w[t + 4])};
                for (int j = 0; j < 4; j++) System.arraycopy(v, 0, w, d + j * BPS, 4);
            }
            case 3 -> {   // HE4: smoothed left column
                int A = w[d - 1 - BPS], B = w[d - 1], C = w[d - 1 + BPS], D = w[d - 1 + 2 * BPS], E = w[d - 1 + 3 * BPS];
                int[] v = {avg3(A, B, C), avg3(B, C, D), avg3(C, D, E), avg3(D, E, E)};
                for (int j = 0; j < 4; j++) java.util.Arrays.fill(w, d + j * BPS, d + j * BPS + 4, v[j]);
            }
            case 4 -> {   // RD4
                int I = w[d - 1], J = w[d - 1 + BPS], K = w[d - 1 + 2 * BPS], L = w[d - 1 + 3 * BPS], X = w[d - 1 - BPS];
                int A = w[t], B = w[t + 1], C = w[t + 2], D = w[t + 3];
                set(w, d, 0, 3, avg3(J, K, L));
                int ijk = avg3(I, J, K); set(w, d, 1, 3, ijk); set(w, d, 0, 2, ijk);
                int xij = avg3(X, I, J); set(w, d, 2, 3, xij); set(w, d, 1, 2, xij); set(w, d, 0, 1, xij);
                int axi = avg3(A, X, I); set(w, d, 3, 3, axi); set(w, d, 2, 2, axi); set(w, d, 1, 1, axi); set(w, d, 0, 0, axi);
                int bax = avg3(B, A, X); set(w, d, 3, 2, bax); set(w, d, 2, 1, bax); set(w, d, 1, 0, bax);
                int cba = avg3(C, B, A); set(w, d, 3, 1, cba); set(w, d, 2, 0, cba);
                set(w, d, 3, 0, avg3(D, C, B));
            }
            case 5 -> {   // VR4
                int I = w[d - 1], J = w[d - 1 + BPS], K = w[d - 1 + 2 * BPS], X = w[d - 1 - BPS];
                int A = w[t], B = w[t + 1], C = w[t + 2], D = w[t + 3];
                int xa = avg2(X, A); set(w, d, 0, 0, xa); set(w, d, 1, 2, xa);
                int ab = avg2(A, B); set(w, d, 1, 0, ab); set(w, d, 2, 2, ab);
                int bc = avg2(B, C); set(w, d, 2, 0, bc); set(w, d, 3, 2, bc);
                set(w, d, 3, 0, avg2(C, D));
                set(w, d, 0, 3, avg3(K, J, I));
                set(w, d, 0, 2, avg3(J, I, X));
                int ixa = avg3(I, X, A); set(w, d, 0, 1, ixa); set(w, d, 1, 3, ixa);
                int xab = avg3(X, A, B); set(w, d, 1, 1, xab); set(w, d, 2, 3, xab);
                int abc = avg3(A, B, C); set(w, d, 2, 1, abc); set(w, d, 3, 3, abc);
                set(w, d, 3, 1, avg3(B, C, D));
            }
            case 6 -> {   // LD4
                int A = w[t], B = w[t + 1], C = w[t + 2], D = w[t + 3], E = w[t + 4], F = w[t + 5], G = w[t + 6], H = w[t + 7];
                set(w, d, 0, 0, avg3(A, B, C));
                int bcd = avg3(B, C, D); set(w, d, 1, 0, bcd); set(w, d, 0, 1, bcd);
                int cde = avg3(C, D, E); set(w, d, 2, 0, cde); set(w, d, 1, 1, cde); set(w, d, 0, 2, cde);
                int def = avg3(D, E, F); set(w, d, 3, 0, def); set(w, d, 2, 1, def); set(w, d, 1, 2, def); set(w, d, 0, 3, def);
                int efg = avg3(E, F, G); set(w, d, 3, 1, efg); set(w, d, 2, 2, efg); set(w, d, 1, 3, efg);
                int fgh = avg3(F, G, H); set(w, d, 3, 2, fgh); set(w, d, 2, 3, fgh);
                set(w, d, 3, 3, avg3(G, H, H));
            }
            case 7 -> {   // VL4
                int A = w[t], B = w[t + 1], C = w[t + 2], D = w[t + 3], E = w[t + 4], F = w[t + 5], G = w[t + 6], H = w[t + 7];
                set(w, d, 0, 0, avg2(A, B));
                int bc = avg2(B, C); set(w, d, 1, 0, bc); set(w, d, 0, 2, bc);
                int cd = avg2(C, D); set(w, d, 2, 0, cd); set(w, d, 1, 2, cd);
                int de = avg2(D, E); set(w, d, 3, 0, de); set(w, d, 2, 2, de);
                set(w, d, 0, 1, avg3(A, B, C));
                int bcd = avg3(B, C, D); set(w, d, 1, 1, bcd); set(w, d, 0, 3, bcd);
                int cde = avg3(C, D, E); set(w, d, 2, 1, cde); set(w, d, 1, 3, cde);
                int def = avg3(D, E, F); set(w, d, 3, 1, def); set(w, d, 2, 3, def);
                set(w, d, 3, 2, avg3(E, F, G));
                set(w, d, 3, 3, avg3(F, G, H));
            }
            case 8 -> {   // HD4
                int I = w[d - 1], J = w[d - 1 + BPS], K = w[d - 1 + 2 * BPS], L = w[d - 1 + 3 * BPS], X = w[d - 1 - BPS];
                int A = w[t], B = w[t + 1], C = w[t + 2];
                int ix = avg2(I, X); set(w, d, 0, 0, ix); set(w, d, 2, 1, ix);
                int ji = avg2(J, I); set(w, d, 0, 1, ji); set(w, d, 2, 2, ji);
                int kj = avg2(K, J); set(w, d, 0, 2, kj); set(w, d, 2, 3, kj);
                set(w, d, 0, 3, avg2(L, K));
                set(w, d, 3, 0, avg3(A, B, C));
                set(w, d, 2, 0, avg3(X, A, B));
                int ixa = avg3(I, X, A); set(w, d, 1, 0, ixa); set(w, d, 3, 1, ixa);
                int jix = avg3(J, I, X); set(w, d, 1, 1, jix); set(w, d, 3, 2, jix);
                int kji = avg3(K, J, I); set(w, d, 1, 2, kji); set(w, d, 3, 3, kji);
                set(w, d, 1, 3, avg3(L, K, J));
            }
            default -> {   // HU4
                int I = w[d - 1], J = w[d - 1 + BPS], K = w[d - 1 + 2 * BPS], L = w[d - 1 + 3 * BPS];
                set(w, d, 0, 0, avg2(I, J));
                int jk = avg2(J, K); set(w, d, 2, 0, jk); set(w, d, 0, 1, jk);
                int kl = avg2(K, L); set(w, d, 2, 1, kl); set(w, d, 0, 2, kl);
                set(w, d, 1, 0, avg3(I, J, K));
                int jkl = avg3(J, K, L); set(w, d, 3, 0, jkl); set(w, d, 1, 1, jkl);
                int kll = avg3(K, L, L); set(w, d, 3, 1, kll); set(w, d, 1, 2, kll);
                set(w, d, 3, 2, L); set(w, d, 2, 2, L); set(w, d, 0, 3, L); set(w, d, 1, 3, L); set(w, d, 2, 3, L); set(w, d, 3, 3, L);
            }
        }
    }

    private static void set(int[] w, int d, int x, int y, int v) { w[d + x + y * BPS] = v; }

    // ---------------------------------------------------------------- loop filter (frame_dec.c DoFilter, dsp/dec.c)

    private static void filterMb(byte[] Y, byte[] U, byte[] V, int ys, int uvs, int mbX, int mbY, int[] f, int fi, int type) {
        int limit = f[fi], ilevel = f[fi + 1], hev = f[fi + 3];
        boolean inner = f[fi + 2] != 0;
        if (limit == 0) return;
        int y = mbY * 16 * ys + mbX * 16;
        if (type == 1) {
            if (mbX > 0) simpleH16(Y, y, ys, limit + 4);
            if (inner) for (int k = 1; k <= 3; k++) simpleH16(Y, y + 4 * k, ys, limit);
            if (mbY > 0) simpleV16(Y, y, ys, limit + 4);
            if (inner) for (int k = 1; k <= 3; k++) simpleV16(Y, y + 4 * k * ys, ys, limit);
        } else {
            int uv = mbY * 8 * uvs + mbX * 8;
            if (mbX > 0) {
                loop26(Y, y, 1, ys, 16, limit + 4, ilevel, hev);
                loop26(U, uv, 1, uvs, 8, limit + 4, ilevel, hev);
                loop26(V, uv, 1, uvs, 8, limit + 4, ilevel, hev);
            }
            if (inner) {
                for (int k = 1; k <= 3; k++) loop24(Y, y + 4 * k, 1, ys, 16, limit, ilevel, hev);
                loop24(U, uv + 4, 1, uvs, 8, limit, ilevel, hev);
                loop24(V, uv + 4, 1, uvs, 8, limit, ilevel, hev);
            }
            if (mbY > 0) {
                loop26(Y, y, ys, 1, 16, limit + 4, ilevel, hev);
                loop26(U, uv, uvs, 1, 8, limit + 4, ilevel, hev);
                loop26(V, uv, uvs, 1, 8, limit + 4, ilevel, hev);
            }
            if (inner) {
                for (int k = 1; k <= 3; k++) loop24(Y, y + 4 * k * ys, ys, 1, 16, limit, ilevel, hev);
                loop24(U, uv + 4 * uvs, uvs, 1, 8, limit, ilevel, hev);
                loop24(V, uv + 4 * uvs, uvs, 1, 8, limit, ilevel, hev);
            }
        }
    }

    private static int u(byte[] p, int i) { return p[i] & 0xFF; }

    private static int sclip1(int v) { return v < -128 ? -128 : Math.min(v, 127); }   // [-1020, 1020] → [-128, 127]

    private static int sclip2(int v) { return v < -16 ? -16 : Math.min(v, 15); }      // [-112, 112] → [-16, 15]

    private static byte clip1(int v) { return (byte) (v < 0 ? 0 : Math.min(v, 255)); }

    private static void filter2(byte[] b, int p, int step) {
        int p1 = u(b, p - 2 * step), p0 = u(b, p - step), q0 = u(b, p), q1 = u(b, p + step);
        int a = 3 * (q0 - p0) + sclip1(p1 - q1);
        int a1 = sclip2((a + 4) >> 3), a2 = sclip2((a + 3) >> 3);
        b[p - step] = clip1(p0 + a2);
        b[p] = clip1(q0 - a1);
    }

    private static void filter4(byte[] b, int p, int step) {
        int p1 = u(b, p - 2 * step), p0 = u(b, p - step), q0 = u(b, p), q1 = u(b, p + step);
        int a = 3 * (q0 - p0);
        int a1 = sclip2((a + 4) >> 3), a2 = sclip2((a + 3) >> 3), a3 = (a1 + 1) >> 1;
        b[p - 2 * step] = clip1(p1 + a3);
        b[p - step] = clip1(p0 + a2);
        b[p] = clip1(q0 - a1);
        b[p + step] = clip1(q1 - a3);
    }

    private static void filter6(byte[] b, int p, int step) {
        int p2 = u(b, p - 3 * step), p1 = u(b, p - 2 * step), p0 = u(b, p - step);
        int q0 = u(b, p), q1 = u(b, p + step), q2 = u(b, p + 2 * step);
        int a = sclip1(3 * (q0 - p0) + sclip1(p1 - q1));
        int a1 = (27 * a + 63) >> 7, a2 = (18 * a + 63) >> 7, a3 = (9 * a + 63) >> 7;
        b[p - 3 * step] = clip1(p2 + a3);
        b[p - 2 * step] = clip1(p1 + a2);
        b[p - step] = clip1(p0 + a1);
        b[p] = clip1(q0 - a1);
        b[p + step] = clip1(q1 - a2);
        b[p + 2 * step] = clip1(q2 - a3);
    }

    private static boolean hev(byte[] b, int p, int step, int thresh) {
        int p1 = u(b, p - 2 * step), p0 = u(b, p - step), q0 = u(b, p), q1 = u(b, p + step);
        return Math.abs(p1 - p0) > thresh || Math.abs(q1 - q0) > thresh;
    }

    private static boolean needsFilter(byte[] b, int p, int step, int t) {
        int p1 = u(b, p - 2 * step), p0 = u(b, p - step), q0 = u(b, p), q1 = u(b, p + step);
        return 4 * Math.abs(p0 - q0) + Math.abs(p1 - q1) <= t;
    }

    private static boolean needsFilter2(byte[] b, int p, int step, int t, int it) {
        int p3 = u(b, p - 4 * step), p2 = u(b, p - 3 * step), p1 = u(b, p - 2 * step), p0 = u(b, p - step);
        int q0 = u(b, p), q1 = u(b, p + step), q2 = u(b, p + 2 * step), q3 = u(b, p + 3 * step);
        if (4 * Math.abs(p0 - q0) + Math.abs(p1 - q1) > t) return false;
        return Math.abs(p3 - p2) <= it && Math.abs(p2 - p1) <= it && Math.abs(p1 - p0) <= it
                && Math.abs(q3 - q2) <= it && Math.abs(q2 - q1) <= it && Math.abs(q1 - q0) <= it;
    }

    private static void simpleV16(byte[] b, int p, int stride, int thresh) {
        int t2 = 2 * thresh + 1;
        for (int i = 0; i < 16; i++) if (needsFilter(b, p + i, stride, t2)) filter2(b, p + i, stride);
    }

    private static void simpleH16(byte[] b, int p, int stride, int thresh) {
        int t2 = 2 * thresh + 1;
        for (int i = 0; i < 16; i++) if (needsFilter(b, p + i * stride, 1, t2)) filter2(b, p + i * stride, 1);
    }

    /** FilterLoop26: macroblock edges; {@code hstride} across the edge, {@code vstride} along it. */
    private static void loop26(byte[] b, int p, int hstride, int vstride, int size, int thresh, int ithresh, int hevT) {
        int t2 = 2 * thresh + 1;
        for (int i = 0; i < size; i++, p += vstride) {
            if (needsFilter2(b, p, hstride, t2, ithresh)) {
                if (hev(b, p, hstride, hevT)) filter2(b, p, hstride);
                else filter6(b, p, hstride);
            }
        }
    }

    /** FilterLoop24: inner edges. */
    private static void loop24(byte[] b, int p, int hstride, int vstride, int size, int thresh, int ithresh, int hevT) {
        int t2 = 2 * thresh + 1;
        for (int i = 0; i < size; i++, p += vstride) {
            if (needsFilter2(b, p, hstride, t2, ithresh)) {
                if (hev(b, p, hstride, hevT)) filter2(b, p, hstride);
                else filter4(b, p, hstride);
            }
        }
    }

    // ---------------------------------------------------------------- output: fancy upsampling + YUV→RGB

    private static int multHi(int v, int c) { return (v * c) >> 8; }

    private static int yuvClip(int v) { return (v & ~16383) == 0 ? v >> 6 : v < 0 ? 0 : 255; }   // VP8Clip8, YUV_FIX2 = 6

    private static void yuvToRgb(int y, int u, int v, byte[] out, int o) {
        out[o] = (byte) yuvClip(multHi(y, 19077) + multHi(v, 26149) - 14234);
        out[o + 1] = (byte) yuvClip(multHi(y, 19077) - multHi(u, 6419) - multHi(v, 13320) + 8708);
        out[o + 2] = (byte) yuvClip(multHi(y, 19077) + multHi(u, 33050) - 17685);
    }

    /**
     * RGB of a decoded frame as libwebp's EmitFancyRGB writes it: each output row's chroma is
     * interpolated between the two nearest chroma rows (weights 3:1, the first and an even height's last
     * row mirrored), and along the row by UpsampleRgbLinePair's diagonal formula.
     */
    static byte[] toRgb(Frame f) {
        int w = f.width(), h = f.height();
        int uvH = (h + 1) / 2;
        byte[] out = new byte[Math.multiplyExact(w * 3, h)];
        for (int r = 0; r < h; r++) {
            int topRow, curRow;
            boolean bottom;
            if (r == 0) { topRow = 0; curRow = 0; bottom = false; }
            else if ((r & 1) == 1) {
                int k = (r + 1) >> 1;
                if (k < uvH) { topRow = k - 1; curRow = k; } else { topRow = k - 1; curRow = k - 1; }
                bottom = false;
            } else {
                int k = r >> 1;
                topRow = k - 1; curRow = k; bottom = true;
            }
            upsampleRow(f, r, topRow, curRow, bottom, out, r * w * 3);
        }
        return out;
    }

    /** One row of UpsampleRgbLinePair: the "top" output row (bottom=false) or the "bottom" one. */
    private static void upsampleRow(Frame f, int row, int topRow, int curRow, boolean bottom, byte[] out, int o) {
        int len = f.width();
        byte[] Y = f.y(), U = f.u(), V = f.v();
        int yo = row * f.yStride(), to = topRow * f.uvStride(), co = curRow * f.uvStride();
        int lastPair = (len - 1) >> 1;
        int tlU = U[to] & 0xFF, tlV = V[to] & 0xFF, lU = U[co] & 0xFF, lV = V[co] & 0xFF;
        // the near chroma row (weight 3) is the top one for a top row, the current one for a bottom row
        yuvToRgb(Y[yo] & 0xFF, edge(bottom ? lU : tlU, bottom ? tlU : lU), edge(bottom ? lV : tlV, bottom ? tlV : lV), out, o);
        for (int x = 1; x <= lastPair; x++) {
            int tU = U[to + x] & 0xFF, tV = V[to + x] & 0xFF, cU = U[co + x] & 0xFF, cV = V[co + x] & 0xFF;
            int avgU = tlU + tU + lU + cU + 8, avgV = tlV + tV + lV + cV + 8;
            int d12U = (avgU + 2 * (tU + lU)) >> 3, d12V = (avgV + 2 * (tV + lV)) >> 3;
            int d03U = (avgU + 2 * (tlU + cU)) >> 3, d03V = (avgV + 2 * (tlV + cV)) >> 3;
            int u0, v0, u1, v1;
            if (!bottom) {
                u0 = (d12U + tlU) >> 1; v0 = (d12V + tlV) >> 1;
                u1 = (d03U + tU) >> 1; v1 = (d03V + tV) >> 1;
            } else {
                u0 = (d03U + lU) >> 1; v0 = (d03V + lV) >> 1;
                u1 = (d12U + cU) >> 1; v1 = (d12V + cV) >> 1;
            }
            yuvToRgb(Y[yo + 2 * x - 1] & 0xFF, u0, v0, out, o + (2 * x - 1) * 3);
            yuvToRgb(Y[yo + 2 * x] & 0xFF, u1, v1, out, o + 2 * x * 3);
            tlU = tU; tlV = tV; lU = cU; lV = cV;
        }
        if ((len & 1) == 0) {
            yuvToRgb(Y[yo + len - 1] & 0xFF, edge(bottom ? lU : tlU, bottom ? tlU : lU),
                    edge(bottom ? lV : tlV, bottom ? tlV : lV), out, o + (len - 1) * 3);
        }
    }

    /** (3 · near + far + 2) >> 2: the vertical-only interpolation at a row's first and (even width) last pixel. */
    private static int edge(int near, int far) { return (3 * near + far + 2) >> 2; }
}
