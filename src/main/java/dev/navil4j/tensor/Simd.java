package dev.navil4j.tensor;

import java.util.Locale;

/**
 * The vector width the kernels run at, chosen once at start-up. This class references no Vector API type, so it
 * loads in a JVM started without {@code --add-modules jdk.incubator.vector}; the kernel entry points ({@link Kernels},
 * {@link QuantKernels}, {@link Gemm}) test {@link #VECTOR} before touching a class that does.
 * <p>Choice: the system property {@code navil4j.simd} (or the environment variable {@code NAVIL4J_SIMD}) —
 * {@code auto} (default), {@code off} (plain Java loops), or a width in bits, {@code 128}, {@code 256} or
 * {@code 512}. {@code auto} takes the CPU's preferred species (AVX2 256, AVX-512 512, NEON 128; an SVE width that is
 * not one of those falls back to 128) and {@code off} when the Vector API module is absent. A width wider than the
 * hardware's runs, correctly, through the Vector API's Java fallback — that is how the tests cover 512-bit code on
 * an AVX2 machine — but slowly, so it is only ever chosen explicitly.
 * <p>The choice is final for the JVM: every species in the kernels is a {@code static final} derived from it, which
 * C2 folds into constants (a species read from a non-constant field costs 3.5–4×, JAVA-NOTES).
 */
public final class Simd {
    private Simd() {}

    /** Whether the kernels run on the Vector API (false: plain Java loops). */
    public static final boolean VECTOR;
    /** Bits per float vector in the f32/bf16/f16 kernels and the GEMM (0 when {@link #VECTOR} is false). */
    public static final int BITS;
    /**
     * The width the Vector API kernel classes are built for when they are loaded at all: {@link #BITS}, or 256 when
     * the vector path is off (tests may still call them directly to compare against the plain loops).
     */
    public static final int SPECIES_BITS;
    /** Why this width (the source of the choice, for the start-up line). */
    public static final String REASON;

    static {
        String req = System.getProperty("navil4j.simd");
        String source = "-Dnavil4j.simd";
        if (req == null || req.isBlank()) { req = System.getenv("NAVIL4J_SIMD"); source = "NAVIL4J_SIMD"; }
        if (req == null || req.isBlank()) { req = "auto"; source = "auto"; }
        req = req.trim().toLowerCase(Locale.ROOT);
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        int bits;
        String reason;
        switch (req) {
            case "off", "scalar", "0" -> { bits = 0; reason = source + "=off"; }
            case "128", "256", "512" -> {
                bits = module ? Integer.parseInt(req) : 0;
                reason = module ? source + "=" + req : source + "=" + req + " but the jdk.incubator.vector module is not loaded";
            }
            case "auto" -> {
                if (!module) { bits = 0; reason = "the jdk.incubator.vector module is not loaded (--add-modules jdk.incubator.vector)"; }
                else {
                    int preferred = PreferredWidth.bits();
                    bits = preferred == 128 || preferred == 256 || preferred == 512 ? preferred : preferred > 128 ? 128 : 0;
                    reason = "the CPU's preferred vector width is " + preferred + " bits";
                }
            }
            default -> throw new IllegalArgumentException(source + "=" + req + ": expected auto, off, 128, 256 or 512");
        }
        BITS = bits;
        VECTOR = bits > 0;
        SPECIES_BITS = bits > 0 ? bits : 256;
        REASON = reason;
    }

    /** Floats per vector (1 for the scalar loops). */
    public static int floatLanes() { return VECTOR ? BITS / 32 : 1; }

    /** One line for logs: "SIMD 256-bit Vector API (the CPU's preferred vector width is 256 bits)". */
    public static String describe() {
        return (VECTOR ? "SIMD " + BITS + "-bit Vector API" : "SIMD off: plain Java loops") + " (" + REASON + ")";
    }

    private static volatile boolean logged;

    /**
     * Prints {@link #describe()} to stderr once per JVM when asked to (CLI {@code --verbose}/{@code --stats},
     * {@code serve}, {@code bench}); library users read {@link #describe()} themselves.
     */
    public static void logOnce() {
        if (logged) return;
        synchronized (Simd.class) {
            if (logged) return;
            logged = true;
        }
        System.err.println("navil4j: " + describe());
    }

    /** Kept in its own class: loading it loads the Vector API, which {@link Simd} must not do when the module is off. */
    private static final class PreferredWidth {
        static int bits() { return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize(); }
    }
}
