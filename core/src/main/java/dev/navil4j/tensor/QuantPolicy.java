package dev.navil4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The {@code --weights} load policy for the LLM's linear layers. Family code calls
 * {@link #apply(WeightTensor, String)} (with {@code LoadOptions.weights()}) on each LLM linear weight it loads (q/k/v/o, gate/up/down, wqkv/wo,
 * w1/w2/w3, experts) — never on embeddings, norms, the vision encoder or the projector — and otherwise does not
 * change: quantization is a tensor type.
 * <ul>
 * <li>{@code auto} (or null/empty): the stored format, mapped, untouched;</li>
 * <li>{@code q8} / {@code q4}: F32/BF16/F16 matrices are block-quantized in memory (Q8_0 / Q4_0-like); tensors
 * already stored quantized (a {@code quantize}d checkpoint) are used as they are, never re-quantized; matrices
 * whose columns are not a multiple of 32 stay in their stored format;</li>
 * <li>{@code f32} / {@code bf16} / {@code f16}: converted to that float format in memory (if not already).</li>
 * </ul>
 */
public final class QuantPolicy {
    private QuantPolicy() {}

    public static WeightTensor apply(WeightTensor w, String weights) {
        String p = weights == null ? "auto" : weights.toLowerCase(Locale.ROOT);
        DType target = switch (p) {
            case "", "auto" -> null;
            case "q8", "q8_0" -> DType.Q8;
            case "q4", "q4_0" -> DType.Q4;
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> throw new IllegalArgumentException("unknown --weights '" + weights + "' (auto, f32, bf16, f16, q8, q4)");
        };
        if (target == null || w.dtype() == target) return w;
        return switch (target) {
            case Q8, Q4 -> {
                if (w.dtype() == DType.Q8 || w.dtype() == DType.Q4 || w.cols % QuantKernels.BLOCK != 0) yield w;
                yield target == DType.Q8 ? Q8Tensor.quantize(w) : Q4Tensor.quantize(w);
            }
            default -> convert(w, target);
        };
    }

    /**
     * The LM head's format for a {@code --weights} request (every family): never below 8 bits (q4 → q8,
     * as llama.cpp keeps its output tensor at Q8_0/Q6_K beside Q4_0 layers); every other choice as asked.
     */
    public static String headWeights(String weights) {
        return weights != null && (weights.equalsIgnoreCase("q4") || weights.equalsIgnoreCase("q4_0")) ? "q8" : weights;
    }

    /** w widened to f32 row by row and stored as {@code target} (F32, BF16 round-to-nearest-even, F16) off-heap. */
    public static WeightTensor convert(WeightTensor w, DType target) {
        MemorySegment seg = Arena.ofAuto().allocate(target.byteSize((long) w.rows * w.cols), 8);
        Parallel.forRange(w.rows, 16, (from, to) -> {
            float[] row = new float[w.cols];
            for (int r = from; r < to; r++) {
                w.rowToFloat(r, row, 0);
                long base = (long) r * w.cols;
                for (int j = 0; j < w.cols; j++) {
                    switch (target) {
                        case F32 -> seg.setAtIndex(Convert.LE_FLOAT, base + j, row[j]);
                        case BF16 -> seg.setAtIndex(Convert.LE_SHORT, base + j, Convert.floatToBf16(row[j]));
                        case F16 -> seg.setAtIndex(Convert.LE_SHORT, base + j, Float.floatToFloat16(row[j]));
                        default -> throw new IllegalArgumentException("cannot convert to " + target);
                    }
                }
            }
        });
        return WeightTensor.of(w.name, target, seg, w.rows, w.cols);
    }
}
