package dev.navil4j.image;

import java.util.Objects;

/**
 * An 8-bit RGB image as Pillow holds a mode "RGB" image: {@code rgb} is row-major, interleaved
 * R,G,B (HWC), {@code height * width * 3} bytes (read them with {@code & 0xFF}).
 */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        Objects.requireNonNull(rgb, "rgb");
        if (width <= 0 || height <= 0) throw new ImageException("image size must be positive, got " + width + "x" + height);
        if ((long) width * height * 3 != rgb.length)
            throw new ImageException("rgb buffer has " + rgb.length + " bytes, expected " + width + "x" + height + "x3");
    }

    /** A black image (all zero), like {@code Image.new('RGB', (w, h))}. */
    public static RgbImage black(int width, int height) {
        if (width <= 0 || height <= 0) throw new ImageException("image size must be positive, got " + width + "x" + height);
        return new RgbImage(width, height, new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)]);
    }

    /** Sample value 0..255 of channel {@code c} at (x, y). */
    public int get(int x, int y, int c) { return rgb[(y * width + x) * 3 + c] & 0xFF; }

    /**
     * Pillow's {@code Image.crop((left, top, right, bottom))}: pixels outside the image are 0 (black),
     * as Pillow fills them.
     */
    public RgbImage crop(int left, int top, int right, int bottom) {
        int w = right - left, h = bottom - top;
        RgbImage out = black(w, h);
        for (int y = 0; y < h; y++) {
            int sy = y + top;
            if (sy < 0 || sy >= height) continue;
            int x0 = Math.max(0, -left), x1 = Math.min(w, width - left);
            if (x1 <= x0) continue;
            System.arraycopy(rgb, (sy * width + left + x0) * 3, out.rgb, (y * w + x0) * 3, (x1 - x0) * 3);
        }
        return out;
    }

    /** Pillow's {@code dst.paste(this, (x, y))} onto a copy of {@code dst}; parts outside dst are clipped. */
    public RgbImage pasteOnto(RgbImage dst, int x, int y) {
        byte[] out = dst.rgb.clone();
        for (int row = 0; row < height; row++) {
            int dy = row + y;
            if (dy < 0 || dy >= dst.height) continue;
            int x0 = Math.max(0, -x), x1 = Math.min(width, dst.width - x);
            if (x1 <= x0) continue;
            System.arraycopy(rgb, (row * width + x0) * 3, out, (dy * dst.width + x + x0) * 3, (x1 - x0) * 3);
        }
        return new RgbImage(dst.width, dst.height, out);
    }

    /** An image filled with one colour (Pillow's {@code Image.new('RGB', size, color)}). */
    public static RgbImage filled(int width, int height, int r, int g, int b) {
        RgbImage img = black(width, height);
        for (int i = 0; i < img.rgb.length; i += 3) {
            img.rgb[i] = (byte) r; img.rgb[i + 1] = (byte) g; img.rgb[i + 2] = (byte) b;
        }
        return img;
    }
}
