package dev.navil4j.generate.json;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A compiled JSON-schema node: which JSON values may stand at a place. Nodes compare by identity (a recursive
 * {@code $ref} makes the graph cyclic), and each knows the fewest bytes of a value it allows
 * ({@link #minBytes}, found by {@link #computeMinBytes} over the whole graph).
 */
public abstract sealed class SchemaNode permits SchemaNode.AnyOf, SchemaNode.ObjectSpec, SchemaNode.ArraySpec,
        SchemaNode.StringSpec, SchemaNode.NumberSpec, SchemaNode.LiteralSpec {
    static final long INF = 1L << 40;
    long minBytes = INF;

    /** The fewest bytes of a value this node allows, from the current estimates of the nodes it refers to. */
    abstract long estimate();

    /** Any one of the alternatives ({@code anyOf}, a type list, a nullable type). Filled after construction (cycles). */
    public static final class AnyOf extends SchemaNode {
        final List<SchemaNode> alternatives = new ArrayList<>();

        long estimate() {
            long m = INF;
            for (SchemaNode a : alternatives) m = Math.min(m, a.minBytes);
            return m;
        }
    }

    /** One declared property; {@code key} is its name as a JSON string, quotes included. */
    public record Property(String name, byte[] key, SchemaNode value, boolean required) {}

    /**
     * An object. With {@code properties} declared, exactly those may appear, in their order (required ones must);
     * otherwise ({@code freeForm}) any string keys with values of {@code additional}.
     */
    public static final class ObjectSpec extends SchemaNode {
        final List<Property> properties = new ArrayList<>();
        boolean freeForm;
        SchemaNode additional;

        long estimate() {
            if (freeForm) return 2;
            long m = 2;
            int required = 0;
            for (Property p : properties) if (p.required()) { m += p.key().length + 1 + p.value().minBytes; required++; }
            return Math.min(INF, m + Math.max(0, required - 1));
        }
    }

    /** An array of {@code items}, with {@code minItems}..{@code maxItems} elements. */
    public static final class ArraySpec extends SchemaNode {
        SchemaNode items;
        int minItems, maxItems = Integer.MAX_VALUE;

        long estimate() {
            if (minItems == 0) return 2;
            return Math.min(INF, 2 + minItems * items.minBytes + (minItems - 1));
        }
    }

    /** A string of {@code minLength}..{@code maxLength} characters (code points). */
    public static final class StringSpec extends SchemaNode {
        final int minLength, maxLength;

        StringSpec(int minLength, int maxLength) {
            this.minLength = minLength;
            this.maxLength = maxLength;
        }

        boolean counts() { return minLength > 0 || maxLength < Integer.MAX_VALUE; }

        long estimate() { return 2L + minLength; }
    }

    /** A JSON number; {@code integer}: no fraction or exponent. */
    public static final class NumberSpec extends SchemaNode {
        final boolean integer;

        NumberSpec(boolean integer) { this.integer = integer; }

        long estimate() { return 1; }
    }

    /** One of a fixed set of values ({@code enum}, {@code const}, booleans, null), as their compact JSON bytes. */
    public static final class LiteralSpec extends SchemaNode {
        final List<byte[]> values = new ArrayList<>();

        LiteralSpec(List<String> json) {
            for (String v : json) values.add(v.getBytes(StandardCharsets.UTF_8));
        }

        long estimate() {
            long m = INF;
            for (byte[] v : values) m = Math.min(m, v.length);
            return m;
        }
    }

    /** Fixpoint of the estimates over all nodes (cycles start at INF and settle where a finite alternative exists). */
    static void computeMinBytes(List<SchemaNode> all) {
        for (boolean changed = true; changed; ) {
            changed = false;
            for (SchemaNode n : all) {
                long e = Math.min(INF, n.estimate());
                if (e < n.minBytes) { n.minBytes = e; changed = true; }
            }
        }
    }
}
