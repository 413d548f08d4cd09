package dev.navil4j.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The EXIF Orientation tag (0x0112) of a JPEG (APP1 "Exif"), PNG (eXIf chunk) or WebP (EXIF chunk)
 * file, and Pillow's {@code ImageOps.exif_transpose} of an RGB image by it — what transformers'
 * {@code load_image} (used by VoRA's processor) applies before {@code convert('RGB')}. InternVL's and
 * NaViL's {@code Image.open(...).convert('RGB')} do not transpose.
 */
public final class ExifOrientation {
    private ExifOrientation() {}

    /**
     * The orientation 1..8 that Pillow's {@code Image.getexif()} reports for the file, or 1 when there is
     * none or it cannot be parsed. As Pillow (Image.py getexif): the EXIF block (JPEG APP1 "Exif", PNG
     * eXIf chunk or else its "Raw profile type exif" text chunk, WebP EXIF chunk); when that has no
     * Orientation tag, the first {@code tiff:Orientation="d"} / {@code <tiff:Orientation>d} of the XMP
     * packet (JPEG APP1 XMP, PNG iTXt "XML:com.adobe.xmp", WebP XMP chunk).
     */
    public static int read(byte[] file) {
        Integer fromExif = null;
        try {
            ByteBuffer tiff = findTiff(file);
            if (tiff != null) fromExif = orientation(tiff);
        } catch (RuntimeException e) {
            fromExif = null;   // broken EXIF reads as an empty one in Pillow, which then looks at XMP
        }
        if (fromExif == null) {
            try {
                fromExif = xmpOrientation(findXmp(file));
            } catch (RuntimeException e) {
                fromExif = null;
            }
        }
        int v = fromExif == null ? 1 : fromExif;
        return v >= 1 && v <= 8 ? v : 1;   // exif_transpose transposes for 2..8 only
    }

    /** Pillow's Exif.load drops a leading "Exif\0\0" from every source. */
    private static ByteBuffer tiffOf(byte[] f, int off, int len) {
        if (len >= 6 && startsWith(f, off, "Exif\0\0")) { off += 6; len -= 6; }
        return ByteBuffer.wrap(f, off, len).slice();
    }

    private static ByteBuffer findTiff(byte[] f) {
        if (f.length > 4 && (f[0] & 0xFF) == 0xFF && (f[1] & 0xFF) == 0xD8) {   // JPEG markers up to SOS
            int p = 2;
            while (p + 4 <= f.length && (f[p] & 0xFF) == 0xFF) {
                int marker = f[p + 1] & 0xFF;
                if (marker == 0xDA || marker == 0xD9) break;
                int len = ((f[p + 2] & 0xFF) << 8) | (f[p + 3] & 0xFF);
                if (marker == 0xE1 && len >= 8 && startsWith(f, p + 4, "Exif\0\0"))
                    return tiffOf(f, p + 4, Math.min(len - 2, f.length - p - 4));
                p += 2 + len;
            }
            return null;
        }
        if (isPng(f)) {
            byte[][] exif = {null}, raw = {null};
            pngChunks(f, (type, off, len) -> {
                if (type.equals("eXIf") && exif[0] == null) exif[0] = java.util.Arrays.copyOfRange(f, off, off + len);
                if (type.equals("tEXt") || type.equals("zTXt") || type.equals("iTXt")) {
                    String[] kv = pngText(type, f, off, len);
                    if (kv != null && kv[0].equals("Raw profile type exif")) raw[0] = rawProfile(kv[1]);
                }
            });
            byte[] b = exif[0] != null ? exif[0] : raw[0];
            return b == null ? null : tiffOf(b, 0, b.length);
        }
        if (isWebp(f)) {
            int[] c = webpChunk(f, "EXIF");
            return c == null ? null : tiffOf(f, c[0], c[1]);
        }
        return null;
    }

    /** ImageMagick's "Raw profile type exif" text: "\nexif\n   &lt;length&gt;\n&lt;hex lines&gt;"; Pillow joins lines 3.. and reads hex. */
    private static byte[] rawProfile(String text) {
        String[] lines = text.split("\n", -1);
        StringBuilder hex = new StringBuilder();
        for (int i = 3; i < lines.length; i++) hex.append(lines[i]);
        String h = hex.toString().replaceAll("[ \t\r\f\u000b]", "");   // bytes.fromhex skips ASCII whitespace
        return java.util.HexFormat.of().parseHex(h);
    }

    private static boolean isPng(byte[] f) { return f.length > 8 && startsWith(f, 1, "PNG"); }

    private static boolean isWebp(byte[] f) { return f.length > 12 && startsWith(f, 0, "RIFF") && startsWith(f, 8, "WEBP"); }

    private interface ChunkVisitor { void visit(String type, int off, int len); }

    private static void pngChunks(byte[] f, ChunkVisitor v) {
        int p = 8;
        while (p + 8 <= f.length) {
            int len = ByteBuffer.wrap(f, p, 4).getInt();
            String type = new String(f, p + 4, 4, StandardCharsets.ISO_8859_1);
            if (len < 0 || p + 8L + len > f.length) return;
            v.visit(type, p + 8, len);
            if (type.equals("IEND")) return;
            p += 12 + len;
        }
    }

    /** {keyword, text} of a PNG text chunk (zTXt and compressed iTXt inflated), or null if malformed. */
    private static String[] pngText(String type, byte[] f, int off, int len) {
        int end = off + len, z = off;
        while (z < end && f[z] != 0) z++;
        if (z >= end) return null;
        String key = new String(f, off, z - off, StandardCharsets.ISO_8859_1);
        int p = z + 1;
        switch (type) {
            case "tEXt":
                return new String[]{key, new String(f, p, end - p, StandardCharsets.ISO_8859_1)};
            case "zTXt":
                if (p >= end) return null;
                return new String[]{key, new String(inflate(f, p + 1, end - p - 1), StandardCharsets.ISO_8859_1)};
            default: {   // iTXt: flag, method, language\0, translated keyword\0, text (UTF-8)
                if (p + 2 > end) return null;
                boolean compressed = f[p] != 0;
                int q = p + 2;
                for (int n = 0; n < 2; n++) {
                    while (q < end && f[q] != 0) q++;
                    q++;
                }
                if (q > end) return null;
                byte[] text = compressed ? inflate(f, q, end - q) : java.util.Arrays.copyOfRange(f, q, end);
                return new String[]{key, new String(text, StandardCharsets.UTF_8)};
            }
        }
    }

    private static byte[] inflate(byte[] f, int off, int len) {
        java.util.zip.Inflater inf = new java.util.zip.Inflater();
        try {
            inf.setInput(f, off, len);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!inf.finished()) {
                int n = inf.inflate(buf);
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) break;
                out.write(buf, 0, n);
                if (out.size() > (16 << 20)) throw new IllegalStateException("text chunk too large");
            }
            return out.toByteArray();
        } catch (java.util.zip.DataFormatException e) {
            throw new IllegalStateException(e);
        } finally {
            inf.end();
        }
    }

    /** {offset, length} of the first WebP chunk with this FourCC. */
    private static int[] webpChunk(byte[] f, String fourcc) {
        int p = 12;
        while (p + 8 <= f.length) {
            int len = ByteBuffer.wrap(f, p + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (len < 0 || p + 8L + len > f.length) return null;
            if (startsWith(f, p, fourcc)) return new int[]{p + 8, len};
            p += 8 + len + (len & 1);
        }
        return null;
    }

    /** The XMP packet as Pillow's info holds it ("xmp" bytes or PNG's "XML:com.adobe.xmp" text), or null. */
    private static String findXmp(byte[] f) {
        if (f.length > 4 && (f[0] & 0xFF) == 0xFF && (f[1] & 0xFF) == 0xD8) {
            String ns = "http://ns.adobe.com/xap/1.0/\0";
            String found = null;
            int p = 2;
            while (p + 4 <= f.length && (f[p] & 0xFF) == 0xFF) {
                int marker = f[p + 1] & 0xFF;
                if (marker == 0xDA || marker == 0xD9) break;
                int len = ((f[p + 2] & 0xFF) << 8) | (f[p + 3] & 0xFF);
                if (len < 2 || p + 2 + len > f.length) break;
                // JpegImagePlugin.APP: info["xmp"] = the segment after the namespace's NUL (the last such segment)
                if (marker == 0xE1 && startsWith(f, p + 4, ns))
                    found = new String(f, p + 4 + ns.length(), len - 2 - ns.length(), StandardCharsets.ISO_8859_1);
                p += 2 + len;
            }
            return found;
        }
        if (isPng(f)) {
            String[] xmp = {null};
            pngChunks(f, (type, off, len) -> {
                if (type.equals("iTXt") || type.equals("tEXt") || type.equals("zTXt")) {
                    String[] kv = pngText(type, f, off, len);
                    if (kv != null && kv[0].equals("XML:com.adobe.xmp")) xmp[0] = kv[1];
                }
            });
            return xmp[0];
        }
        if (isWebp(f)) {
            int[] c = webpChunk(f, "XMP ");
            return c == null ? null : new String(f, c[0], c[1], StandardCharsets.ISO_8859_1);
        }
        return null;
    }

    private static final java.util.regex.Pattern XMP_ORIENTATION = java.util.regex.Pattern.compile("tiff:Orientation(=\"|>)([0-9])");

    private static Integer xmpOrientation(String xmp) {
        if (xmp == null) return null;
        java.util.regex.Matcher m = XMP_ORIENTATION.matcher(xmp);
        return m.find() ? Integer.valueOf(m.group(2)) : null;
    }

    /** IFD0's Orientation entry of a TIFF structure. */
    private static Integer orientation(ByteBuffer t) {
        if (t.get(0) == 'I' && t.get(1) == 'I') t.order(ByteOrder.LITTLE_ENDIAN);
        else if (t.get(0) == 'M' && t.get(1) == 'M') t.order(ByteOrder.BIG_ENDIAN);
        else return null;
        int ifd = t.getInt(4);
        int n = t.getShort(ifd) & 0xFFFF;
        for (int i = 0; i < n; i++) {
            int e = ifd + 2 + 12 * i;
            if ((t.getShort(e) & 0xFFFF) == 0x0112) {
                int type = t.getShort(e + 2) & 0xFFFF;
                return type == 3 ? t.getShort(e + 8) & 0xFFFF : type == 4 ? t.getInt(e + 8) : 1;
            }
        }
        return null;   // no Orientation tag: Pillow then looks at XMP
    }

    private static boolean startsWith(byte[] f, int off, String s) {
        if (off + s.length() > f.length) return false;
        for (int i = 0; i < s.length(); i++) if (f[off + i] != (byte) s.charAt(i)) return false;
        return true;
    }

    /**
     * {@code ImageOps.exif_transpose}: orientation 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM,
     * 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90 (Pillow's rotations are counter-clockwise).
     */
    public static RgbImage apply(RgbImage in, int orientation) {
        if (orientation <= 1 || orientation > 8) return in;
        int W = in.width(), H = in.height();
        boolean swap = orientation >= 5;
        int ow = swap ? H : W, oh = swap ? W : H;
        byte[] src = in.rgb(), dst = new byte[src.length];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                int sx, sy;
                switch (orientation) {
                    case 2 -> { sx = W - 1 - x; sy = y; }
                    case 3 -> { sx = W - 1 - x; sy = H - 1 - y; }
                    case 4 -> { sx = x; sy = H - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = H - 1 - x; }
                    case 7 -> { sx = W - 1 - y; sy = H - 1 - x; }
                    default -> { sx = W - 1 - y; sy = x; }   // 8
                }
                System.arraycopy(src, (sy * W + sx) * 3, dst, (y * ow + x) * 3, 3);
            }
        return new RgbImage(ow, oh, dst);
    }
}
