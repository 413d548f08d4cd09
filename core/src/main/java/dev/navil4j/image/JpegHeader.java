package dev.navil4j.image;

import java.nio.charset.StandardCharsets;

/**
 * The few JPEG header facts Pillow's JpegImagePlugin decides on before decoding: the frame (SOFn) marker,
 * sample precision and component count, and the Adobe APP14 colour transform. Parsing stops at the first
 * SOS; a damaged header yields what was read so far (the decoder then reports the damage).
 */
record JpegHeader(boolean jpegSignature, int sofMarker, int bits, int components, int adobeTransform,
                  int[] componentIds, int[] hSamp, int[] vSamp, boolean jfif) {
    /** No Adobe APP14 segment (libjpeg then takes 4 components as plain CMYK). */
    static final int NO_ADOBE = -1;

    /** The header of a file that starts with SOI (FF D8), or null for any other file. */
    static JpegHeader parse(byte[] f) {
        if (f.length < 2 || (f[0] & 0xFF) != 0xFF || (f[1] & 0xFF) != 0xD8) return null;
        // Pillow's JpegImagePlugin._accept: the file must start FF D8 FF, otherwise "cannot identify".
        boolean signature = f.length >= 3 && (f[2] & 0xFF) == 0xFF;
        int sof = -1, bits = 0, comps = 0, adobe = NO_ADOBE;
        int[] ids = new int[0], hs = new int[0], vs = new int[0];
        boolean jfif = false;
        int p = 2;
        while (p + 4 <= f.length && (f[p] & 0xFF) == 0xFF) {
            int m = f[p + 1] & 0xFF;
            if (m == 0xFF) { p++; continue; }
            if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { p += 2; continue; }
            if (m == 0xDA || m == 0xD9) break;
            int len = ((f[p + 2] & 0xFF) << 8) | (f[p + 3] & 0xFF);
            if (len < 2 || p + 2 + len > f.length) break;
            int d = p + 4;
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC && len >= 8 && sof < 0) {
                sof = m;
                bits = f[d] & 0xFF;
                comps = f[d + 5] & 0xFF;
                if (len >= 8 + 3 * comps) {
                    ids = new int[comps]; hs = new int[comps]; vs = new int[comps];
                    for (int c = 0; c < comps; c++) {
                        ids[c] = f[d + 6 + 3 * c] & 0xFF;
                        hs[c] = (f[d + 7 + 3 * c] & 0xFF) >> 4;
                        vs[c] = f[d + 7 + 3 * c] & 0x0F;
                    }
                }
            } else if (m == 0xE0 && len >= 7 && new String(f, d, 5, StandardCharsets.ISO_8859_1).equals("JFIF\0")) {
                jfif = true;
            } else if (m == 0xEE && len - 2 >= 12 && new String(f, d, 5, StandardCharsets.ISO_8859_1).equals("Adobe")) {
                adobe = f[d + 11] & 0xFF;   // JpegImagePlugin.APP: adobe_transform = s[11]
            }
            p += 2 + len;
        }
        return new JpegHeader(signature, sof, bits, comps, adobe, ids, hs, vs, jfif);
    }

    /** Refuses what Pillow refuses when it opens a JPEG (JpegImagePlugin._accept and SOF), with its reason. */
    void checkSupported(String source) {
        if (!jpegSignature)
            throw new ImageException(source + ": not a recognised image format (JPEG SOI not followed by a marker; Pillow cannot identify it)");
        if (sofMarker >= 0xC9 && sofMarker != 0xCC)
            throw new ImageException(source + ": arithmetic-coded JPEG (SOF" + (sofMarker - 0xC0)
                    + ") is not supported (the JDK's libjpeg has no arithmetic decoder; Pillow's libjpeg-turbo decodes it)");
        if (sofMarker >= 0 && bits != 8)
            throw new ImageException(source + ": cannot handle " + bits + "-bit JPEG samples (Pillow reads 8-bit JPEG only)");
        if (sofMarker >= 0 && components != 1 && components != 3 && components != 4)
            throw new ImageException(source + ": cannot handle " + components + "-component JPEG (Pillow reads 1, 3 or 4)");
    }

    /**
     * Motion-JPEG frames leave out the Huffman tables when they are the standard ones (ITU T.81 Annex K.3);
     * libjpeg-turbo then installs those for slots 0 and 1 (jstdhuff.c, called when the entropy decoder
     * starts), the JDK's libjpeg refuses the file. Inserts a DHT with the standard tables for each of
     * DC0, DC1, AC0, AC1 that no DHT before the first SOS defines; other files are returned unchanged.
     */
    static byte[] withDefaultHuffmanTables(byte[] f) {
        if (f.length < 4 || (f[0] & 0xFF) != 0xFF || (f[1] & 0xFF) != 0xD8) return f;
        boolean[] defined = new boolean[4];   // DC0, DC1, AC0, AC1
        boolean huffman = false;
        int p = 2, sos = -1;
        while (p + 4 <= f.length && (f[p] & 0xFF) == 0xFF) {
            int m = f[p + 1] & 0xFF;
            if (m == 0xFF) { p++; continue; }
            if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { p += 2; continue; }
            if (m == 0xD9) return f;
            if (m == 0xDA) { sos = p; break; }
            int len = ((f[p + 2] & 0xFF) << 8) | (f[p + 3] & 0xFF);
            if (len < 2 || p + 2 + len > f.length) return f;
            if (m == 0xC0 || m == 0xC1 || m == 0xC2) huffman = true;
            if (m == 0xC4) {   // DHT: one or more (Tc<<4 | Th, 16 counts, values) tables
                int q = p + 4, end = p + 2 + len;
                while (q + 17 <= end) {
                    int tc = (f[q] & 0xFF) >> 4, th = f[q] & 0x0F;
                    int n = 0;
                    for (int i = 1; i <= 16; i++) n += f[q + i] & 0xFF;
                    if (th < 2 && tc < 2) defined[tc * 2 + th] = true;
                    q += 17 + n;
                }
            }
            p += 2 + len;
        }
        if (sos < 0 || !huffman || (defined[0] && defined[1] && defined[2] && defined[3])) return f;
        javax.imageio.plugins.jpeg.JPEGHuffmanTable[] std = {
                javax.imageio.plugins.jpeg.JPEGHuffmanTable.StdDCLuminance, javax.imageio.plugins.jpeg.JPEGHuffmanTable.StdDCChrominance,
                javax.imageio.plugins.jpeg.JPEGHuffmanTable.StdACLuminance, javax.imageio.plugins.jpeg.JPEGHuffmanTable.StdACChrominance};
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        for (int t = 0; t < 4; t++) {
            if (defined[t]) continue;
            body.write(((t / 2) << 4) | (t % 2));
            for (short l : std[t].getLengths()) body.write(l);
            for (short v : std[t].getValues()) body.write(v);
        }
        int len = body.size() + 2;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(f.length + len + 2);
        out.write(f, 0, sos);
        out.write(0xFF); out.write(0xC4); out.write(len >> 8); out.write(len & 0xFF);
        out.writeBytes(body.toByteArray());
        out.write(f, sos, f.length - sos);
        return out.toByteArray();
    }

    /**
     * True when a chroma component is sampled at full horizontal and half vertical resolution relative to
     * the largest factors (4:4:0, e.g. a 4:2:2 photo rotated losslessly). libjpeg-turbo upsamples that
     * with its triangle filter (jdsample.c h1v2_fancy_upsample); the JDK's libjpeg 6b replicates rows.
     */
    boolean hasH1V2Chroma() {
        if (components != 3 || hSamp.length != 3) return false;
        int maxH = 0, maxV = 0;
        for (int c = 0; c < 3; c++) { maxH = Math.max(maxH, hSamp[c]); maxV = Math.max(maxV, vSamp[c]); }
        for (int c = 0; c < 3; c++)
            if (hSamp[c] > 0 && vSamp[c] > 0 && maxH == hSamp[c] && maxV == 2 * vSamp[c]) return true;
        return false;
    }

    /**
     * libjpeg's choice of colour space for 3 components (jdapimin.c default_decompress_parms): YCbCr with a
     * JFIF marker, RGB when an Adobe marker says transform 0, else YCbCr unless the component ids spell RGB.
     */
    boolean isYCbCr() {
        if (jfif) return true;
        if (adobeTransform != NO_ADOBE) return adobeTransform != 0;
        return !(componentIds.length == 3 && componentIds[0] == 'R' && componentIds[1] == 'G' && componentIds[2] == 'B');
    }
}
