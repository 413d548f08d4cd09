package dev.navil4j.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

class ExifOrientationTest {
    /** A 3x2 image whose pixel (x, y) has R = 10x + y + 1 (so every pixel is distinct). */
    private static BufferedImage sample() {
        BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 2; y++) for (int x = 0; x < 3; x++) img.setRGB(x, y, (10 * x + y + 1) << 16);
        return img;
    }

    /** PNG bytes with an eXIf chunk (big-endian TIFF, IFD0 with one SHORT Orientation entry) after IHDR. */
    private static byte[] pngWithOrientation(int orientation) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ImageIO.write(sample(), "png", o);
        byte[] png = o.toByteArray();
        ByteBuffer tiff = ByteBuffer.allocate(26).put("MM".getBytes()).putShort((short) 42).putInt(8)
                .putShort((short) 1).putShort((short) 0x0112).putShort((short) 3).putInt(1)
                .putShort((short) orientation).putShort((short) 0);
        byte[] data = tiff.array();
        ByteBuffer chunk = ByteBuffer.allocate(12 + data.length).putInt(data.length).put("eXIf".getBytes()).put(data);
        CRC32 crc = new CRC32();
        crc.update("eXIf".getBytes());
        crc.update(data);
        chunk.putInt((int) crc.getValue());
        int afterIhdr = 8 + 25;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, afterIhdr);
        out.write(chunk.array());
        out.write(png, afterIhdr, png.length - afterIhdr);
        return out.toByteArray();
    }

    private static int r(RgbImage img, int x, int y) { return img.get(x, y, 0); }

    @Test
    void orientationsMatchPillowTransposeSemantics(@TempDir Path dir) throws Exception {
        for (int ori = 1; ori <= 8; ori++) {
            Path p = Files.write(dir.resolve("o" + ori + ".png"), pngWithOrientation(ori));
            assertThat(ExifOrientation.read(Files.readAllBytes(p))).isEqualTo(ori);
            RgbImage t = ImageLoader.loadRgbExifTransposed(p);
            RgbImage plain = ImageLoader.loadRgb(p);
            assertThat(plain.width()).isEqualTo(3);
            assertThat(t.width()).isEqualTo(ori >= 5 ? 2 : 3);
            // each output pixel must be the source pixel the EXIF spec maps there (independent table):
            for (int y = 0; y < t.height(); y++)
                for (int x = 0; x < t.width(); x++) {
                    int[] s = sourceOf(ori, x, y, 3, 2);
                    assertThat(r(t, x, y)).as("ori %d (%d,%d)", ori, x, y).isEqualTo(10 * s[0] + s[1] + 1);
                }
        }
    }

    /**
     * EXIF orientation meaning (where the stored row 0 / column 0 is displayed): the displayed pixel
     * (x, y) of a W x H stored image comes from stored pixel sourceOf(...).
     */
    private static int[] sourceOf(int ori, int x, int y, int w, int h) {
        return switch (ori) {
            case 1 -> new int[]{x, y};
            case 2 -> new int[]{w - 1 - x, y};            // mirrored horizontally
            case 3 -> new int[]{w - 1 - x, h - 1 - y};    // rotated 180
            case 4 -> new int[]{x, h - 1 - y};            // mirrored vertically
            case 5 -> new int[]{y, x};                    // mirrored + 90 CCW = transpose
            case 6 -> new int[]{y, h - 1 - x};            // needs 90 CW to display
            case 7 -> new int[]{w - 1 - y, h - 1 - x};    // transverse
            default -> new int[]{w - 1 - y, x};           // 8: needs 90 CCW
        };
    }

    @Test
    void noExifMeansOne() throws Exception {
        assertThat(ExifOrientation.read(Files.readAllBytes(Path.of("fixtures/images/red_panda.jpg")))).isEqualTo(1);
        assertThat(ExifOrientation.read(new byte[]{1, 2, 3})).isEqualTo(1);
    }
}
