package dev.navil4j.generate.json;

/** A schema navil4j cannot enforce; {@code where} is the JSON pointer of the offending keyword. */
public final class JsonSchemaException extends IllegalArgumentException {
    private final String where;

    public JsonSchemaException(String where, String message) {
        super(message);
        this.where = where;
    }

    /** JSON pointer of the keyword within the schema, e.g. {@code /properties/age/minimum}. */
    public String where() { return where; }
}
