package dev.navil4j.image;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageLoaderTest {
    private static byte[] encode(BufferedImage img, String fmt) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(img, fmt, out)).isTrue();
        return out.toByteArray();
    }

    private static byte[] chunk(String type, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(12 + data.length);
        b.putInt(data.length).put(type.getBytes()).put(data);
        CRC32 crc = new CRC32();
        crc.update(type.getBytes());
        crc.update(data);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    @Test
    void oneByOnePng() throws IOException {
        BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0x123456);
        RgbImage rgb = new ImageLoader(100).decode(encode(img, "png"), "1x1.png");
        assertThat(rgb.width()).isEqualTo(1);
        assertThat(rgb.rgb()).containsExactly(0x12, 0x34, 0x56);
    }

    @Test
    void hugePngHeaderIsRefusedBeforeDecoding() {
        // A valid signature + IHDR of 40000 x 40000 RGB and no image data at all: only the header check can
        // reject it with the size message (decoding would fail differently, or allocate 4.8 GB).
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(40000).putInt(40000).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        png.writeBytes(chunk("IHDR", ihdr.array()));
        png.writeBytes(chunk("IEND", new byte[0]));
        assertThatThrownBy(() -> ImageLoader.loadRgbBytes(png.toByteArray(), "bomb.png"))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining("40000x40000")
                .hasMessageContaining("decompression bomb");
        // a configurable limit
        assertThatThrownBy(() -> new ImageLoader(15).decode(encode(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png"), "x.png"))
                .isInstanceOf(ImageException.class).hasMessageContaining("exceeds the limit of 15 pixels");
    }

    @Test
    void nonImageEmptyAndTruncatedFilesGiveClearErrors(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> ImageLoader.loadRgbBytes("hello, not an image\n".getBytes(), "a.txt"))
                .isInstanceOf(ImageException.class).hasMessageContaining("not a recognised image format");
        assertThatThrownBy(() -> ImageLoader.loadRgbBytes(new byte[0], "empty.png"))
                .isInstanceOf(ImageException.class).hasMessageContaining("empty file");
        assertThatThrownBy(() -> ImageLoader.loadRgb(dir.resolve("missing.png")))
                .isInstanceOf(ImageException.class).hasMessageContaining("cannot read file");
        byte[] jpg = Files.readAllBytes(Path.of("fixtures/images/red_panda.jpg"));
        byte[] cut = Arrays.copyOf(jpg, jpg.length / 2);
        assertThatThrownBy(() -> ImageLoader.loadRgbBytes(cut, "cut.jpg"))
                .isInstanceOf(ImageException.class).hasMessageContaining("cut.jpg");
        byte[] png = Files.readAllBytes(Path.of("fixtures/images/tiny_40x30.png"));
        byte[] cutPng = Arrays.copyOf(png, png.length - 30);
        assertThatThrownBy(() -> ImageLoader.loadRgbBytes(cutPng, "cut.png"))
                .isInstanceOf(ImageException.class).hasMessageContaining("cut.png");
        byte[] header = Arrays.copyOf(jpg, 20);
        assertThatThrownBy(() -> ImageLoader.loadRgbBytes(header, "head.jpg")).isInstanceOf(ImageException.class);
    }

    @Test
    void pillowConvertRules() throws IOException {
        // 16-bit gray (Pillow mode I;16): convert('RGB') clips to 255, it does not shift.
        BufferedImage g16 = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        g16.getRaster().setSample(0, 0, 0, 7);
        g16.getRaster().setSample(1, 0, 0, 255);
        g16.getRaster().setSample(2, 0, 0, 40000);
        assertThat(ImageLoader.loadRgbBytes(encode(g16, "png"), "g16.png").rgb())
                .containsExactly(7, 7, 7, (byte) 255, (byte) 255, (byte) 255, (byte) 255, (byte) 255, (byte) 255);
        // 16-bit RGB(A) (Pillow unpacks RGB;16B / RGBA;16B): the high byte
        for (boolean alpha : new boolean[]{false, true}) {
            java.awt.image.ComponentColorModel cm16 = new java.awt.image.ComponentColorModel(
                    java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_sRGB), alpha, false,
                    alpha ? java.awt.Transparency.TRANSLUCENT : java.awt.Transparency.OPAQUE, java.awt.image.DataBuffer.TYPE_USHORT);
            java.awt.image.WritableRaster wr = cm16.createCompatibleWritableRaster(1, 1);
            wr.setPixel(0, 0, alpha ? new int[]{0x12FF, 0xAB01, 0x00FF, 0x1234} : new int[]{0x12FF, 0xAB01, 0x00FF});
            byte[] png16 = encode(new BufferedImage(cm16, wr, false, null), "png");
            assertThat(ImageLoader.loadRgbBytes(png16, "rgb16.png").rgb()).as("alpha=%s", alpha).containsExactly(0x12, (byte) 0xAB, 0x00);
        }
        // 8-bit gray: raw values replicated (no gamma / colour-space conversion)
        BufferedImage g8 = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        g8.getRaster().setSample(0, 0, 0, 10);
        g8.getRaster().setSample(1, 0, 0, 200);
        assertThat(ImageLoader.loadRgbBytes(encode(g8, "png"), "g8.png").rgb()).containsExactly(10, 10, 10, (byte) 200, (byte) 200, (byte) 200);
        // RGBA: alpha dropped, colour kept even where alpha is 0
        BufferedImage rgba = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0x00FF8040);
        rgba.setRGB(1, 0, 0x80102030);
        assertThat(ImageLoader.loadRgbBytes(encode(rgba, "png"), "a.png").rgb()).containsExactly((byte) 0xFF, (byte) 0x80, 0x40, 0x10, 0x20, 0x30);
        // palette (also via GIF)
        IndexColorModel pal = new IndexColorModel(8, 2, new byte[]{1, (byte) 250}, new byte[]{2, 9}, new byte[]{3, 77});
        BufferedImage p = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED, pal);
        p.getRaster().setSample(1, 0, 0, 1);
        for (String fmt : new String[]{"png", "gif"})   // (the JDK BMP writer drops 1-bit palette pixels)
            assertThat(ImageLoader.loadRgbBytes(encode(p, fmt), "p." + fmt).rgb()).as(fmt).containsExactly(1, 2, 3, (byte) 250, 9, 77);
        BufferedImage bgr = new BufferedImage(2, 2, BufferedImage.TYPE_3BYTE_BGR);
        bgr.setRGB(1, 1, 0xA1B2C3);
        assertThat(ImageLoader.loadRgbBytes(encode(bgr, "bmp"), "c.bmp").rgb()).endsWith((byte) 0xA1, (byte) 0xB2, (byte) 0xC3);
    }

    /** decoded_rgb_sha256 recorded by the NaViL fixtures for Pillow's RGB bytes (JPEG via libjpeg-turbo, L, RGBA). */
    @Test
    void decodedBytesMatchPillow() throws Exception {
        String[][] cases = {
                {"navil-photo_1000x747.jpg", "7c9c583a1197dadfa8e366084d62dc7637fcd26b96b3d956a5940bea48861797"},
                {"navil-gray_320x240.png", "01d3d94639a8e6c7b7ee268fb061332d2f95fc0aeb1dbe53c188f3c0b37341fd"},
                {"navil-rgba_300x220.png", "7f47e04d25b7bf70d809220d918e531c156a1bd1df7746c8f88a685fa1f5cc87"},
                {"navil-tiny_40x30.png", "ea0204f946a5d0bcdaa90f7fd8c83b6af49512899020ec2b109a2c0701371a69"},
        };
        for (String[] c : cases) {
            RgbImage img = ImageLoader.loadRgb(Path.of("fixtures/images", c[0]));
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(img.rgb());
            assertThat(java.util.HexFormat.of().formatHex(d)).as(c[0]).isEqualTo(c[1]);
        }
    }
}
