package dev.navil4j.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Jackson set-up and the typed accessors configs are parsed with: unknown keys are ignored, a missing
 * required key is an error naming the file and the key.
 */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Json() {}

    /**
     * Integer config keys a model cannot have zero or fewer of (layer, head and size counts: the reference divides by
     * them or builds that many modules); {@link Obj#integer} refuses such values, naming the file and the key, instead
     * of a "/ by zero" later or an empty model.
     */
    static final java.util.Set<String> POSITIVE = java.util.Set.of("hidden_size", "intermediate_size", "num_attention_heads",
            "num_key_value_heads", "num_hidden_layers", "head_dim", "vocab_size", "patch_size", "image_size", "num_channels",
            "max_position_embeddings", "vision_embedding_intermediate_size"); // force_image_size 0 is falsy in the reference: it falls back

    /** The JSON files of a Hugging Face checkpoint directory that are parsed when present. */
    static final List<String> CONFIG_FILES = List.of("config.json", "generation_config.json", "preprocessor_config.json",
            "processor_config.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "chat_template.json");

    /**
     * Every config file of the checkpoint that exists parses as a JSON object, so a broken file is a load error naming
     * it even when this engine reads nothing from it (transformers' from_pretrained reads them all; for
     * generation_config.json it logs and falls back to defaults, which hides a broken file).
     */
    public static void checkConfigFiles(Path dir) {
        for (String name : CONFIG_FILES) {
            Path f = dir.resolve(name);
            if (!Files.isRegularFile(f)) continue;
            JsonNode n = read(f);
            if (!n.isObject()) throw new WeightsException(f + ": must hold a JSON object, got " + n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
        }
    }

    public static JsonNode read(Path file) {
        try {
            JsonNode n = MAPPER.readTree(file.toFile());
            if (n == null) throw new WeightsException(file + ": empty JSON file");
            return n;
        } catch (JsonProcessingException e) {
            throw new WeightsException(file + ": invalid JSON: " + e.getOriginalMessage());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new WeightsException(file + ": no such file");
        } catch (IOException e) {
            throw new WeightsException(file + ": " + e.getMessage(), e);
        }
    }

    /** A JSON object with the file it came from, for error messages naming both. */
    public record Obj(JsonNode node, String where) {
        public static Obj of(Path file) { return new Obj(read(file), file.toString()); }

        public boolean has(String key) { return node.has(key) && !node.get(key).isNull(); }

        public JsonNode required(String key) {
            if (!has(key)) throw new WeightsException(where + ": missing required key \"" + key + "\"");
            return node.get(key);
        }

        public Obj obj(String key) {
            JsonNode n = required(key);
            if (!n.isObject()) throw new WeightsException(where + ": \"" + key + "\" must be an object");
            return new Obj(n, where + " → " + key);
        }

        public Obj objOrEmpty(String key) {
            return has(key) ? obj(key) : new Obj(MAPPER.createObjectNode(), where + " → " + key);
        }

        public int integer(String key) {
            JsonNode n = required(key);
            // isIntegralNumber: Jackson's canConvertToInt alone accepts 1.5 (and asInt truncates it); Python would
            // fail on a float layer count, so must we
            if (!n.isIntegralNumber() || !n.canConvertToInt())
                throw new WeightsException(where + ": \"" + key + "\" must be an integer, got " + n);
            if (POSITIVE.contains(key) && n.asInt() < 1)
                throw new WeightsException(where + ": \"" + key + "\" must be at least 1, got " + n);
            return n.asInt();
        }

        public int integer(String key, int dflt) { return has(key) ? integer(key) : dflt; }

        public double number(String key) {
            JsonNode n = required(key);
            if (!n.isNumber()) throw new WeightsException(where + ": \"" + key + "\" must be a number, got " + n);
            return n.asDouble();
        }

        public double number(String key, double dflt) { return has(key) ? number(key) : dflt; }

        public boolean bool(String key, boolean dflt) {
            if (!has(key)) return dflt;
            JsonNode n = node.get(key);
            if (!n.isBoolean()) throw new WeightsException(where + ": \"" + key + "\" must be true or false, got " + n);
            return n.asBoolean();
        }

        public String string(String key) {
            JsonNode n = required(key);
            if (!n.isTextual()) throw new WeightsException(where + ": \"" + key + "\" must be a string, got " + n);
            return n.asText();
        }

        public String string(String key, String dflt) { return has(key) ? string(key) : dflt; }

        public List<Integer> intList(String key) {
            JsonNode n = required(key);
            if (!n.isArray()) throw new WeightsException(where + ": \"" + key + "\" must be a list");
            List<Integer> out = new ArrayList<>();
            for (JsonNode x : n) {
                if (!x.isIntegralNumber() || !x.canConvertToInt()) throw new WeightsException(where + ": \"" + key + "\" must hold integers, got " + x);
                out.add(x.asInt());
            }
            return out;
        }

        public float[] floatArray(String key) {
            JsonNode n = required(key);
            if (!n.isArray()) throw new WeightsException(where + ": \"" + key + "\" must be a list");
            float[] out = new float[n.size()];
            for (int i = 0; i < out.length; i++) out[i] = (float) n.get(i).asDouble();
            return out;
        }
    }
}
