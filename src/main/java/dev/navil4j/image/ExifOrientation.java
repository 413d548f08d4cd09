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

    /** The orientation 1..8 stored in the file, or 1 when there is none or it cannot be parsed. */
    public static int read(byte[] file) {
        try {
            ByteBuffer tiff = findTiff(file);
            return tiff == null ? 1 : orientation(tiff);
        } catch (RuntimeException e) {
            return 1;   // broken EXIF is ignored, as Pillow ignores unreadable EXIF data
        }
    }

    private static ByteBuffer findTiff(byte[] f) {
        if (f.length > 4 && (f[0] & 0xFF) == 0xFF && (f[1] & 0xFF) == 0xD8) {   // JPEG markers up to SOS
            int p = 2;
            while (p + 4 <= f.length && (f[p] & 0xFF) == 0xFF) {
                int marker = f[p + 1] & 0xFF;
                if (marker == 0xDA || marker == 0xD9) break;
                int len = ((f[p + 2] & 0xFF) << 8) | (f[p + 3] & 0xFF);
                if (marker == 0xE1 && len >= 8 && startsWith(f, p + 4, "Exif\0\0"))
                    return ByteBuffer.wrap(f, p + 10, Math.min(len - 8, f.length - p - 10)).slice();
                p += 2 + len;
            }
            return null;
        }
        if (f.length > 8 && startsWith(f, 1, "PNG")) {
            int p = 8;
            while (p + 8 <= f.length) {
                int len = ByteBuffer.wrap(f, p, 4).getInt();
                String type = new String(f, p + 4, 4, StandardCharsets.ISO_8859_1);
                if (len < 0 || p + 8L + len > f.length) return null;
                if (type.equals("eXIf")) return ByteBuffer.wrap(f, p + 8, len).slice();
                if (type.equals("IEND")) return null;
                p += 12 + len;
            }
            return null;
        }
        if (f.length > 12 && startsWith(f, 0, "RIFF") && startsWith(f, 8, "WEBP")) {
            int p = 12;
            while (p + 8 <= f.length) {
                int len = ByteBuffer.wrap(f, p + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                if (len < 0 || p + 8L + len > f.length) return null;
                if (startsWith(f, p, "EXIF")) {
                    int off = startsWith(f, p + 8, "Exif\0\0") ? 6 : 0;
                    return ByteBuffer.wrap(f, p + 8 + off, len - off).slice();
                }
                p += 8 + len + (len & 1);
            }
        }
        return null;
    }

    /** IFD0's Orientation entry of a TIFF structure. */
    private static int orientation(ByteBuffer t) {
        if (t.get(0) == 'I' && t.get(1) == 'I') t.order(ByteOrder.LITTLE_ENDIAN);
        else if (t.get(0) == 'M' && t.get(1) == 'M') t.order(ByteOrder.BIG_ENDIAN);
        else return 1;
        int ifd = t.getInt(4);
        int n = t.getShort(ifd) & 0xFFFF;
        for (int i = 0; i < n; i++) {
            int e = ifd + 2 + 12 * i;
            if ((t.getShort(e) & 0xFFFF) == 0x0112) {
                int type = t.getShort(e + 2) & 0xFFFF;
                int v = type == 3 ? t.getShort(e + 8) & 0xFFFF : type == 4 ? t.getInt(e + 8) : 1;
                return v >= 1 && v <= 8 ? v : 1;
            }
        }
        return 1;
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
