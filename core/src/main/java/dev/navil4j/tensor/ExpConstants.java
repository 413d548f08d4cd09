package dev.navil4j.tensor;

/** The constants of {@link VectorKernels#exp} / {@link ScalarKernels#exp} (a Vector-API-free class). */
final class ExpConstants {
    private ExpConstants() {}

    static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2^23: x·log2e + ROUNDER rounds x·log2e to the nearest integer in the low mantissa bits. */
    static final float ROUNDER = 12582912f;
    static final int ROUNDER_BITS = 0x4B400000;
    /** ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 significant bits so that n·LN2_HI is exact for |n| ≤ 128. */
    static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** e^r ≈ 1 + r + r²·(((((P0·r + P1)·r + P2)·r + P3)·r + P4)·r + P5) on |r| ≤ ln2/2 (Cephes expf). */
    static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    /** Below LOW (e^x &lt; 2.7e-38, 2.3·Float.MIN_NORMAL) the scale 2^(n−1) would leave the normal range: 0. Above HIGH e^x exceeds Float.MAX_VALUE: +∞. */
    static final float LOW = -86.5f, HIGH = 88.72283935546875f;
}
