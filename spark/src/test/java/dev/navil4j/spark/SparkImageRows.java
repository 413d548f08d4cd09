package dev.navil4j.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import javax.imageio.ImageIO;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Rows as Spark's {@code image} data source gives them, built here because spark-mllib (which holds the source) is
 * not a dependency. The layout follows the documented ImageSchema: a struct {@code origin} (the file URI),
 * {@code height}, {@code width}, {@code nChannels}, {@code mode} (the OpenCV type: CV_8UC1 = 0, CV_8UC3 = 16,
 * CV_8UC4 = 24) and {@code data}, the pixels row by row in OpenCV channel order: one gray byte, or blue, green, red
 * (and alpha last when the image has one). As the source does, a gray colour space gives one channel of the raw
 * samples, an image with alpha four channels, anything else three.
 */
final class SparkImageRows {
    static final int CV_8UC1 = 0, CV_8UC3 = 16, CV_8UC4 = 24;

    /** The {@code image} column's struct type. */
    static final StructType IMAGE = new StructType()
            .add("origin", DataTypes.StringType, true)
            .add("height", DataTypes.IntegerType, false)
            .add("width", DataTypes.IntegerType, false)
            .add("nChannels", DataTypes.IntegerType, false)
            .add("mode", DataTypes.IntegerType, false)
            .add("data", DataTypes.BinaryType, false);

    private SparkImageRows() {}

    /** The struct for one image file. */
    static Row of(Path file) throws IOException {
        BufferedImage img = ImageIO.read(file.toFile());
        int w = img.getWidth(), h = img.getHeight();
        boolean gray = img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        boolean alpha = img.getColorModel().hasAlpha();
        int ch = gray ? 1 : alpha ? 4 : 3;
        byte[] data = new byte[w * h * ch];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * ch;
                if (gray) {
                    data[o] = (byte) img.getRaster().getSample(x, y, 0);
                    continue;
                }
                int argb = img.getRGB(x, y);
                data[o] = (byte) argb;             // blue
                data[o + 1] = (byte) (argb >> 8);  // green
                data[o + 2] = (byte) (argb >> 16); // red
                if (alpha) data[o + 3] = (byte) (argb >>> 24);
            }
        }
        return struct(file.toUri().toString(), h, w, ch, gray ? CV_8UC1 : alpha ? CV_8UC4 : CV_8UC3, data);
    }

    /** What the source gives for a file it cannot decode (with {@code dropInvalid} off). */
    static Row invalid(String origin) {
        return struct(origin, -1, -1, -1, -1, new byte[0]);
    }

    static Row struct(String origin, int height, int width, int nChannels, int mode, byte[] data) {
        return new GenericRowWithSchema(new Object[] {origin, height, width, nChannels, mode, data}, IMAGE);
    }
}
