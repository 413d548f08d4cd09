package dev.navil4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.navil4j.tensor.QuantKernels.BLOCK;
import static dev.navil4j.tensor.QuantKernels.Q4_BLOCK_BYTES;
import static dev.navil4j.tensor.QuantKernels.Q8_BLOCK_BYTES;

/**
 * The Vector API bodies of {@link QuantKernels} (block layouts documented there), at 256 bits and at 128 bits.
 * Bytes are loaded 8 or 16 at a time and converted from part 0 (convertShape with part &gt; 0 is slow, JAVA-NOTES).
 * The block bodies are written out in each kernel on purpose: a helper taking or returning vectors that the JIT
 * does not inline boxes them (measured 50-100x slower), and these kernels exceed the inlining budget.
 */
final class VectorQuantKernels {
    private VectorQuantKernels() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
    static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * The decode GEMV's Q8 kernel on int8 activations ({@link QuantizedVector}, the llama.cpp Q8_0×Q8_0 scheme):
     * Σ_j W[row, j]·x̃[j] for the row at byteOff. Per block, 16 weight bytes at a time are sign-extended to 16-bit
     * lanes (one vpmovsxbw) and multiplied with the 16-bit activations (|product| ≤ 127·127); the block's two halves
     * are added in 16-bit lanes (|sum| ≤ 2·127·127 &lt; 2^15), then adjacent pairs are summed into 32-bit lanes. Only
     * that exact integer block dot is converted to f32, once per block, and scaled by d_w·d_x.
     * <p>One row at a time, 4 blocks per step into 4 accumulators (tail blocks into the first): on DRAM-resident
     * weights a single sequential stream per thread measured ~25 % faster than interleaving 4 rows (4 streams),
     * which only wins when the matrix sits in cache.
     */
    static float dotQ8Int(MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        short[] xq = x.q;
        float[] xd = x.d;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        // one int induction variable (the activation index); block index and byte offset derive from it
        int mainEnd = (nBlocks & ~3) * BLOCK, end = nBlocks * BLOCK;
        int xi = 0;
        for (; xi < mainEnd; xi += 4 * BLOCK) {
            long p = byteOff + (long) (xi >> 5) * Q8_BLOCK_BYTES;
            ShortVector x0l = ShortVector.fromArray(S, xq, xi), x0h = ShortVector.fromArray(S, xq, xi + 16);
            IntVector s0 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0h)).reinterpretAsInts();
            s0 = s0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s0.lanewise(VectorOperators.ASHR, 16));
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p) * xd[(xi >> 5)]), a0);
            ShortVector x1l = ShortVector.fromArray(S, xq, xi + 32), x1h = ShortVector.fromArray(S, xq, xi + 32 + 16);
            IntVector s1 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 36 + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x1l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 36 + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x1h)).reinterpretAsInts();
            s1 = s1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s1.lanewise(VectorOperators.ASHR, 16));
            a1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 36) * xd[(xi >> 5) + 1]), a1);
            ShortVector x2l = ShortVector.fromArray(S, xq, xi + 64), x2h = ShortVector.fromArray(S, xq, xi + 64 + 16);
            IntVector s2 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 72 + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x2l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 72 + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x2h)).reinterpretAsInts();
            s2 = s2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s2.lanewise(VectorOperators.ASHR, 16));
            a2 = ((FloatVector) s2.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 72) * xd[(xi >> 5) + 2]), a2);
            ShortVector x3l = ShortVector.fromArray(S, xq, xi + 96), x3h = ShortVector.fromArray(S, xq, xi + 96 + 16);
            IntVector s3 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 108 + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x3l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 108 + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x3h)).reinterpretAsInts();
            s3 = s3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s3.lanewise(VectorOperators.ASHR, 16));
            a3 = ((FloatVector) s3.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 108) * xd[(xi >> 5) + 3]), a3);
        }
        for (; xi < end; xi += BLOCK) {
            long p = byteOff + (long) (xi >> 5) * Q8_BLOCK_BYTES;
            ShortVector x0l = ShortVector.fromArray(S, xq, xi), x0h = ShortVector.fromArray(S, xq, xi + 16);
            IntVector s0 = ((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 4, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0l)
                    .add(((ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 20, LE).convertShape(VectorOperators.B2S, S, 0)).mul(x0h)).reinterpretAsInts();
            s0 = s0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(s0.lanewise(VectorOperators.ASHR, 16));
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p) * xd[(xi >> 5)]), a0);
        }
        return LaneSum.of(a0.add(a1).add(a2.add(a3)));
    }

    /**
     * The decode GEMV's Q4 kernel on int8 activations, structured as {@link #dotQ8Int}. The block's 16 bytes are
     * zero-extended to 16-bit lanes (one vpmovzxbw); the low nibbles (AND 15) pair with activations 0..15 and the
     * high nibbles (shift right 4) with 16..31. The −8 offset enters through {@link QuantizedVector#q4Offset}
     * (−8·(x_k + x_{k+16}) per lane), so each 16-bit lane holds (lo−8)·x_k + (hi−8)·x_{k+16} exactly
     * (|·| ≤ 2·8·127). Adjacent lanes are summed in 3 ops: t = s + (s &lt;&lt; 16) has lo+hi in its upper half (no
     * overflow: |lo+hi| ≤ 4·8·127 &lt; 2^15), an arithmetic shift right by 16 extracts it.
     */
    static float dotQ4Int(MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        short[] xq = x.q, xo8 = x.q4Offset;
        float[] xd = x.d;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        // one int induction variable (the activation index); block index and byte offset derive from it
        int mainEnd = (nBlocks & ~3) * BLOCK, end = nBlocks * BLOCK;
        int xi = 0;
        for (; xi < mainEnd; xi += 4 * BLOCK) {
            long p = byteOff + (long) (xi >> 5) * Q4_BLOCK_BYTES;
            ShortVector x0l = ShortVector.fromArray(S, xq, xi), x0h = ShortVector.fromArray(S, xq, xi + 16);
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s0 = w0.lanewise(VectorOperators.AND, (short) 15).mul(x0l).add(w0.lanewise(VectorOperators.LSHR, 4).mul(x0h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1))).reinterpretAsInts();
            s0 = s0.add(s0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p) * xd[(xi >> 5)]), a0);
            ShortVector x1l = ShortVector.fromArray(S, xq, xi + 32), x1h = ShortVector.fromArray(S, xq, xi + 32 + 16);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 20 + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s1 = w1.lanewise(VectorOperators.AND, (short) 15).mul(x1l).add(w1.lanewise(VectorOperators.LSHR, 4).mul(x1h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1) + 16)).reinterpretAsInts();
            s1 = s1.add(s1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 20) * xd[(xi >> 5) + 1]), a1);
            ShortVector x2l = ShortVector.fromArray(S, xq, xi + 64), x2h = ShortVector.fromArray(S, xq, xi + 64 + 16);
            ShortVector w2 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 40 + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s2 = w2.lanewise(VectorOperators.AND, (short) 15).mul(x2l).add(w2.lanewise(VectorOperators.LSHR, 4).mul(x2h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1) + 32)).reinterpretAsInts();
            s2 = s2.add(s2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a2 = ((FloatVector) s2.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 40) * xd[(xi >> 5) + 2]), a2);
            ShortVector x3l = ShortVector.fromArray(S, xq, xi + 96), x3h = ShortVector.fromArray(S, xq, xi + 96 + 16);
            ShortVector w3 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 60 + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s3 = w3.lanewise(VectorOperators.AND, (short) 15).mul(x3l).add(w3.lanewise(VectorOperators.LSHR, 4).mul(x3h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1) + 48)).reinterpretAsInts();
            s3 = s3.add(s3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a3 = ((FloatVector) s3.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p + 60) * xd[(xi >> 5) + 3]), a3);
        }
        for (; xi < end; xi += BLOCK) {
            long p = byteOff + (long) (xi >> 5) * Q4_BLOCK_BYTES;
            ShortVector x0l = ShortVector.fromArray(S, xq, xi), x0h = ShortVector.fromArray(S, xq, xi + 16);
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B16, seg, p + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector s0 = w0.lanewise(VectorOperators.AND, (short) 15).mul(x0l).add(w0.lanewise(VectorOperators.LSHR, 4).mul(x0h))
                    .add(ShortVector.fromArray(S, xo8, (xi >> 1))).reinterpretAsInts();
            s0 = s0.add(s0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p) * xd[(xi >> 5)]), a0);
        }
        return LaneSum.of(a0.add(a1).add(a2.add(a3)));
    }

    /**
     * {@link #dotQ8Int} at 128 bits (NEON-class): a block is four 8-byte loads widened to 8 shorts; elements k and
     * k+16 share a 16-bit lane (|sum| ≤ 2·127·127 &lt; 2^15) before the pairwise widening to 4 ints. Two blocks
     * per step into two accumulators.
     */
    static float dotQ8Int128(MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        short[] xq = x.q;
        float[] xd = x.d;
        FloatVector a0 = FloatVector.zero(F128), a1 = FloatVector.zero(F128);
        int b = 0;
        for (; b + 2 <= nBlocks; b += 2) {
            long p = byteOff + (long) b * Q8_BLOCK_BYTES;
            int xi = b * BLOCK;
            IntVector u0 = ((ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 4, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xi))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 20, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xi + 16))).reinterpretAsInts();
            IntVector v0 = ((ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 12, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xi + 8))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 28, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xi + 24))).reinterpretAsInts();
            IntVector s0 = u0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(u0.lanewise(VectorOperators.ASHR, 16))
                    .add(v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v0.lanewise(VectorOperators.ASHR, 16));
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F128, seg.get(Convert.LE_FLOAT, p) * xd[b]), a0);
            long q = p + Q8_BLOCK_BYTES;
            int xj = xi + BLOCK;
            IntVector u1 = ((ShortVector) ByteVector.fromMemorySegment(B8, seg, q + 4, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xj))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B8, seg, q + 20, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xj + 16))).reinterpretAsInts();
            IntVector v1 = ((ShortVector) ByteVector.fromMemorySegment(B8, seg, q + 12, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xj + 8))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B8, seg, q + 28, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xj + 24))).reinterpretAsInts();
            IntVector s1 = u1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(u1.lanewise(VectorOperators.ASHR, 16))
                    .add(v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v1.lanewise(VectorOperators.ASHR, 16));
            a1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F128, seg.get(Convert.LE_FLOAT, q) * xd[b + 1]), a1);
        }
        for (; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q8_BLOCK_BYTES;
            int xi = b * BLOCK;
            IntVector u0 = ((ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 4, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xi))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 20, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xi + 16))).reinterpretAsInts();
            IntVector v0 = ((ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 12, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xi + 8))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 28, LE).convertShape(VectorOperators.B2S, S128, 0)).mul(ShortVector.fromArray(S128, xq, xi + 24))).reinterpretAsInts();
            IntVector s0 = u0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(u0.lanewise(VectorOperators.ASHR, 16))
                    .add(v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v0.lanewise(VectorOperators.ASHR, 16));
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F128, seg.get(Convert.LE_FLOAT, p) * xd[b]), a0);
        }
        return LaneSum.of(a0.add(a1));
    }

    /**
     * {@link #dotQ4Int} at 128 bits: the block's bytes 0..7 and 8..15 widen to 8 shorts each; low nibbles pair with
     * activations k, high nibbles with k+16, plus {@link QuantizedVector#q4Offset} for the −8; pairs of 16-bit lanes
     * summed into 32-bit lanes as in the 256-bit kernel.
     */
    static float dotQ4Int128(MemorySegment seg, long byteOff, QuantizedVector x, int nBlocks) {
        short[] xq = x.q, xo8 = x.q4Offset;
        float[] xd = x.d;
        FloatVector a0 = FloatVector.zero(F128), a1 = FloatVector.zero(F128);
        int b = 0;
        for (; b + 2 <= nBlocks; b += 2) {
            long p = byteOff + (long) b * Q4_BLOCK_BYTES;
            int xi = b * BLOCK;
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S128, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 12, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S128, 0);
            IntVector u0 = w0.lanewise(VectorOperators.AND, (short) 15).mul(ShortVector.fromArray(S128, xq, xi)).add(w0.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S128, xq, xi + 16)))
                    .add(ShortVector.fromArray(S128, xo8, b * 16)).reinterpretAsInts();
            IntVector v0 = w1.lanewise(VectorOperators.AND, (short) 15).mul(ShortVector.fromArray(S128, xq, xi + 8)).add(w1.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S128, xq, xi + 24)))
                    .add(ShortVector.fromArray(S128, xo8, b * 16 + 8)).reinterpretAsInts();
            IntVector s0 = u0.add(u0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .add(v0.add(v0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16));
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F128, seg.get(Convert.LE_FLOAT, p) * xd[b]), a0);
            long q = p + Q4_BLOCK_BYTES;
            int xj = xi + BLOCK;
            ShortVector w2 = (ShortVector) ByteVector.fromMemorySegment(B8, seg, q + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S128, 0);
            ShortVector w3 = (ShortVector) ByteVector.fromMemorySegment(B8, seg, q + 12, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S128, 0);
            IntVector u1 = w2.lanewise(VectorOperators.AND, (short) 15).mul(ShortVector.fromArray(S128, xq, xj)).add(w2.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S128, xq, xj + 16)))
                    .add(ShortVector.fromArray(S128, xo8, b * 16 + 16)).reinterpretAsInts();
            IntVector v1 = w3.lanewise(VectorOperators.AND, (short) 15).mul(ShortVector.fromArray(S128, xq, xj + 8)).add(w3.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S128, xq, xj + 24)))
                    .add(ShortVector.fromArray(S128, xo8, b * 16 + 24)).reinterpretAsInts();
            IntVector s1 = u1.add(u1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .add(v1.add(v1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16));
            a1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F128, seg.get(Convert.LE_FLOAT, q) * xd[b + 1]), a1);
        }
        for (; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q4_BLOCK_BYTES;
            int xi = b * BLOCK;
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S128, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B8, seg, p + 12, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S128, 0);
            IntVector u0 = w0.lanewise(VectorOperators.AND, (short) 15).mul(ShortVector.fromArray(S128, xq, xi)).add(w0.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S128, xq, xi + 16)))
                    .add(ShortVector.fromArray(S128, xo8, b * 16)).reinterpretAsInts();
            IntVector v0 = w1.lanewise(VectorOperators.AND, (short) 15).mul(ShortVector.fromArray(S128, xq, xi + 8)).add(w1.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S128, xq, xi + 24)))
                    .add(ShortVector.fromArray(S128, xo8, b * 16 + 8)).reinterpretAsInts();
            IntVector s0 = u0.add(u0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .add(v0.add(v0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16));
            a0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F128, seg.get(Convert.LE_FLOAT, p) * xd[b]), a0);
        }
        return LaneSum.of(a0.add(a1));
    }

    /** One Q8 row. */
    static float dotQ8(MemorySegment seg, long byteOff, float[] x, int xo, int nBlocks) {
        long o0 = byteOff;
        FloatVector a0 = FloatVector.zero(F);
        for (int b = 0; b < nBlocks; b++) {
            int xi = xo + b * BLOCK;
            FloatVector x0 = FloatVector.fromArray(F, x, xi), x1 = FloatVector.fromArray(F, x, xi + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + 16), x3 = FloatVector.fromArray(F, x, xi + 24);
            long p = (long) b * Q8_BLOCK_BYTES;
            long p0 = o0 + p;
            FloatVector y0 = ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p0 + 4, LE).convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            y0 = ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p0 + 12, LE).convertShape(VectorOperators.B2F, F, 0)).fma(x1, y0);
            y0 = ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p0 + 20, LE).convertShape(VectorOperators.B2F, F, 0)).fma(x2, y0);
            y0 = ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p0 + 28, LE).convertShape(VectorOperators.B2F, F, 0)).fma(x3, y0);
            a0 = y0.fma(FloatVector.broadcast(F, seg.get(Convert.LE_FLOAT, p0)), a0);
        }
        return LaneSum.of(a0);
    }

    /** One Q4 row. */
    static float dotQ4(MemorySegment seg, long byteOff, float[] x, int xo, int nBlocks) {
        long o0 = byteOff;
        FloatVector a0 = FloatVector.zero(F);
        float c0 = 0;
        for (int b = 0; b < nBlocks; b++) {
            int xi = xo + b * BLOCK;
            FloatVector x0 = FloatVector.fromArray(F, x, xi), x1 = FloatVector.fromArray(F, x, xi + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + 16), x3 = FloatVector.fromArray(F, x, xi + 24);
            float sx = LaneSum.of(x0.add(x1).add(x2.add(x3)));
            long p = (long) b * Q4_BLOCK_BYTES;
            long p0 = o0 + p;
            IntVector l0 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p0 + 4, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector h0 = (IntVector) ByteVector.fromMemorySegment(B8, seg, p0 + 12, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector y0 = ((FloatVector) l0.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).mul(x0);
            y0 = ((FloatVector) h0.lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x1, y0);
            y0 = ((FloatVector) l0.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x2, y0);
            y0 = ((FloatVector) h0.lanewise(VectorOperators.ASHR, 4).lanewise(VectorOperators.AND, 0x0f).convert(VectorOperators.I2F, 0)).fma(x3, y0);
            float d0 = seg.get(Convert.LE_FLOAT, p0);
            a0 = y0.fma(FloatVector.broadcast(F, d0), a0);
            c0 += d0 * sx;
        }
        return LaneSum.of(a0) - 8 * c0;
    }

    /** dst[off..off+nBlocks·32) = the Q8 blocks at byteOff dequantized (d·q in f32). */
    static void dequantQ8(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q8_BLOCK_BYTES;
            float d = seg.get(Convert.LE_FLOAT, p);
            int o = off + b * BLOCK;
            // 4 × 8 int8 widened to f32 lanes and scaled (the batched-decode path dequantizes each row once)
            for (int j = 0; j < BLOCK; j += 8)
                ((FloatVector) ByteVector.fromMemorySegment(B8, seg, p + 4 + j, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, o + j);
        }
    }

    /** As {@link #dequantQ8} for Q4 blocks (low nibbles are values 0..15, high nibbles 16..31, each minus 8). */
    static void dequantQ4(MemorySegment seg, long byteOff, int nBlocks, float[] dst, int off) {
        for (int b = 0; b < nBlocks; b++) {
            long p = byteOff + (long) b * Q4_BLOCK_BYTES;
            float d = seg.get(Convert.LE_FLOAT, p);
            int o = off + b * BLOCK;
            for (int j = 0; j < 16; j += 8) {
                ByteVector v = ByteVector.fromMemorySegment(B8, seg, p + 4 + j, LE);
                ((FloatVector) v.lanewise(VectorOperators.AND, (byte) 0x0f).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d).intoArray(dst, o + j);
                ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.AND, (byte) 0x0f).sub((byte) 8)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, o + j + 16);
            }
        }
    }

}
