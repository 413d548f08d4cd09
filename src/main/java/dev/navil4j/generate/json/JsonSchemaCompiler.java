package dev.navil4j.generate.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.navil4j.generate.json.SchemaNode.AnyOf;
import dev.navil4j.generate.json.SchemaNode.ArraySpec;
import dev.navil4j.generate.json.SchemaNode.LiteralSpec;
import dev.navil4j.generate.json.SchemaNode.NumberSpec;
import dev.navil4j.generate.json.SchemaNode.ObjectSpec;
import dev.navil4j.generate.json.SchemaNode.StringSpec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON Schema → {@link JsonGrammar}, for the subset OpenAI's strict structured outputs accept (what the OpenAI
 * SDKs' pydantic/zod helpers and LangChain's {@code withStructuredOutput} send): {@code type} (one or a list),
 * {@code properties}/{@code required}/{@code additionalProperties}, {@code items}/{@code minItems}/{@code maxItems},
 * {@code minLength}/{@code maxLength}, {@code enum}, {@code const}, {@code anyOf}, a one-element {@code allOf},
 * {@code $ref} into {@code $defs}/{@code definitions} or {@code #} (recursion included), OpenAPI's {@code nullable}.
 * Annotations ({@code title}, {@code description}, {@code default}, {@code format}, …) are accepted and not
 * enforced ({@code format} is an annotation in JSON Schema 2020-12 too). Under {@code strict} every other keyword
 * is refused with its location; otherwise it is ignored (then the output follows the supported part only).
 */
public final class JsonSchemaCompiler {
    static final Set<String> SUPPORTED = Set.of("type", "properties", "required", "additionalProperties", "items",
            "minItems", "maxItems", "minLength", "maxLength", "enum", "const", "anyOf", "allOf", "$ref", "$defs",
            "definitions", "nullable");
    static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "$comment", "format", "deprecated", "readOnly", "writeOnly", "$anchor");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode document;
    private final boolean strict;
    private final List<SchemaNode> all = new ArrayList<>();
    private final Map<String, AnyOf> refs = new HashMap<>();
    private final List<Map.Entry<String, AnyOf>> unresolved = new ArrayList<>();
    private AnyOf any;

    private JsonSchemaCompiler(JsonNode document, boolean strict) {
        this.document = document;
        this.strict = strict;
    }

    private static final JsonGrammar ANY_OBJECT = buildAnyObject();

    /** {@code response_format: json_object}: any JSON object (one shared grammar, so its masks are shared too). */
    public static JsonGrammar anyObject() { return ANY_OBJECT; }

    private static JsonGrammar buildAnyObject() {
        JsonSchemaCompiler c = new JsonSchemaCompiler(null, false);
        ObjectSpec o = c.add(new ObjectSpec());
        o.freeForm = true;
        o.additional = c.any();
        SchemaNode.computeMinBytes(c.all);
        return new JsonGrammar(o);
    }

    /** The grammar of values {@code schema} allows. */
    public static JsonGrammar compile(JsonNode schema, boolean strict) {
        JsonSchemaCompiler c = new JsonSchemaCompiler(schema, strict);
        SchemaNode root = c.node(schema, "");
        // $refs resolve after the walk: a ref may point at a node still being compiled (recursion)
        for (int i = 0; i < c.unresolved.size(); i++) {
            Map.Entry<String, AnyOf> e = c.unresolved.get(i);
            JsonNode target = schema.at(e.getKey().substring(1));
            e.getValue().alternatives.add(c.node(target, e.getKey().substring(1)));
        }
        SchemaNode.computeMinBytes(c.all);
        if (root.minBytes >= SchemaNode.INF)
            throw new JsonSchemaException("", "the schema allows no finite value (every branch recurses through required properties)");
        return new JsonGrammar(root);
    }

    private <T extends SchemaNode> T add(T n) {
        all.add(n);
        return n;
    }

    /** Any JSON value (a schema without type keywords, {@code true}, {@code items} left out). */
    private AnyOf any() {
        if (any != null) return any;
        any = add(new AnyOf());
        ObjectSpec o = add(new ObjectSpec());
        o.freeForm = true;
        o.additional = any;
        ArraySpec a = add(new ArraySpec());
        a.items = any;
        any.alternatives.addAll(List.of(o, a, add(new StringSpec(0, Integer.MAX_VALUE)), add(new NumberSpec(false)),
                add(new LiteralSpec(List.of("true", "false", "null")))));
        return any;
    }

    private JsonSchemaException error(String where, String message) { return new JsonSchemaException(where, message); }

    private SchemaNode node(JsonNode s, String at) {
        if (s == null || s.isMissingNode()) throw error(at, "the schema reference " + (at.isEmpty() ? "#" : at) + " points at nothing");
        if (s.isBoolean()) {
            if (s.asBoolean()) return any();
            throw error(at, "schema false allows no value");
        }
        if (!s.isObject()) throw error(at, "a schema must be an object or a boolean");
        for (var it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (SUPPORTED.contains(k) || ANNOTATIONS.contains(k)) continue;
            if (strict) throw error(at + "/" + k, "the schema keyword '" + k + "' is not supported (at " + pointer(at + "/" + k) + ")");
        }
        JsonNode ref = s.get("$ref");
        if (ref != null) {
            if (!ref.isTextual() || !ref.asText().startsWith("#"))
                throw error(at + "/$ref", "only local $ref (#, #/$defs/…) is supported, got " + ref);
            String target = ref.asText();
            AnyOf holder = refs.get(target);
            if (holder == null) {
                holder = add(new AnyOf());
                refs.put(target, holder);
                unresolved.add(Map.entry(target, holder));
            }
            return holder;
        }
        JsonNode allOf = s.get("allOf");
        if (allOf != null) {
            if (!allOf.isArray() || allOf.size() != 1) throw error(at + "/allOf", "allOf is supported with exactly one schema");
            return node(allOf.get(0), at + "/allOf/0");
        }
        if (s.has("const")) return add(new LiteralSpec(List.of(json(s.get("const")))));
        JsonNode en = s.get("enum");
        if (en != null) {
            if (!en.isArray() || en.isEmpty()) throw error(at + "/enum", "enum must be a non-empty array");
            Set<String> values = new LinkedHashSet<>();
            for (JsonNode v : en) values.add(json(v));
            return add(new LiteralSpec(List.copyOf(values)));
        }
        JsonNode anyOf = s.get("anyOf");
        if (anyOf != null) {
            if (!anyOf.isArray() || anyOf.isEmpty()) throw error(at + "/anyOf", "anyOf must be a non-empty array");
            AnyOf a = add(new AnyOf());
            for (int i = 0; i < anyOf.size(); i++) a.alternatives.add(node(anyOf.get(i), at + "/anyOf/" + i));
            return nullable(s, a);
        }
        JsonNode type = s.get("type");
        List<String> types = new ArrayList<>();
        if (type == null) {
            if (s.has("properties")) types.add("object");
            else if (s.has("items")) types.add("array");
            else return any();
        } else if (type.isTextual()) types.add(type.asText());
        else if (type.isArray() && !type.isEmpty()) {
            for (JsonNode t : type) {
                if (!t.isTextual()) throw error(at + "/type", "type must be a string or an array of strings");
                types.add(t.asText());
            }
        } else throw error(at + "/type", "type must be a string or an array of strings");
        if (types.size() == 1) return nullable(s, typed(s, types.get(0), at));
        AnyOf a = add(new AnyOf());
        for (String t : types) a.alternatives.add(typed(s, t, at));
        return nullable(s, a);
    }

    /** OpenAPI's {@code nullable: true} adds null. */
    private SchemaNode nullable(JsonNode s, SchemaNode n) {
        if (!s.path("nullable").asBoolean(false)) return n;
        AnyOf a = add(new AnyOf());
        a.alternatives.add(n);
        a.alternatives.add(add(new LiteralSpec(List.of("null"))));
        return a;
    }

    private SchemaNode typed(JsonNode s, String type, String at) {
        return switch (type) {
            case "object" -> object(s, at);
            case "array" -> {
                ArraySpec a = add(new ArraySpec());
                JsonNode items = s.get("items");
                if (items != null && items.isArray()) throw error(at + "/items", "tuple items (an array of schemas) are not supported");
                a.items = items == null ? any() : node(items, at + "/items");
                a.minItems = count(s, "minItems", at, 0);
                a.maxItems = count(s, "maxItems", at, Integer.MAX_VALUE);
                if (a.minItems > a.maxItems) throw error(at + "/minItems", "minItems is above maxItems");
                yield a;
            }
            case "string" -> {
                int min = count(s, "minLength", at, 0), max = count(s, "maxLength", at, Integer.MAX_VALUE);
                if (min > max) throw error(at + "/minLength", "minLength is above maxLength");
                yield add(new StringSpec(min, max));
            }
            case "number" -> add(new NumberSpec(false));
            case "integer" -> add(new NumberSpec(true));
            case "boolean" -> add(new LiteralSpec(List.of("true", "false")));
            case "null" -> add(new LiteralSpec(List.of("null")));
            default -> throw error(at + "/type", "unknown type '" + type + "'");
        };
    }

    private SchemaNode object(JsonNode s, String at) {
        ObjectSpec o = add(new ObjectSpec());
        JsonNode props = s.get("properties");
        JsonNode required = s.get("required");
        Set<String> req = new LinkedHashSet<>();
        if (required != null) {
            if (!required.isArray()) throw error(at + "/required", "required must be an array of property names");
            for (JsonNode r : required) {
                if (!r.isTextual()) throw error(at + "/required", "required must be an array of property names");
                req.add(r.asText());
            }
        }
        JsonNode additional = s.get("additionalProperties");
        if (props != null && !props.isObject()) throw error(at + "/properties", "properties must be an object");
        if (props == null || props.isEmpty()) {
            if (!req.isEmpty()) throw error(at + "/required", "required names '" + req.iterator().next() + "', which is not in properties");
            boolean closed = additional != null && additional.isBoolean() && !additional.asBoolean();
            if (closed) return o; // only {}
            o.freeForm = true;
            o.additional = additional == null || additional.isBoolean() ? any() : node(additional, at + "/additionalProperties");
            return o;
        }
        for (var it = props.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey();
            o.properties.add(new SchemaNode.Property(name, json(JSON.getNodeFactory().textNode(name)).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    node(e.getValue(), at + "/properties/" + escape(name)), req.contains(name)));
        }
        for (String r : req)
            if (!props.has(r)) throw error(at + "/required", "required names '" + r + "', which is not in properties");
        // additionalProperties true or a schema: extra properties would be valid, but only the declared ones are written
        return o;
    }

    private int count(JsonNode s, String f, String at, int absent) {
        JsonNode v = s.get(f);
        if (v == null || v.isNull()) return absent;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) throw error(at + "/" + f, f + " must be a non-negative integer");
        return v.asInt();
    }

    private static String json(JsonNode v) {
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String escape(String name) { return name.replace("~", "~0").replace("/", "~1"); }

    private static String pointer(String at) { return "#" + at; }
}
