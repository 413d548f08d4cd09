package dev.navil4j.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Damaged files must give an image or an {@link ImageException}, never another exception or a hang:
 * seeded random byte changes and cuts of corpus files of every format, weighted towards the hand-written
 * decoders (lossy and lossless WebP, RLE BMP) and the header pre-parsers (JPEG, BMP, WebP RIFF).
 */
class ImageFuzzTest {
    private static final String[] FILES = {
            "libwebp/test.webp", "libwebp/vp80-00-comprehensive-007.webp", "libwebp/vp80-03-segmentation-1437.webp",
            "libwebp/lossy_alpha4.webp", "libwebp/small_31x13.webp", "animated-generated/anim3_lossy.webp",
            "libwebp/lossless1.webp", "libwebp/lossless_vec_2_3.webp", "libwebp/lossless_color_transform.webp",
            "animated-generated/anim3_lossless.webp",
            "bmpsuite/g_pal8rle.bmp", "bmpsuite/g_pal4rle.bmp", "bmpsuite/g_rgb16-565.bmp", "bmpsuite/q_pal8os2v2.bmp",
            "jpeg-decoder-reftest/ycck.jpg", "jpeg-decoder-reftest/mjpeg.jpg", "libjpeg-turbo/testorig.jpg",
            "pngsuite/ftbwn0g16.png", "orientation-generated/png_rawprofile_ztxt_o3.png", "animated-generated/anim3.gif",
    };

    @Test
    @Timeout(300)
    void damagedFilesGiveAnImageOrAClearError() throws IOException {
        SplittableRandom rnd = new SplittableRandom(13);
        List<String> unclear = new ArrayList<>();
        int decoded = 0, refused = 0;
        for (String name : FILES) {
            byte[] orig = Files.readAllBytes(Path.of("fixtures/image-corpus").resolve(name));
            for (int k = 0; k < 40; k++) {
                byte[] b = orig.clone();
                if (k % 4 == 3) {
                    b = java.util.Arrays.copyOf(orig, 1 + rnd.nextInt(orig.length));
                } else {
                    int n = 1 + rnd.nextInt(k % 4 == 0 ? 1 : 8);
                    // the first 512 bytes (headers) get half of the changes
                    for (int i = 0; i < n; i++) {
                        int at = rnd.nextBoolean() ? rnd.nextInt(Math.min(512, b.length)) : rnd.nextInt(b.length);
                        b[at] = (byte) rnd.nextInt(256);
                    }
                }
                try {
                    ImageLoader.loadRgbBytes(b, name);
                    ExifOrientation.read(b);
                    decoded++;
                } catch (ImageException e) {
                    refused++;
                } catch (RuntimeException | OutOfMemoryError e) {
                    unclear.add(name + " #" + k + ": " + e);
                }
            }
        }
        System.out.println("[image fuzz] decoded " + decoded + ", refused " + refused);
        assertThat(unclear).isEmpty();
        assertThat(decoded).isPositive();
        assertThat(refused).isPositive();
    }
}
