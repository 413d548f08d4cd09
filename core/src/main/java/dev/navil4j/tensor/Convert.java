package dev.navil4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Element reads and bulk conversions from stored dtypes to f32 (exact: bf16/f16 widen without rounding). */
public final class Convert {
    public static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Convert() {}

    public static float bf16ToFloat(short bits) { return Float.intBitsToFloat((bits & 0xffff) << 16); }

    /** Round-to-nearest-even f32 → bf16, as torch's {@code .to(torch.bfloat16)}. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) 0x7fc0;
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float getFloat(DType t, MemorySegment s, long i) {
        return switch (t) {
            case F32 -> s.getAtIndex(LE_FLOAT, i);
            case BF16 -> bf16ToFloat(s.getAtIndex(LE_SHORT, i));
            case F16 -> Float.float16ToFloat(s.getAtIndex(LE_SHORT, i));
            case I32 -> s.getAtIndex(LE_INT, i);
            case I64 -> s.getAtIndex(LE_LONG, i);
            default -> throw new IllegalArgumentException("no element access for " + t);
        };
    }

    /** out[outOff..outOff+n) = element (from .. from+n) of s, converted to f32. */
    public static void toFloat(DType t, MemorySegment s, long from, float[] out, int outOff, int n) {
        switch (t) {
            case F32 -> MemorySegment.copy(s, LE_FLOAT, from * 4, out, outOff, n);
            case BF16 -> { for (int i = 0; i < n; i++) out[outOff + i] = bf16ToFloat(s.getAtIndex(LE_SHORT, from + i)); }
            case F16 -> { for (int i = 0; i < n; i++) out[outOff + i] = Float.float16ToFloat(s.getAtIndex(LE_SHORT, from + i)); }
            default -> { for (int i = 0; i < n; i++) out[outOff + i] = getFloat(t, s, from + i); }
        }
    }
}
