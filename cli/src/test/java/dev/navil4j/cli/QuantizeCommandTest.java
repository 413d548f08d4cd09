package dev.navil4j.cli;

import dev.navil4j.tensor.Convert;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.Q4Tensor;
import dev.navil4j.tensor.Q8Tensor;
import dev.navil4j.tensor.QuantPolicy;
import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.SafeTensorsWriter;
import dev.navil4j.weights.TensorInfo;
import dev.navil4j.weights.WeightsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** quantize writes a checkpoint whose LLM matrices load as Q8/Q4 (same bytes as quantizing at load), the rest unchanged. */
class QuantizeCommandTest {
    static TensorInfo bf16(String name, int rows, int cols, Random rnd) {
        long n = (long) rows * Math.max(1, cols);
        MemorySegment seg = Arena.ofAuto().allocate(n * 2);
        for (long i = 0; i < n; i++) seg.setAtIndex(Convert.LE_SHORT, i, Convert.floatToBf16((float) rnd.nextGaussian()));
        return new TensorInfo(name, DType.BF16, cols == 0 ? new long[]{rows} : new long[]{rows, cols}, seg, null);
    }

    static Path checkpoint(Path dir) throws Exception {
        Random rnd = new Random(1);
        Files.createDirectories(dir);
        new SafeTensorsWriter().metadata("format", "pt")
                .add(bf16("language_model.model.layers.0.self_attn.q_proj.weight", 24, 64, rnd))
                .add(bf16("language_model.model.layers.0.mlp.down_proj.weight", 8, 96, rnd))
                .add(bf16("language_model.model.layers.0.input_layernorm.weight", 64, 0, rnd))
                .add(bf16("language_model.model.embed_tokens.weight", 50, 64, rnd))
                .add(bf16("vision_model.encoder.layers.0.attn.qkv.weight", 12, 64, rnd))
                .add(bf16("language_model.model.layers.0.self_attn.o_proj.weight", 8, 40, rnd)) // 40 % 32 != 0
                .write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"X\"]}");
        return dir;
    }

    @Test
    void reportsProgressPerTensor(@TempDir Path tmp) throws Exception {
        Path in = checkpoint(tmp.resolve("in"));
        java.util.List<dev.navil4j.ProgressEvent> events = new java.util.ArrayList<>();
        QuantizeCommand.quantize(in, tmp.resolve("out"), "q8", Pattern.compile(QuantizeCommand.DEFAULT_INCLUDE), events::add);
        // checkpoint() writes six tensors: one event before each, and the closing one with done == total
        assertEquals(7, events.size());
        java.util.Set<String> named = new java.util.HashSet<>();
        for (int i = 0; i < events.size(); i++) {
            var e = events.get(i);
            assertEquals(dev.navil4j.ProgressEvent.Stage.QUANTIZE, e.stage());
            assertEquals(dev.navil4j.ProgressEvent.Unit.TENSORS, e.unit());
            assertEquals(6, e.total());
            assertEquals(i, e.done());
            if (i < 6) named.add(e.detail());
        }
        assertTrue(events.get(6).finished());
        try (SafeTensors a = SafeTensors.open(in)) {
            assertEquals(new java.util.HashSet<>(a.names()), named, "each event names the tensor being written");
        }
    }

    @Test
    void quantizedCheckpointLoadsWithoutRequantizing(@TempDir Path tmp) throws Exception {
        Path in = checkpoint(tmp.resolve("in"));
        for (String fmt : new String[]{"q8", "q4"}) {
            Path out = tmp.resolve("out-" + fmt);
            var s = QuantizeCommand.quantize(in, out, fmt, Pattern.compile(QuantizeCommand.DEFAULT_INCLUDE), null);
            assertEquals(2, s.quantized());
            assertEquals(4, s.copied());
            assertTrue(s.bytesAfter() < s.bytesBefore());
            assertEquals(Files.readString(in.resolve("config.json")), Files.readString(out.resolve("config.json")));
            DType q = fmt.equals("q8") ? DType.Q8 : DType.Q4;
            try (SafeTensors a = SafeTensors.open(in); SafeTensors b = SafeTensors.open(out)) {
                assertEquals("pt", b.metadata().get("format"));
                assertEquals(a.names(), b.names());
                for (String name : a.names()) {
                    TensorInfo ta = a.get(name), tb = b.get(name);
                    boolean quantized = name.endsWith("q_proj.weight") || name.endsWith("down_proj.weight");
                    assertEquals(quantized ? q : ta.dtype(), tb.dtype(), name);
                    assertArrayEquals(ta.shape(), tb.shape(), name);
                    WeightTensor expect = quantized ? QuantPolicy.apply(ta.matrix(), fmt) : null;
                    MemorySegment want = quantized ? expect.data() : ta.data();
                    assertEquals(-1, want.mismatch(tb.data()), name + " bytes differ");
                    if (quantized) {
                        WeightTensor loaded = tb.matrix();
                        assertEquals(q == DType.Q8 ? Q8Tensor.class : Q4Tensor.class, loaded.getClass());
                        // the load policy must not re-quantize an already quantized tensor
                        assertSame(loaded, QuantPolicy.apply(loaded, fmt));
                        assertSame(loaded, QuantPolicy.apply(loaded, fmt.equals("q8") ? "q4" : "q8"));
                    }
                }
            }
        }
    }

    @Test
    void corruptQuantMetadataIsAClearError(@TempDir Path tmp) throws Exception {
        MemorySegment bytes = Arena.ofAuto().allocate(36);
        Path f = tmp.resolve("bad.safetensors");
        new SafeTensorsWriter().metadata(SafeTensorsWriter.QUANTIZED_KEY, "{\"w\": {\"dtype\": \"Q8\", \"shape\": [2, 32]}}")
                .add(new SafeTensorsWriter.Entry("w", "U8", new long[]{36}, bytes)).write(f);
        WeightsException e = assertThrows(WeightsException.class, () -> SafeTensors.open(f));
        assertTrue(e.getMessage().contains("needs 72 bytes"), e.getMessage());
        new SafeTensorsWriter().metadata(SafeTensorsWriter.QUANTIZED_KEY, "not json")
                .add(new SafeTensorsWriter.Entry("w", "U8", new long[]{36}, bytes)).write(f);
        assertThrows(WeightsException.class, () -> SafeTensors.open(f));
    }

    @Test
    void policyValues() {
        WeightTensor w = WeightTensor.ofFloats("w", new float[64], 2, 32);
        assertSame(w, QuantPolicy.apply(w, "auto"));
        assertSame(w, QuantPolicy.apply(w, (String) null));
        assertEquals(DType.BF16, QuantPolicy.apply(w, "bf16").dtype());
        assertEquals(DType.Q4, QuantPolicy.apply(w, "q4").dtype());
        assertThrows(IllegalArgumentException.class, () -> QuantPolicy.apply(w, "q3"));
    }
}
