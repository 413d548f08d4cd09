package dev.navil4j.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * NaN and ±Inf weights are found wherever they sit (every lane of the 8-byte words, a block boundary, the bytes
 * after the last whole word) and nothing finite is flagged, including the largest finite values, whose exponents
 * are all ones but the lowest bit. A fixture checkpoint with one NaN written into it fails to load, naming the file
 * and the tensor. Bit patterns come from the IEEE formats (Float.floatToRawIntBits, Float.floatToFloat16, and
 * bfloat16 as the top half of an f32), not from the scanner.
 */
class NonFiniteScanTest {
    static final Path TINY = Path.of("fixtures/internvl3-tiny/model");

    /** Element bit patterns per dtype: finite edge cases, then NaN, +Inf, -Inf. */
    static long[] finite(DType d) {
        return switch (d) {
            case F32 -> new long[] {Float.floatToRawIntBits(Float.MAX_VALUE) & 0xFFFFFFFFL, Float.floatToRawIntBits(-Float.MAX_VALUE) & 0xFFFFFFFFL,
                    Float.floatToRawIntBits(Float.MIN_VALUE), Float.floatToRawIntBits(-0f) & 0xFFFFFFFFL, Float.floatToRawIntBits(1.5f)};
            case F16 -> new long[] {Float.floatToFloat16(65504f) & 0xFFFF, Float.floatToFloat16(-65504f) & 0xFFFF,
                    Float.floatToFloat16(6e-8f) & 0xFFFF, Float.floatToFloat16(-0f) & 0xFFFF, Float.floatToFloat16(1.5f) & 0xFFFF};
            case BF16 -> new long[] {bf16(Float.MAX_VALUE), bf16(-Float.MAX_VALUE), bf16(Float.MIN_NORMAL), bf16(-0f), bf16(1.5f)};
            default -> throw new IllegalArgumentException();
        };
    }

    static long bf16(float f) { return (Float.floatToRawIntBits(f) >>> 16) & 0xFFFF; }

    static long[] nonFinite(DType d) {
        return switch (d) {
            case F32 -> new long[] {Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(Float.POSITIVE_INFINITY),
                    Float.floatToRawIntBits(Float.NEGATIVE_INFINITY) & 0xFFFFFFFFL};
            case F16 -> new long[] {Float.floatToFloat16(Float.NaN) & 0xFFFF, Float.floatToFloat16(Float.POSITIVE_INFINITY) & 0xFFFF,
                    Float.floatToFloat16(Float.NEGATIVE_INFINITY) & 0xFFFF};
            case BF16 -> new long[] {bf16(Float.NaN), bf16(Float.POSITIVE_INFINITY), bf16(Float.NEGATIVE_INFINITY)};
            default -> throw new IllegalArgumentException();
        };
    }

