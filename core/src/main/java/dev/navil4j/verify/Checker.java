package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Accumulates the comparison of the keys present in a case's {@code expect}. */
public final class Checker {
    private final Fixture fx;
    private final JsonNode expect;
    private final double atol;
    private double err = 0;
    private final List<String> mismatches = new ArrayList<>();

    public Checker(Fixture fx, JsonNode c) {
        this.fx = fx;
        this.expect = c.path("expect");
        this.atol = c.path("atol").asDouble(0);
    }

    public void intEq(String key, int actual) {
        if (!expect.has(key)) return;
        int e = expect.get(key).asInt();
        if (e != actual) mismatches.add(key + " = " + actual + ", expected " + e);
    }

    public void intsEq(String key, int[] actual) {
        if (!expect.has(key)) return;
        int[] e = fx.intsOrLiteral(expect.get(key));
        if (!Arrays.equals(e, actual)) mismatches.add(key + " = " + Arrays.toString(actual) + ", expected " + Arrays.toString(e));
    }

    public void longsEq(String key, long[] actual) {
        if (!expect.has(key)) return;
        long[] e = expect.get(key).isTextual() ? fx.longs(expect.get(key)) : literalLongs(expect.get(key));
        if (!Arrays.equals(e, actual)) mismatches.add(key + " = " + Arrays.toString(actual) + ", expected " + Arrays.toString(e));
    }

    public void mismatch(String what) { mismatches.add(what); }

    public void floats(String key, float[] actual) {
        if (!expect.has(key)) return;
        float[] e = fx.floats(expect.get(key));
        if (e.length != actual.length) {
            mismatches.add(key + " has " + actual.length + " values, expected " + e.length);
            err = Double.POSITIVE_INFINITY;
            return;
        }
        err = Math.max(err, Compare.maxAbs(actual, e));
    }

    private static long[] literalLongs(JsonNode v) {
        long[] out = new long[v.size()];
        for (int i = 0; i < out.length; i++) out[i] = v.get(i).asLong();
        return out;
    }

    public CaseResult result() {
        return CaseResult.of(err, atol, mismatches.isEmpty() ? null : String.join("; ", mismatches));
    }

    /** A JSON array of numbers as ints. */
    public static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    /** A JSON array of numbers as floats. */
    public static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) a.get(i).asDouble();
        return out;
    }
}
