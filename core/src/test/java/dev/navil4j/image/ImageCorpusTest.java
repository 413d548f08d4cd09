package dev.navil4j.image;

import dev.navil4j.models.vora.VoRAImageProcessor;
import dev.navil4j.models.internvl.InternVLImageProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Differential test on real files from public codec test suites (fixtures/image-corpus/SOURCES.md):
 * navil4j's decoded RGB against Pillow 12.3's {@code Image.open(p).convert('RGB')} and
 * {@code ImageOps.exif_transpose(...).convert('RGB')}, recorded by
 * scripts/image-corpus/generate_expected.py in expected.tsv (SHA-256 of the RGB bytes).
 * <ul>
 *   <li>a file Pillow decodes must give the same size and bytes, unless known-differences.tsv lists it
 *       with a reason (then it must still differ, so the list cannot go stale);</li>
 *   <li>a file Pillow refuses must be refused with an {@link ImageException} (a clear error, never
 *       another exception type), unless the list says navil4j decodes it on purpose.</li>
 * </ul>
 * Set -Dimage.corpus.dump=DIR to write navil4j's RGB of every differing file to DIR/&lt;path&gt;.rgb
 * (scripts/image-corpus/compare.py then reports the largest error against Pillow's dump).
 */
class ImageCorpusTest {
    private static final Path ROOT = Path.of("fixtures/image-corpus");

    record Expected(String path, String format, String mode, int w, int h, String sha, int tw, int th, String tsha) {
        boolean pillowError() { return format.equals("ERROR"); }
    }

    static List<Expected> expected() throws IOException {
        List<Expected> out = new ArrayList<>();
        for (String line : Files.readAllLines(ROOT.resolve("expected.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] c = line.split("\t");
            boolean err = c[1].equals("ERROR");
            out.add(new Expected(c[0], c[1], c[2], err ? 0 : Integer.parseInt(c[3]), err ? 0 : Integer.parseInt(c[4]),
                    c[5], err ? 0 : Integer.parseInt(c[6]), err ? 0 : Integer.parseInt(c[7]), c[8]));
        }
        return out;
    }

    /** path → reason, from known-differences.tsv. */
    static Map<String, String> knownDifferences() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ROOT.resolve("known-differences.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] c = line.split("\t", 2);
            out.put(c[0], c.length > 1 ? c[1] : "");
        }
        return out;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The container as navil4j sees it (extension-independent: Pillow's format name for decoded files). */
    static String kind(Expected e) {
        if (!e.pillowError()) return e.format();
        String n = e.path().toLowerCase(Locale.ROOT);
        return n.substring(n.lastIndexOf('.') + 1).toUpperCase(Locale.ROOT).replace("JPG", "JPEG") + " (Pillow error)";
    }

    @Test
    @Timeout(600)
    void everyCorpusFileDecodesAsPillowDoes() throws IOException {
        List<Expected> all = expected();
        Map<String, String> known = knownDifferences();
        String dump = System.getProperty("image.corpus.dump");
        List<String> failures = new ArrayList<>();
        Map<String, int[]> table = new TreeMap<>();   // kind → {files, exact, known}
        for (Expected e : all) {
            int[] row = table.computeIfAbsent(kind(e), k -> new int[3]);
            row[0]++;
            Path p = ROOT.resolve(e.path());
            String outcome;
            RgbImage rgb = null, transposed = null;
            try {
                rgb = ImageLoader.loadRgb(p);
                transposed = ImageLoader.loadRgbExifTransposed(p);
                outcome = "decoded";
            } catch (ImageException ex) {
                outcome = "refused: " + ex.getMessage();
            } catch (RuntimeException | Error ex) {
                failures.add(e.path() + ": unclear error " + ex);
                continue;
            }
            boolean exact;
            String why;
            if (e.pillowError()) {
                exact = rgb == null;
                why = "Pillow raises " + e.mode() + ", navil4j " + outcome;
            } else if (rgb == null) {
                exact = false;
                why = "Pillow decodes " + e.format() + " " + e.mode() + ", navil4j " + outcome;
            } else {
                boolean plain = rgb.width() == e.w() && rgb.height() == e.h() && sha256(rgb.rgb()).equals(e.sha());
                boolean tr = transposed.width() == e.tw() && transposed.height() == e.th()
                        && sha256(transposed.rgb()).equals(e.tsha());
                exact = plain && tr;
                why = (plain ? "" : "convert('RGB') differs (" + rgb.width() + "x" + rgb.height() + " vs " + e.w() + "x" + e.h() + ") ")
                        + (tr ? "" : "exif_transpose differs");
                if (!plain && dump != null) {
                    Path out = Path.of(dump).resolve(e.path() + ".rgb");
                    Files.createDirectories(out.getParent());
                    Files.write(out, rgb.rgb());
                }
            }
            if (known.containsKey(e.path())) {
                row[2]++;
                if (exact) failures.add(e.path() + ": listed in known-differences.tsv but now matches Pillow; remove it");
            } else if (exact) {
                row[1]++;
            } else {
                failures.add(e.path() + ": " + why);
            }
        }
        StringBuilder report = new StringBuilder(String.format("%-22s %6s %6s %6s%n", "format", "files", "exact", "known"));
        table.forEach((k, v) -> report.append(String.format("%-22s %6d %6d %6d%n", k, v[0], v[1], v[2])));
        System.out.println("[image corpus] navil4j vs Pillow 12.3\n" + report);
        for (String k : known.keySet())
            assertThat(all.stream().anyMatch(e -> e.path().equals(k))).as("known-differences.tsv entry " + k + " is in the corpus").isTrue();
        assertThat(failures).as("corpus files that differ from Pillow").isEmpty();
    }

    /**
     * InternVL's preprocessing (dynamic_preprocess + ToTensor + Normalize, at image_size 112 / max_num 6 to
     * stay fast) of every corpus file Pillow decodes, against expected-internvl.tsv made with Pillow and
     * numpy by scripts/image-corpus/generate_internvl_expected.py: the float32 tiles must be bit-identical.
     * Files whose decode is a listed known difference are skipped.
     */
    @Test
    @Timeout(600)
    void internvlPreprocessingOfTheCorpusMatchesTheReference() throws IOException {
        Map<String, String> known = knownDifferences();
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (String line : Files.readAllLines(ROOT.resolve("expected-internvl.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] c = line.split("\t");
            if (known.containsKey(c[0])) continue;
            InternVLImageProcessor.Tiles t = InternVLImageProcessor.preprocess(ImageLoader.loadRgb(ROOT.resolve(c[0])), 1, 6, 112, true);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(t.pixelValues().length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(t.pixelValues());
            String got = t.cols() + "\t" + t.rows() + "\t" + t.numTiles() + "\t" + sha256(b.array());
            String want = c[1] + "\t" + c[2] + "\t" + c[3] + "\t" + c[4];
            if (!got.equals(want)) failures.add(c[0] + ": got " + got + ", want " + want);
            checked++;
        }
        System.out.println("[image corpus] InternVL preprocessing: " + checked + " files checked, " + failures.size() + " differ");
        assertThat(checked).isGreaterThan(400);
        assertThat(failures).isEmpty();
    }

    /**
     * VoRA's preprocessing (load_image with exif_transpose, expand2square, CLIP resize / crop / rescale /
     * normalise at size 112) of every corpus file Pillow decodes, against expected-vora.tsv (Pillow + numpy,
     * scripts/image-corpus/generate_internvl_expected.py): bit-identical float32. Known decode differences skipped.
     */
    @Test
    @Timeout(600)
    void voraPreprocessingOfTheCorpusMatchesTheReference() throws IOException {
        Map<String, String> known = knownDifferences();
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (String line : Files.readAllLines(ROOT.resolve("expected-vora.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] c = line.split("\t");
            if (known.containsKey(c[0])) continue;
            VoRAImageProcessor.Result r = VoRAImageProcessor.load(ROOT.resolve(c[0]), VoRAImageProcessor.Params.vora(112));
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(r.pixelValues().length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(r.pixelValues());
            String got = r.squareSize()[0] + "\t" + sha256(b.array());
            String want = c[1] + "\t" + c[2];
            if (!got.equals(want)) failures.add(c[0] + ": got " + got + ", want " + want);
            checked++;
        }
        System.out.println("[image corpus] VoRA preprocessing: " + checked + " files checked, " + failures.size() + " differ");
        assertThat(checked).isGreaterThan(400);
        assertThat(failures).isEmpty();
    }
}
