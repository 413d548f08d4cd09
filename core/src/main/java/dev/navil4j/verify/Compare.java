package dev.navil4j.verify;

import java.util.Arrays;

/** Comparison helpers for fixture expectations. */
public final class Compare {
    private Compare() {}

    /** max |a − e|, or +∞ if the lengths differ (a shape mismatch fails any atol). */
    public static double maxAbs(float[] actual, float[] expected) {
        if (actual.length != expected.length) return Double.POSITIVE_INFINITY;
        double m = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(d)) return Double.POSITIVE_INFINITY;
            if (d > m) m = d;
        }
        return m;
    }

    /** null when equal, else a short description of the first difference. */
    public static String ids(int[] actual, int[] expected) {
        if (Arrays.equals(actual, expected)) return null;
        int i = 0;
        while (i < Math.min(actual.length, expected.length) && actual[i] == expected[i]) i++;
        return "ids differ at index " + i + " (lengths " + actual.length + " vs " + expected.length + "): got "
                + window(actual, i) + " expected " + window(expected, i);
    }

    public static String text(String actual, String expected) {
        if (actual.equals(expected)) return null;
        int i = 0;
        while (i < Math.min(actual.length(), expected.length()) && actual.charAt(i) == expected.charAt(i)) i++;
        return "text differs at char " + i + ": got " + quote(actual) + " expected " + quote(expected);
    }

    private static String window(int[] a, int i) {
        int from = Math.max(0, i - 2), to = Math.min(a.length, i + 4);
        return (from > 0 ? "[…" : "[") + Arrays.toString(Arrays.copyOfRange(a, from, to)).replaceAll("[\\[\\]]", "") + (to < a.length ? "…]" : "]");
    }

    public static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            if (c == '\n') b.append("\\n");
            else if (c < 0x20 || c == 0x7f) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
