package dev.navil4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * The sum of a float vector's lanes in one fixed order, the same before and after C2 compiles the caller.
 * {@code reduceLanes(ADD)} adds left to right in the Vector API's Java fallback (interpreter, C1) and as a tree
 * in C2's intrinsic, so one input gave results 1 ulp apart depending on when the kernel was compiled — the same
 * attention run three times in fresh JVMs gave three different bit patterns. Here the tree is spelled out: lane i
 * is added to lane i ^ half, then i ^ half/2, … (lane-wise IEEE adds, the same in every mode), and lane 0 holds
 * ((v0 + v8) + (v4 + v12)) + ((v2 + v10) + (v6 + v14)) + … . In C2 each step is one permute and one add, the cost
 * of the intrinsic's own tree.
 */
final class LaneSum {
    private LaneSum() {}

    private static final VectorShuffle<Float> X16_8 = VectorShuffle.fromOp(FloatVector.SPECIES_512, i -> i ^ 8);
    private static final VectorShuffle<Float> X16_4 = VectorShuffle.fromOp(FloatVector.SPECIES_512, i -> i ^ 4);
    private static final VectorShuffle<Float> X16_2 = VectorShuffle.fromOp(FloatVector.SPECIES_512, i -> i ^ 2);
    private static final VectorShuffle<Float> X16_1 = VectorShuffle.fromOp(FloatVector.SPECIES_512, i -> i ^ 1);
    private static final VectorShuffle<Float> X8_4 = VectorShuffle.fromOp(FloatVector.SPECIES_256, i -> i ^ 4);
    private static final VectorShuffle<Float> X8_2 = VectorShuffle.fromOp(FloatVector.SPECIES_256, i -> i ^ 2);
    private static final VectorShuffle<Float> X8_1 = VectorShuffle.fromOp(FloatVector.SPECIES_256, i -> i ^ 1);
    private static final VectorShuffle<Float> X4_2 = VectorShuffle.fromOp(FloatVector.SPECIES_128, i -> i ^ 2);
    private static final VectorShuffle<Float> X4_1 = VectorShuffle.fromOp(FloatVector.SPECIES_128, i -> i ^ 1);

    /** Σ of v's lanes in the fixed butterfly order (16, 8 or 4 lanes; other lengths left to right). */
    static float of(FloatVector v) {
        switch (v.length()) {
            case 16 -> {
                v = v.add(v.rearrange(X16_8));
                v = v.add(v.rearrange(X16_4));
                v = v.add(v.rearrange(X16_2));
                v = v.add(v.rearrange(X16_1));
            }
            case 8 -> {
                v = v.add(v.rearrange(X8_4));
                v = v.add(v.rearrange(X8_2));
                v = v.add(v.rearrange(X8_1));
            }
            case 4 -> {
                v = v.add(v.rearrange(X4_2));
                v = v.add(v.rearrange(X4_1));
            }
            default -> {
                float s = v.lane(0);
                for (int i = 1; i < v.length(); i++) s += v.lane(i);
                return s;
            }
        }
        return v.lane(0);
    }

    /** The same order in plain floats (the reference the tests compare against). */
    static float reference(float[] lanes) {
        int n = lanes.length;
        if (n != 16 && n != 8 && n != 4) {
            float s = lanes[0];
            for (int i = 1; i < n; i++) s += lanes[i];
            return s;
        }
        float[] v = lanes.clone();
        for (int half = n / 2; half >= 1; half /= 2) {
            float[] w = new float[n];
            for (int i = 0; i < n; i++) w[i] = v[i] + v[i ^ half];
            v = w;
        }
        return v[0];
    }
}
