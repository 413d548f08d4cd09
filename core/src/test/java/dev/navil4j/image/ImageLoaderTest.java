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

    /**
     * Pillow ignores embedded ICC profiles in convert('RGB'): a JPEG with an APP2 ICC_PROFILE (here a
     * non-sRGB one, linear RGB) must decode to the same bytes as without it.
     */
    @Test
    void embeddedIccProfileIsIgnored() throws Exception {
        byte[] jpg = Files.readAllBytes(Path.of("fixtures/images/red_panda.jpg"));
        byte[] icc = java.awt.color.ICC_Profile.getInstance(java.awt.color.ColorSpace.CS_LINEAR_RGB).getData();
        ByteArrayOutputStream seg = new ByteArrayOutputStream();
        byte[] head = "ICC_PROFILE\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        int len = 2 + head.length + 2 + icc.length;
        assertThat(len).isLessThan(65536);
        seg.write(0xFF); seg.write(0xE2); seg.write(len >> 8); seg.write(len & 0xFF);
        seg.writeBytes(head); seg.write(1); seg.write(1); seg.writeBytes(icc);
        ByteArrayOutputStream withIcc = new ByteArrayOutputStream();
        withIcc.write(jpg, 0, 2);
        withIcc.writeBytes(seg.toByteArray());
        withIcc.write(jpg, 2, jpg.length - 2);
        RgbImage a = ImageLoader.loadRgbBytes(jpg, "plain.jpg");
        RgbImage b = ImageLoader.loadRgbBytes(withIcc.toByteArray(), "icc.jpg");
        assertThat(b.rgb()).isEqualTo(a.rgb());
    }

    /** The same for a PNG iCCP chunk (zlib-compressed profile, inserted after IHDR). */
    @Test
    void pngIccpIsIgnored() throws Exception {
        byte[] png = Files.readAllBytes(Path.of("fixtures/images/rgba_256x192.png"));
        byte[] icc = java.awt.color.ICC_Profile.getInstance(java.awt.color.ColorSpace.CS_LINEAR_RGB).getData();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes("lin\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(data);
        z.write(icc);
        z.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, 33);
        out.writeBytes(chunk("iCCP", data.toByteArray()));
        out.write(png, 33, png.length - 33);
        assertThat(ImageLoader.loadRgbBytes(out.toByteArray(), "iccp.png").rgb()).isEqualTo(ImageLoader.loadRgbBytes(png, "p.png").rgb());
    }

    /** Pillow's cmyk2rgb: CLIP8(nk - MULDIV255(c, nk)) with nk = 255 - k. */
    private static int pillowCmyk(int c, int k) {
        int nk = 255 - k, t = c * nk + 128;
        return Math.max(0, Math.min(255, nk - (((t >> 8) + t) >> 8)));
    }

    /**
     * An Adobe (APP14, transform 0) CMYK JPEG as Photoshop writes them: stored values are inverted
     * (Pillow's "CMYK;I"); two flat halves with K = 0 and K = 127 must give Pillow's cmyk2rgb values.
     */
    @Test
    void adobeCmykJpeg() throws Exception {
        java.awt.image.WritableRaster r = java.awt.image.Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, 16, 16, 4, null);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) r.setPixel(x, y, new int[]{255, 205, 155, y < 8 ? 255 : 128});
        javax.imageio.ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (javax.imageio.stream.ImageOutputStream ios = ImageIO.createImageOutputStream(o)) {
            w.setOutput(ios);
            javax.imageio.ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(1f);
            w.write(null, new javax.imageio.IIOImage(r, null, null), p);
        }
        byte[] b = o.toByteArray();
        byte[] adobe = {(byte) 0xFF, (byte) 0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
        ByteArrayOutputStream withAdobe = new ByteArrayOutputStream();
        withAdobe.write(b, 0, 2);
        withAdobe.writeBytes(adobe);
        withAdobe.write(b, 2, b.length - 2);
        RgbImage img = ImageLoader.loadRgbBytes(withAdobe.toByteArray(), "cmyk.jpg");
        int[][] cmyk = {{0, 50, 100, 0}, {0, 50, 100, 127}};   // 255 - stored
        for (int half = 0; half < 2; half++)
            for (int c = 0; c < 3; c++)
                assertThat(img.get(4, half == 0 ? 3 : 12, c)).as("half %d channel %d", half, c)
                        .isCloseTo(pillowCmyk(cmyk[half][c], cmyk[half][3]), org.assertj.core.data.Offset.offset(1));
    }

    /** A hand-made GIF: 4x3 logical screen, one 2x1 frame of index 1 at (1, 1); palette {(9,8,7), (200,100,50)}. */
    private static byte[] gif(boolean transparentIndex1) {
        ByteArrayOutputStream g = new ByteArrayOutputStream();
        g.writeBytes("GIF89a".getBytes());
        g.writeBytes(new byte[]{4, 0, 3, 0, (byte) 0x80, 0, 0});   // screen 4x3, global table of 2 colours
        g.writeBytes(new byte[]{9, 8, 7, (byte) 200, 100, 50});
        if (transparentIndex1) g.writeBytes(new byte[]{0x21, (byte) 0xF9, 4, 1, 0, 0, 1, 0});
        g.writeBytes(new byte[]{0x2C, 1, 0, 1, 0, 2, 0, 1, 0, 0});  // frame at (1,1), 2x1, no local table
        // LZW, min code size 2: codes clear(4), 1, 1, eoi(5) in 3 bits each, LSB first -> 0x4C 0x0A
        g.writeBytes(new byte[]{2, 2, 0x4C, 0x0A, 0, 0x3B});
        return g.toByteArray();
    }

    @Test
    void gifFramePlacedOnLogicalScreenAsPillow() {
        RgbImage img = ImageLoader.loadRgbBytes(gif(false), "g.gif");
        assertThat(img.width()).isEqualTo(4);
        assertThat(img.height()).isEqualTo(3);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++) {
                boolean frame = y == 1 && (x == 1 || x == 2);
                assertThat(img.get(x, y, 0)).as("(%d,%d)", x, y).isEqualTo(frame ? 200 : 9);
                assertThat(img.get(x, y, 2)).isEqualTo(frame ? 50 : 7);
            }
        // with a transparency index the canvas is filled with that index (its colour; alpha is dropped)
        RgbImage t = ImageLoader.loadRgbBytes(gif(true), "t.gif");
        assertThat(t.get(0, 0, 0)).isEqualTo(200);
    }

    /**
     * A 1x1 lossless (VP8L) file (the well-known feature-detection sample) decodes, its alpha is dropped.
     * Lossy (Vp8Decoder) and lossless (Vp8lDecoder) WebP are checked against Pillow/libwebp file by file
     * in ImageCorpusTest.
     */
    @Test
    void webpLosslessDecodes() {
        byte[] b = java.util.Base64.getDecoder().decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==");
        RgbImage img = ImageLoader.loadRgbBytes(b, "one.webp");
        assertThat(img.width()).isEqualTo(1);
        assertThat(img.height()).isEqualTo(1);
        assertThat(img.rgb()).hasSize(3);
    }

    @Test
    void formatsNotClaimedAreRefusedByName() throws IOException {
        byte[] tiff = encode(new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB), "tiff");
        assertThatThrownBy(() -> ImageLoader.loadRgbBytes(tiff, "scan.tif"))
                .isInstanceOf(ImageException.class).hasMessageContaining("TIF").hasMessageContaining("not supported");
    }

    @Test
    void whatPillowRefusesIsRefusedWithItsReason() {
        Path c = Path.of("fixtures/image-corpus");
        assertThatThrownBy(() -> ImageLoader.loadRgb(c.resolve("bmpsuite/q_rgb32-7187.bmp")))
                .isInstanceOf(ImageException.class).hasMessageContaining("unsupported BMP bitfields layout");
        assertThatThrownBy(() -> ImageLoader.loadRgb(c.resolve("bmpsuite/q_rgba32abf.bmp")))
                .isInstanceOf(ImageException.class).hasMessageContaining("unsupported BMP compression (6)");
        assertThatThrownBy(() -> ImageLoader.loadRgb(c.resolve("jpeg-decoder-reftest/lossless_2_MR4.jpg")))
                .isInstanceOf(ImageException.class).hasMessageContaining("12-bit");
        assertThatThrownBy(() -> ImageLoader.loadRgb(c.resolve("libjpeg-turbo/testimgari.jpg")))
                .isInstanceOf(ImageException.class).hasMessageContaining("arithmetic-coded");
        assertThatThrownBy(() -> ImageLoader.loadRgb(c.resolve("truncated-generated/test_cut70.webp")))
                .isInstanceOf(ImageException.class).hasMessageContaining("truncated");
    }

    @Test
    void hugeLossyWebpHeaderIsRefusedBeforeDecoding() {
        // RIFF/WEBP with a "VP8 " chunk whose key-frame header says 16383 x 16383 and no data behind it.
        byte[] vp8 = {(byte) 0x50, 0x00, 0x00, (byte) 0x9d, 0x01, 0x2a, (byte) 0xff, 0x3f, (byte) 0xff, 0x3f, 0, 0};
        ByteBuffer b = ByteBuffer.allocate(20 + vp8.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(12 + vp8.length).put("WEBPVP8 ".getBytes()).putInt(vp8.length).put(vp8);
        assertThatThrownBy(() -> ImageLoader.loadRgbBytes(b.array(), "bomb.webp"))
                .isInstanceOf(ImageException.class).hasMessageContaining("16383x16383").hasMessageContaining("decompression bomb");
    }
}
