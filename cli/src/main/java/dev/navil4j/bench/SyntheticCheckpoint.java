package dev.navil4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensorsWriter;
import dev.navil4j.weights.TensorInfo;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Writes a bench-shape checkpoint with random weights to disk, for jobs that load a model from a directory (the Spark
 * batch, the server) rather than synthesizing it in memory as {@code bench} does:
 * <pre>
 * java -cp … dev.navil4j.bench.SyntheticCheckpoint --out DIR [--shape internvl3-1b|tiny] [--weights q8|bf16] [--seed N]
 *      --tokenizer fixtures/tokenizer-qwen2.5/model [--images DIR --count N [--size WxH]]
 * </pre>
 * The tensors are exactly those {@link SyntheticInternVL} hands the shipped model (the same names, shapes and formats;
 * q8 tensors are stored the way {@link SafeTensorsWriter} stores navil4j's quantized formats), the config is that
 * class's InternVL3 config.json, and the tokenizer is the real Qwen2.5 one (the fixture) with InternVL's nine added
 * tokens ({@code <img>} … {@code </box>}) at the ids InternVL3-1B gives them, 151665-151673, so prompts tokenize as on
 * the real model. With {@code --images}, N distinct photos-like PNGs are written too: every file differs, so the
 * engine's image-feature cache cannot turn a throughput run into cache hits.
 */
public final class SyntheticCheckpoint {
    /** InternVL's added tokens, in the order (and so at the ids) its tokenizer appends them after Qwen2.5's. */
    static final List<String> INTERNVL_TOKENS = List.of("<img>", "</img>", "<IMG_CONTEXT>", "<quad>", "</quad>", "<ref>", "</ref>", "<box>", "</box>");
    /** The first id after Qwen2.5's 22 added tokens (151643-151664). */
    static final int FIRST_INTERNVL_ID = 151665;

    /** Smoke tests: the tiny bench structure with Qwen2.5's vocabulary, so the real tokenizer's ids fit (a few MiB). */
    static final BenchShape TINY = new BenchShape("tiny", 64, 2, 4, 2, 16, 96, 151936, false, true, 1e6,
            BenchShape.tiny(true).vision());

    private SyntheticCheckpoint() {}

    public static void main(String[] args) throws Exception {
        Path out = null, tokenizer = null, images = null;
        String shape = "internvl3-1b", weights = "q8";
        long seed = 1;
        int count = 0, width = 640, height = 480;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) usage(a + " needs a value");
            String v = args[++i];
            switch (a) {
                case "--out" -> out = Path.of(v);
                case "--shape" -> shape = v;
                case "--weights" -> weights = v.toLowerCase(Locale.ROOT);
                case "--seed" -> seed = Long.parseLong(v);
                case "--tokenizer" -> tokenizer = Path.of(v);
                case "--images" -> images = Path.of(v);
                case "--count" -> count = Integer.parseInt(v);
                case "--size" -> {
                    String[] wh = v.toLowerCase(Locale.ROOT).split("x");
                    width = Integer.parseInt(wh[0]);
                    height = Integer.parseInt(wh[1]);
                }
                default -> usage("unknown option " + a);
            }
        }
        if (out != null) {
            if (tokenizer == null) usage("--out needs --tokenizer (e.g. fixtures/tokenizer-qwen2.5/model)");
            if (!weights.equals("q8") && !weights.equals("bf16")) usage("--weights must be q8 or bf16");
            long t0 = System.nanoTime();
            BenchShape s = shape.equals("tiny") ? TINY : BenchShape.named(shape);
            long bytes = writeCheckpoint(out, s, DType.valueOf(weights.toUpperCase(Locale.ROOT)), seed, tokenizer);
            System.err.printf(Locale.ROOT, "synthetic %s (%s) checkpoint in %s: %.0f MiB in %.1f s%n", shape, weights, out,
                    bytes / 1048576.0, (System.nanoTime() - t0) / 1e9);
        }
        if (images != null) {
            if (count < 1) usage("--images needs --count N (N >= 1)");
            writeImages(images, count, width, height, seed);
            System.err.printf(Locale.ROOT, "%d images of %dx%d in %s%n", count, width, height, images);
        }
        if (out == null && images == null) usage("nothing to do: give --out and/or --images");
    }

    private static void usage(String why) {
        System.err.println("SyntheticCheckpoint: " + why);
        System.err.println("usage: SyntheticCheckpoint --out DIR --tokenizer DIR [--shape internvl3-1b|tiny] [--weights q8|bf16] [--seed N]"
                + " [--images DIR --count N [--size WxH]]");
        System.exit(2);
    }

    /** Writes model.safetensors, config.json, generation_config.json and the tokenizer files; returns the tensor bytes. */
    static long writeCheckpoint(Path dir, BenchShape shape, DType format, long seed, Path tokenizer) throws IOException {
        if (shape.vision() == null) throw new IllegalArgumentException("shape " + shape.name() + " has no vision tower; use an InternVL shape");
        Files.createDirectories(dir);
        long bytes = 0;
        try (SyntheticInternVL m = new SyntheticInternVL(shape, format, seed)) {
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt")
                    .metadata("navil4j.synthetic", shape.name() + " " + format.name().toLowerCase(Locale.ROOT) + " seed " + seed);
            for (String name : m.tensors.names().stream().sorted().toList()) {
                TensorInfo t = m.tensors.find(name).orElseThrow();
                MemorySegment data = t.data();
                if (t.dtype() == DType.Q8 || t.dtype() == DType.Q4) {
                    long cols = 1;
                    for (int i = 1; i < t.shape().length; i++) cols *= t.shape()[i];
                    w.add(WeightTensor.of(name, t.dtype(), data, Math.toIntExact(t.shape()[0]), Math.toIntExact(cols)));
                } else {
                    // vectors live in float[]-backed segments, which cannot be viewed as a ByteBuffer: copy to bytes
                    if (data.isNative() || data.heapBase().orElse(null) instanceof byte[]) w.add(t);
                    else {
                        MemorySegment copy = MemorySegment.ofArray(new byte[Math.toIntExact(data.byteSize())]);
                        copy.copyFrom(data);
                        w.add(new SafeTensorsWriter.Entry(name, t.dtype().safetensorsName, t.shape(), copy));
                    }
                }
                bytes += data.byteSize();
            }
            w.write(dir.resolve("model.safetensors"));
        }
        ObjectNode config = (ObjectNode) SyntheticInternVL.config(shape).node();
        config.put("torch_dtype", "bfloat16");
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);
        ObjectNode gen = Json.MAPPER.createObjectNode();
        gen.put("eos_token_id", 151645); // <|im_end|>, as InternVL3-1B's generation config ends a chat turn
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("generation_config.json").toFile(), gen);
        writeTokenizer(tokenizer, dir);
        return bytes;
    }

    /** The Qwen2.5 tokenizer files with InternVL's added tokens appended (tokenizer.json, added_tokens.json, tokenizer_config.json). */
    static void writeTokenizer(Path from, Path dir) throws IOException {
        for (String f : List.of("vocab.json", "merges.txt", "special_tokens_map.json"))
            if (Files.exists(from.resolve(f))) Files.copy(from.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ObjectNode tok = (ObjectNode) Json.MAPPER.readTree(from.resolve("tokenizer.json").toFile());
        ArrayNode added = (ArrayNode) tok.get("added_tokens");
        int last = -1;
        for (JsonNode a : added) last = Math.max(last, a.get("id").asInt());
        if (last + 1 != FIRST_INTERNVL_ID)
            throw new IllegalArgumentException(from + ": expected Qwen2.5's added tokens to end at id " + (FIRST_INTERNVL_ID - 1) + ", got " + last);
        ObjectNode addedJson = Files.exists(from.resolve("added_tokens.json"))
                ? (ObjectNode) Json.MAPPER.readTree(from.resolve("added_tokens.json").toFile()) : Json.MAPPER.createObjectNode();
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(from.resolve("tokenizer_config.json").toFile());
        ObjectNode decoder = config.has("added_tokens_decoder") ? (ObjectNode) config.get("added_tokens_decoder") : config.putObject("added_tokens_decoder");
        for (int i = 0; i < INTERNVL_TOKENS.size(); i++) {
            String content = INTERNVL_TOKENS.get(i);
            int id = FIRST_INTERNVL_ID + i;
            ObjectNode a = added.addObject();
            a.put("id", id).put("content", content).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
            addedJson.put(content, id);
            ObjectNode d = decoder.putObject(Integer.toString(id));
            d.put("content", content).put("lstrip", false).put("normalized", false).put("rstrip", false)
                    .put("single_word", false).put("special", true);
        }
        Json.MAPPER.writeValue(dir.resolve("tokenizer.json").toFile(), tok);
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("added_tokens.json").toFile(), addedJson);
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
    }

    /** N distinct RGB PNGs: smooth colour gradients (seeded per file) with a little noise, like photos compress. */
    static void writeImages(Path dir, int count, int width, int height, long seed) throws IOException {
        Files.createDirectories(dir);
        for (int n = 0; n < count; n++) {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + n);
            double[] c = new double[9];
            for (int i = 0; i < c.length; i++) c[i] = r.nextDouble(-1, 1);
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < height; y++) {
                double fy = (double) y / height;
                for (int x = 0; x < width; x++) {
                    double fx = (double) x / width;
                    int red = channel(c[0] * fx + c[1] * fy + c[2] * fx * fy, r);
                    int green = channel(c[3] * fx + c[4] * fy + c[5] * Math.sin(6 * fx), r);
                    int blue = channel(c[6] * fx + c[7] * fy + c[8] * Math.cos(6 * fy), r);
                    img.setRGB(x, y, red << 16 | green << 8 | blue);
                }
            }
            ImageIO.write(img, "png", dir.resolve(String.format(Locale.ROOT, "img-%05d.png", n)).toFile());
        }
    }

    private static int channel(double v, SplittableRandom r) {
        return Math.clamp(Math.round(128 + 100 * v + r.nextInt(-8, 9)), 0, 255);
    }
}
