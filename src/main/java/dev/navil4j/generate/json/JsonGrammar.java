package dev.navil4j.generate.json;

import dev.navil4j.generate.ByteGrammar;
import dev.navil4j.generate.json.SchemaNode.AnyOf;
import dev.navil4j.generate.json.SchemaNode.ArraySpec;
import dev.navil4j.generate.json.SchemaNode.LiteralSpec;
import dev.navil4j.generate.json.SchemaNode.NumberSpec;
import dev.navil4j.generate.json.SchemaNode.ObjectSpec;
import dev.navil4j.generate.json.SchemaNode.StringSpec;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * JSON text (RFC 8259) of one value that a {@link SchemaNode} graph allows, as a byte-level pushdown automaton.
 * A state is a set of stacks (an {@code anyOf} whose alternatives start alike is followed in parallel until they
 * part); a stack is a chain of immutable frames, so states compare by value and the token masks can be cached by
 * state. Whitespace may stand wherever JSON allows it, at most {@link #MAX_WS} bytes in a row (a model cannot
 * pad forever); nothing may follow the value. Properties come in schema order; numbers are at most
 * {@link #MAX_NUMBER_BYTES} bytes; containers nest at most {@link #MAX_DEPTH} deep.
 */
public final class JsonGrammar implements ByteGrammar<JsonGrammar.State> {
    public static final int MAX_WS = 20, MAX_NUMBER_BYTES = 20, MAX_DEPTH = 32;

    /** The automaton's state: the live stacks, each named by its top frame. */
    public record State(List<Frame> stacks) {}

    /** One level of a stack; {@code parent} is the level below. */
    public sealed interface Frame permits Root, Value, Str, Num, Lit, Key, Obj, Arr {}

    /** The bottom: {@code done} once the value is complete. */
    record Root(boolean done) implements Frame {}

    /** Before a value of {@code node} (after {@code ws} whitespace bytes). */
    record Value(SchemaNode node, int ws, Frame parent) implements Frame {}

    /**
     * Inside a string: {@code chars} characters begun (counted only when the node has length limits),
     * {@code esc} 0 none, 1 after a backslash, 2..5 hex digits of a \\u escape still to come (6 - esc);
     * {@code utf8} continuation bytes still due × 8 + the range class of the next one.
     */
    record Str(StringSpec spec, int chars, int esc, int utf8, Frame parent) implements Frame {}

    /** Inside a number, in one of the phases below, {@code len} bytes long. */
    record Num(boolean integer, int phase, int len, Frame parent) implements Frame {}

    /** Inside a literal (enum/const/true/false/null): the bytes matched so far, as ISO-8859-1 chars. */
    record Lit(LiteralSpec spec, String matched, Frame parent) implements Frame {}

    /** Inside a declared property name, candidates from property {@code from} on; parent: the object in KEY. */
    record Key(ObjectSpec spec, int from, String matched, Frame parent) implements Frame {}

    /** An object: {@code next} is the first property that may still come. */
    record Obj(ObjectSpec spec, int phase, int next, int ws, Frame parent) implements Frame {}

    /** An array with {@code count} elements so far (counted only when the node has item limits). */
    record Arr(ArraySpec spec, int phase, int count, int ws, Frame parent) implements Frame {}

    // number phases
    private static final int MINUS = 0, ZERO = 1, INT = 2, DOT = 3, FRAC = 4, EXP = 5, EXP_SIGN = 6, EXP_DIGITS = 7;
    // object phases: after '{', in a key, after the key, in the value, after the value, after ','
    private static final int O_OPEN = 0, O_KEY = 1, O_COLON = 2, O_VALUE = 3, O_AFTER = 4, O_COMMA = 5;
    // array phases
    private static final int A_OPEN = 0, A_VALUE = 1, A_AFTER = 2;
    private static final StringSpec FREE_KEY = new StringSpec(0, Integer.MAX_VALUE);

    private final SchemaNode root;

    JsonGrammar(SchemaNode root) { this.root = root; }

    @Override
    public State start() { return new State(List.of(new Value(root, 0, new Root(false)))); }

    @Override
    public State step(State s, int b) {
        // inside a string without length limits a plain ASCII character leaves the state as it was: the same
        // object, no allocation (the vocabulary walk inside a string visits nearly every token)
        if (s.stacks.size() == 1 && s.stacks.getFirst() instanceof Str str && str.esc == 0 && str.utf8 == 0
                && !str.spec.counts() && b >= 0x20 && b < 0x80 && b != '"' && b != '\\') return s;
        List<Frame> out = new ArrayList<>(2);
        for (Frame f : s.stacks) step(f, b, out);
        if (out.isEmpty()) return null;
        if (out.size() == 1) return new State(List.of(out.getFirst())); // the common case: one stack
        if (out.size() > 1) out = new ArrayList<>(new LinkedHashSet<>(out));
        return new State(List.copyOf(out));
    }

    @Override
    public boolean accepts(State s) {
        for (Frame f : s.stacks) if (canEnd(f)) return true;
        return false;
    }

    @Override
    public int minBytesToAccept(State s) {
        long m = SchemaNode.INF;
        for (Frame f : s.stacks) m = Math.min(m, rest(f));
        return m >= UNREACHABLE ? UNREACHABLE : (int) m;
    }

    private static boolean isWs(int b) { return b == ' ' || b == '\n' || b == '\r' || b == '\t'; }

    private static boolean isDigit(int b) { return b >= '0' && b <= '9'; }

    private void step(Frame f, int b, List<Frame> out) {
        switch (f) {
            case Root r -> { } // nothing follows the value
            case Value v -> {
                if (isWs(b)) { if (v.ws < MAX_WS) out.add(new Value(v.node, v.ws + 1, v.parent)); }
                else begin(v.node, b, v.parent, out, 0);
            }
            case Str s -> string(s, b, out);
            case Num n -> number(n, b, out);
            case Lit l -> {
                String next = l.matched + (char) b;
                if (anyStartsWith(l.spec.values, next)) out.add(new Lit(l.spec, next, l.parent));
                if (isOneOf(l.spec.values, l.matched)) step(afterChild(l.parent), b, out);
            }
            case Key k -> {
                String next = k.matched + (char) b;
                List<SchemaNode.Property> ps = k.spec.properties;
                boolean extended = false;
                for (int j = k.from; j < ps.size(); j++) {
                    byte[] key = ps.get(j).key();
                    if (startsWith(key, next)) {
                        if (key.length == next.length()) {
                            Obj o = (Obj) k.parent;
                            out.add(new Obj(k.spec, O_COLON, j + 1, 0, o.parent));
                        } else if (!extended) {
                            extended = true;
                            out.add(new Key(k.spec, k.from, next, k.parent));
                        }
                    }
                    if (ps.get(j).required()) break; // a required property cannot be skipped
                }
            }
            case Obj o -> object(o, b, out);
            case Arr a -> array(a, b, out);
        }
    }

    /** The first byte of a value of {@code node}. */
    private void begin(SchemaNode node, int b, Frame parent, List<Frame> out, int hops) {
        switch (node) {
            case AnyOf a -> { if (hops < 16) for (SchemaNode alt : a.alternatives) begin(alt, b, parent, out, hops + 1); }
            case ObjectSpec o -> { if (b == '{' && depth(parent) < MAX_DEPTH) out.add(new Obj(o, O_OPEN, 0, 0, parent)); }
            case ArraySpec a -> { if (b == '[' && depth(parent) < MAX_DEPTH) out.add(new Arr(a, A_OPEN, 0, 0, parent)); }
            case StringSpec s -> { if (b == '"') out.add(new Str(s, 0, 0, 0, parent)); }
            case NumberSpec n -> {
                if (b == '-') out.add(new Num(n.integer, MINUS, 1, parent));
                else if (b == '0') out.add(new Num(n.integer, ZERO, 1, parent));
                else if (b >= '1' && b <= '9') out.add(new Num(n.integer, INT, 1, parent));
            }
            case LiteralSpec l -> {
                String first = String.valueOf((char) b);
                if (anyStartsWith(l.values, first)) out.add(new Lit(l, first, parent));
            }
        }
    }

    private static int depth(Frame f) {
        int d = 0;
        while (true) {
            switch (f) {
                case Obj o -> { d++; f = o.parent; }
                case Arr a -> { d++; f = a.parent; }
                case Value v -> f = v.parent;
                case Str s -> f = s.parent;
                case Num n -> f = n.parent;
                case Lit l -> f = l.parent;
                case Key k -> f = k.parent;
                case Root r -> { return d; }
            }
        }
    }

    private void string(Str s, int b, List<Frame> out) {
        StringSpec spec = s.spec;
        boolean counts = spec.counts();
        if (s.utf8 > 0) {
            // utf8 = bytes due * 8 + the range the next one must be in (Unicode Table 3-7: no overlongs, surrogates)
            int due = s.utf8 >> 3, range = s.utf8 & 7;
            int lo = range == 1 ? 0xA0 : range == 3 ? 0x90 : 0x80, hi = range == 2 ? 0x9F : range == 4 ? 0x8F : 0xBF;
            if (b >= lo && b <= hi) out.add(new Str(spec, s.chars, 0, (due - 1) << 3, s.parent));
            return;
        }
        if (s.esc == 1) {
            if (b == 'u') out.add(new Str(spec, s.chars, 2, 0, s.parent));
            else if ("\"\\/bfnrt".indexOf(b) >= 0) out.add(new Str(spec, s.chars, 0, 0, s.parent));
            return;
        }
        if (s.esc >= 2) {
            boolean hex = isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
            if (hex) out.add(new Str(spec, s.chars, s.esc == 5 ? 0 : s.esc + 1, 0, s.parent));
            return;
        }
        if (b == '"') {
            if (s.chars >= spec.minLength) out.add(afterChild(s.parent));
            return;
        }
        if (b < 0x20) return; // control characters must be escaped (RFC 8259 §7)
        int follow = b < 0x80 ? 0 : b >= 0xC2 && b <= 0xDF ? 1 : b >= 0xE0 && b <= 0xEF ? 2 : b >= 0xF0 && b <= 0xF4 ? 3 : -1;
        if (follow < 0) return; // a continuation byte or an invalid lead byte
        int range = b == 0xE0 ? 1 : b == 0xED ? 2 : b == 0xF0 ? 3 : b == 0xF4 ? 4 : 0;
        if (counts && s.chars >= spec.maxLength) return;
        int chars = counts ? s.chars + 1 : 0;
        out.add(new Str(spec, chars, b == '\\' ? 1 : 0, follow << 3 | range, s.parent));
    }

    private void number(Num n, int b, List<Frame> out) {
        int p = n.phase;
        int next = -1;
        if (n.len < MAX_NUMBER_BYTES) {
            if (isDigit(b)) next = switch (p) {
                case MINUS -> b == '0' ? ZERO : INT;
                case INT -> INT;
                case DOT, FRAC -> FRAC;
                case EXP, EXP_SIGN, EXP_DIGITS -> EXP_DIGITS;
                default -> -1; // after a leading zero
            };
            else if (b == '.' && !n.integer && (p == ZERO || p == INT)) next = DOT;
            else if ((b == 'e' || b == 'E') && !n.integer && (p == ZERO || p == INT || p == FRAC)) next = EXP;
            else if ((b == '+' || b == '-') && p == EXP) next = EXP_SIGN;
        }
        if (next >= 0) out.add(new Num(n.integer, next, n.len + 1, n.parent));
        if (numberCanEnd(p)) step(afterChild(n.parent), b, out); // the byte belongs to what follows the number
    }

    private static boolean numberCanEnd(int phase) { return phase == ZERO || phase == INT || phase == FRAC || phase == EXP_DIGITS; }

    private void object(Obj o, int b, List<Frame> out) {
        ObjectSpec spec = o.spec;
        if (isWs(b)) {
            if (o.ws < MAX_WS && o.phase != O_KEY && o.phase != O_VALUE) out.add(new Obj(spec, o.phase, o.next, o.ws + 1, o.parent));
            return;
        }
        switch (o.phase) {
            case O_OPEN, O_COMMA -> {
                if (b == '}' && o.phase == O_OPEN && noRequiredFrom(spec, o.next)) out.add(afterChild(o.parent));
                else if (b == '"') {
                    Obj inKey = new Obj(spec, O_KEY, o.next, 0, o.parent);
                    if (spec.freeForm) out.add(new Str(FREE_KEY, 0, 0, 0, inKey));
                    else if (o.next < spec.properties.size()) out.add(new Key(spec, o.next, "\"", inKey));
                }
            }
            case O_COLON -> {
                if (b == ':') {
                    SchemaNode value = spec.freeForm ? spec.additional : spec.properties.get(o.next - 1).value();
                    out.add(new Value(value, 0, new Obj(spec, O_VALUE, o.next, 0, o.parent)));
                }
            }
            case O_AFTER -> {
                if (b == '}' && noRequiredFrom(spec, o.next)) out.add(afterChild(o.parent));
                else if (b == ',' && (spec.freeForm || o.next < spec.properties.size())) out.add(new Obj(spec, O_COMMA, o.next, 0, o.parent));
            }
            default -> { }
        }
    }

    private void array(Arr a, int b, List<Frame> out) {
        ArraySpec spec = a.spec;
        if (isWs(b)) {
            if (a.ws < MAX_WS && a.phase != A_VALUE) out.add(new Arr(spec, a.phase, a.count, a.ws + 1, a.parent));
            return;
        }
        boolean close = b == ']' && a.count >= spec.minItems;
        if (a.phase == A_OPEN) {
            if (close) out.add(afterChild(a.parent));
            else if (spec.maxItems > 0) begin(spec.items, b, new Arr(spec, A_VALUE, a.count, 0, a.parent), out, 0);
        } else if (a.phase == A_AFTER) {
            if (close) out.add(afterChild(a.parent));
            else if (b == ',' && a.count < spec.maxItems) out.add(new Value(spec.items, 0, new Arr(spec, A_VALUE, a.count, 0, a.parent)));
        }
    }

    private static boolean noRequiredFrom(ObjectSpec spec, int from) {
        for (int j = from; j < spec.properties.size(); j++) if (spec.properties.get(j).required()) return false;
        return true;
    }

    /** The frame a completed child value returns to. */
    private static Frame afterChild(Frame parent) {
        return switch (parent) {
            case Root r -> new Root(true);
            case Obj o when o.phase == O_KEY -> new Obj(o.spec, O_COLON, o.next, 0, o.parent);
            case Obj o -> new Obj(o.spec, O_AFTER, o.next, 0, o.parent);
            case Arr a -> new Arr(a.spec, A_AFTER, countsItems(a.spec) ? a.count + 1 : 0, 0, a.parent);
            default -> throw new IllegalStateException("not a container: " + parent);
        };
    }

    private static boolean countsItems(ArraySpec spec) { return spec.minItems > 0 || spec.maxItems < Integer.MAX_VALUE; }

    private static boolean canEnd(Frame f) {
        return switch (f) {
            case Root r -> r.done;
            case Num n -> numberCanEnd(n.phase) && canEnd(afterChild(n.parent));
            case Lit l -> isOneOf(l.spec.values, l.matched) && canEnd(afterChild(l.parent));
            default -> false;
        };
    }

    /** The fewest bytes from a stack with top {@code f} to the completed value. */
    private static long rest(Frame f) {
        long m = switch (f) {
            case Root r -> r.done ? 0 : SchemaNode.INF;
            case Value v -> v.node.minBytes + rest(afterChild(v.parent));
            case Str s -> (s.utf8 >> 3) + (s.esc == 1 ? 1 : s.esc >= 2 ? 6 - s.esc : 0)
                    + (s.spec.counts() ? Math.max(0, s.spec.minLength - s.chars) : 0) + 1 + rest(afterChild(s.parent));
            case Num n -> (numberCanEnd(n.phase) ? 0 : 1) + rest(afterChild(n.parent));
            case Lit l -> {
                long best = SchemaNode.INF;
                for (byte[] v : l.spec.values) if (startsWith(v, l.matched)) best = Math.min(best, v.length - l.matched.length());
                yield best + rest(afterChild(l.parent));
            }
            case Key k -> {
                long best = SchemaNode.INF;
                Obj o = (Obj) k.parent;
                for (int j = k.from; j < k.spec.properties.size(); j++) {
                    byte[] key = k.spec.properties.get(j).key();
                    if (startsWith(key, k.matched))
                        best = Math.min(best, key.length - k.matched.length() + rest(new Obj(k.spec, O_COLON, j + 1, 0, o.parent)));
                    if (k.spec.properties.get(j).required()) break;
                }
                yield best;
            }
            case Obj o -> objectRest(o) + rest(afterChild(o.parent));
            case Arr a -> arrayRest(a) + rest(afterChild(a.parent));
        };
        return Math.min(m, SchemaNode.INF);
    }

    private static long objectRest(Obj o) {
        ObjectSpec spec = o.spec;
        if (spec.freeForm) return switch (o.phase) {
            case O_COLON -> 1 + spec.additional.minBytes + 1;
            case O_COMMA -> 3 + spec.additional.minBytes + 1;
            default -> 1;
        };
        long cost = 0;
        int count = 0;
        for (int j = o.next; j < spec.properties.size(); j++) {
            SchemaNode.Property p = spec.properties.get(j);
            if (p.required()) { cost += p.key().length + 1 + p.value().minBytes; count++; }
        }
        return switch (o.phase) {
            case O_OPEN -> count == 0 ? 1 : cost + count; // commas between them and '}'
            case O_AFTER -> cost + count + 1;
            case O_COLON -> 1 + spec.properties.get(o.next - 1).value().minBytes + cost + count + 1;
            case O_COMMA -> {
                if (count > 0) yield cost + count;
                long best = SchemaNode.INF;
                for (int j = o.next; j < spec.properties.size(); j++) {
                    SchemaNode.Property p = spec.properties.get(j);
                    best = Math.min(best, p.key().length + 1 + p.value().minBytes);
                }
                yield best + 1;
            }
            default -> SchemaNode.INF;
        };
    }

    private static long arrayRest(Arr a) {
        ArraySpec spec = a.spec;
        long item = spec.items.minBytes;
        return switch (a.phase) {
            case A_OPEN -> spec.minItems == 0 ? 1 : spec.minItems * item + spec.minItems;
            case A_AFTER -> Math.max(0, spec.minItems - a.count) * (1 + item) + 1;
            default -> SchemaNode.INF;
        };
    }

    private static boolean startsWith(byte[] v, String prefix) {
        if (prefix.length() > v.length) return false;
        for (int i = 0; i < prefix.length(); i++) if ((v[i] & 0xFF) != prefix.charAt(i)) return false;
        return true;
    }

    private static boolean anyStartsWith(List<byte[]> values, String prefix) {
        for (byte[] v : values) if (startsWith(v, prefix)) return true;
        return false;
    }

    private static boolean isOneOf(List<byte[]> values, String s) {
        for (byte[] v : values) if (v.length == s.length() && startsWith(v, s)) return true;
        return false;
    }
}
