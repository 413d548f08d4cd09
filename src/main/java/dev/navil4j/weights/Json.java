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
            // Jackson's canConvertToInt also accepts 2.5 (truncated); Python would fail on a float size or index
            if (!n.isIntegralNumber() || !n.canConvertToInt())
                throw new WeightsException(where + ": \"" + key + "\" must be an integer, got " + n);
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
