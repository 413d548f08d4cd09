package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.TensorInfo;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One fixture directory: {@code cases.json}, {@code expected.safetensors} and the checkpoint(s) it names.
 * Paths in cases are relative to the fixture directory. Loaded objects (tokenizers, models) are cached
 * per key for the fixture's lifetime and closed with it.
 */
public final class Fixture implements AutoCloseable {
    public final Path dir;
    public final JsonNode root;
    public final String name;
    private final SafeTensors expected;
    private final Map<String, Object> cache = new HashMap<>();
    private final LoadOptions loadOptions;

    public Fixture(Path dir) { this(dir, LoadOptions.defaults()); }

    /**
     * A fixture whose models load with {@code loadOptions} ({@code verify --weights q8}: cases then measure the
     * quantized model against the full-precision reference outputs).
     */
    public Fixture(Path dir, LoadOptions loadOptions) {
        this.loadOptions = loadOptions == null ? LoadOptions.defaults() : loadOptions;
        this.dir = dir.toAbsolutePath().normalize();
        Path cases = this.dir.resolve("cases.json");
        if (!Files.isRegularFile(cases)) throw new WeightsException(dir + ": not a fixture directory (no cases.json)");
        this.root = Json.read(cases);
        this.name = this.dir.getFileName().toString();
        Path exp = this.dir.resolve("expected.safetensors");
        this.expected = Files.exists(exp) ? SafeTensors.open(exp) : null;
    }

    /** The options families load this fixture's checkpoints with (cases add their own config_override / LoRA choice). */
    public LoadOptions loadOptions() { return loadOptions; }

    /** The fixture's family string ("internvl3", "vora", "navil-internlm2", ...). */
    public String family() { return root.path("family").asText(""); }

    public List<JsonNode> cases() {
        List<JsonNode> out = new ArrayList<>();
        root.path("cases").forEach(out::add);
        return out;
    }

    public Path resolve(String relative) { return dir.resolve(relative).normalize(); }

    /** The checkpoint directory of a case: its own {@code model_dir} or the fixture's. */
    public Path modelDir(JsonNode testCase) {
        String md = testCase.hasNonNull("model_dir") ? testCase.get("model_dir").asText() : root.path("model_dir").asText("model");
        return resolve(md);
    }

    public TensorInfo tensor(String name) {
        if (expected == null) throw new WeightsException(dir + ": no expected.safetensors");
        return expected.get(name);
    }

    /** A float tensor named by {@code ref}: a name, or a JSON list of names concatenated along dim 0. */
    public float[] floats(JsonNode ref) {
        if (ref.isArray()) {
            List<float[]> parts = new ArrayList<>();
            int total = 0;
            for (JsonNode n : ref) { float[] p = tensor(n.asText()).toFloatArray(); parts.add(p); total += p.length; }
            float[] out = new float[total];
            int o = 0;
            for (float[] p : parts) { System.arraycopy(p, 0, out, o, p.length); o += p.length; }
            return out;
        }
        return tensor(ref.asText()).toFloatArray();
    }

    public long[] longs(JsonNode ref) { return tensor(ref.asText()).toLongArray(); }

    public int[] ints(JsonNode ref) { return tensor(ref.asText()).toIntArray(); }

    /** An int list given either as a tensor name or literally. */
    public int[] intsOrLiteral(JsonNode v) {
        if (v.isTextual()) return ints(v);
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) out[i] = v.get(i).asInt();
        return out;
    }

    @SuppressWarnings("unchecked")
    public synchronized <T> T cached(String key, Function<String, T> loader) {
        return (T) cache.computeIfAbsent(key, loader);
    }

    @Override
    public void close() {
        for (Object o : cache.values()) {
            if (o instanceof AutoCloseable c) {
                try { c.close(); } catch (Exception ignored) { }
            }
        }
        cache.clear();
        if (expected != null) expected.close();
    }
}