    static void put(MemorySegment s, DType d, long i, long bits) {
        if (d == DType.F32) s.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, (int) bits);
        else s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, (short) bits);
    }

    @Test
    void findsEveryNonFiniteAndNothingElse() {
        Random rnd = new Random(16);
        try (Arena arena = Arena.ofConfined()) {
            for (DType d : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                // odd element counts leave bytes after the last whole long; 5000 elements span several 4 KiB blocks
                for (int n : new int[] {1, 3, 7, 4096 / d.bytes + 1, 5001}) {
                    MemorySegment s = arena.allocate((long) n * d.bytes);
                    long[] ok = finite(d);
                    for (int i = 0; i < n; i++) put(s, d, i, ok[rnd.nextInt(ok.length)]);
                    assertThat(NonFiniteScan.first(d, s)).as(d + " n=" + n + " all finite").isNull();
                    long[] positions = {0, n - 1, n / 2, Math.min(n - 1, 4096 / d.bytes), Math.min(n - 1, 4096 / d.bytes - 1), rnd.nextInt(n)};
                    long[] bad = nonFinite(d);
                    for (long pos : positions)
                        for (int k = 0; k < bad.length; k++) {
                            long before = d == DType.F32 ? s.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos)
                                    : s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
                            put(s, d, pos, bad[k]);
                            NonFiniteScan.Hit h = NonFiniteScan.first(d, s);
                            assertThat(h).as(d + " n=" + n + " at " + pos).isNotNull();
                            assertThat(h.index()).isEqualTo(pos);
                            assertThat(h.nan()).isEqualTo(k == 0);
                            put(s, d, pos, before);
                        }
                }
            }
        }
    }

    @Test
    void otherDtypesAreNotScanned() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(64);
            s.fill((byte) 0xFF); // all ones: NaN in any float format, -1 as an integer
            assertThat(NonFiniteScan.first(DType.I32, s)).isNull();
            assertThat(NonFiniteScan.first(DType.I64, s)).isNull();
            assertThat(NonFiniteScan.first(DType.BF16, s)).isNotNull();
        }
    }

    /** Writes a BF16 NaN (0x7FC0, the top half of Float.NaN) as element {@code index} of tensor {@code name}. */
    static void poison(Path file, String name, int index) throws Exception {
        byte[] b = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode t = new ObjectMapper().readTree(new String(b, 8, (int) n, StandardCharsets.UTF_8)).get(name);
        assertThat(t.path("dtype").asText()).isEqualTo("BF16");
        int at = 8 + (int) n + t.path("data_offsets").get(0).asInt() + 2 * index;
        b[at] = (byte) 0xC0;
        b[at + 1] = (byte) 0x7F;
        Files.write(file, b);
    }

    @Test
    void fixtureLoadsAndAPoisonedCopyIsRefused(@TempDir Path tmp) throws Exception {
        try (SafeTensors st = SafeTensors.open(TINY)) {
            long t0 = System.nanoTime();
            st.requireFinite();
            System.err.printf("NonFiniteScanTest: internvl3-tiny scanned in %.2f ms (first run, JIT cold)%n", (System.nanoTime() - t0) / 1e6);
        }
        ModelRegistry.load(TINY, LoadOptions.defaults()).close();
        Path d = Files.createDirectories(tmp.resolve("model"));
        try (var files = Files.list(TINY)) {
            for (Path f : (Iterable<Path>) files::iterator) Files.copy(f, d.resolve(f.getFileName()));
        }
        String tensor = "language_model.model.layers.0.mlp.down_proj.weight";
        poison(d.resolve("model.safetensors"), tensor, 4321);
        assertThatThrownBy(() -> ModelRegistry.load(d, LoadOptions.defaults()).close())
                .isInstanceOf(WeightsException.class)
                .message().contains(d.resolve("model.safetensors").toString(), tensor, "NaN", "element 4321");
    }

    /** Throughput on a synthetic BF16 file (64 MiB; {@code -Dnavil4j.scanBenchMb=1024} for the figure in NonFiniteScan's comment). */
    @Test
    void scanThroughput(@TempDir Path tmp) throws Exception {
        int mb = Integer.getInteger("navil4j.scanBenchMb", 64);
        Path f = tmp.resolve("big.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate((long) mb << 20);
            for (long i = 0; i < data.byteSize() / 2; i++) data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (0x3F80 + (i & 0x3F)));
            new SafeTensorsWriter().add(new SafeTensorsWriter.Entry("w", "BF16", new long[] {data.byteSize() / 2}, data)).write(f);
        }
        try (SafeTensors st = SafeTensors.open(f)) {
            st.requireFinite(); // warm: the page cache and the JIT
            long t0 = System.nanoTime();
            st.requireFinite();
            double s = (System.nanoTime() - t0) / 1e9;
            System.err.printf("NonFiniteScanTest: %d MiB BF16 scanned in %.1f ms (%.2f GB/s)%n", mb, s * 1e3, (mb * 1048576.0) / s / 1e9);
        }
    }
}
