package dev.navil4j.tensor;

/** Element types of stored tensors, with the safetensors names they are written under. */
public enum DType {
    F32("F32", 4), F16("F16", 2), BF16("BF16", 2), I64("I64", 8), I32("I32", 4),
    /** Block-quantized int8: per block of 32 values one f32 scale + 32 int8 (like ggml Q8_0, f32 scale). */
    Q8("Q8", 0),
    /** Block-quantized int4: per block of 32 values one f32 scale + 16 bytes of nibbles (like ggml Q4_0). */
    Q4("Q4", 0);

    public final String safetensorsName;
    /** Bytes per element; 0 for block formats (see {@link #byteSize(long)}). */
    public final int bytes;

    DType(String name, int bytes) { this.safetensorsName = name; this.bytes = bytes; }

    public long byteSize(long elements) {
        return switch (this) {
            case Q8 -> (elements / 32) * (4 + 32);
            case Q4 -> (elements / 32) * (4 + 16);
            default -> elements * bytes;
        };
    }

    /** The dtype for a safetensors header name, or null when navil4j does not read that type. */
    public static DType fromSafetensors(String name) {
        for (DType d : values()) if (d.safetensorsName.equals(name)) return d;
        return null;
    }
}
