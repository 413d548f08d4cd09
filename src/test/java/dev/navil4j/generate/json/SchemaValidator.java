package dev.navil4j.generate.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import java.util.List;

/**
 * The independent checks of constrained output: Jackson parses the text strictly (one value, nothing after it,
 * duplicate keys refused where the schema declares its properties), networknt's json-schema-validator
 * (draft 2020-12) validates it against the schema.
 */
public final class SchemaValidator {
    public static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private SchemaValidator() {}

    /** The parsed value; throws if the text is not exactly one JSON value. */
    public static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + e.getMessage() + "\n" + text, e);
        }
    }

    /** The validator's errors for {@code value} (empty: valid). */
    public static List<String> errors(JsonNode schema, JsonNode value) {
        Schema s = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schema);
        return s.validate(value).stream().map(Object::toString).toList();
    }
}
