package dev.navil4j.weights;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.WeightTensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a single safetensors file, streaming tensor bytes from their (mapped or off-heap) segments.
 * <p>Block-quantized tensors (Q8/Q4, navil4j's own formats) are stored as standard {@code U8} byte tensors so
 * that any safetensors tool can still open the file; their logical dtype and shape go into the metadata key
 * {@value #QUANTIZED_KEY} as a JSON object {@code {"name": {"dtype": "Q8", "shape": [rows, cols]}}}, which
 * {@link SafeTensors} reads back so they load as Q8/Q4 without re-quantizing.
 */
public final class SafeTensorsWriter {
    /** Metadata key listing the quantized tensors and their logical dtype/shape. */
    public static final String QUANTIZED_KEY = "navil4j.quantized";

    /** One tensor to write: its safetensors dtype name, shape and exactly its bytes. */
    public record Entry(String name, String dtype, long[] shape, MemorySegment data) {
        /** A tensor as stored in a checkpoint (dtype and bytes unchanged). */
        public static Entry of(TensorInfo t) { return new Entry(t.name(), t.dtype().safetensorsName, t.shape(), t.data()); }
    }

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final ObjectNode quantized = Json.MAPPER.createObjectNode();

    public SafeTensorsWriter metadata(String key, String value) { metadata.put(key, value); return this; }

    public SafeTensorsWriter add(Entry e) {
        for (Entry o : entries) if (o.name().equals(e.name())) throw new IllegalArgumentException("tensor " + e.name() + " added twice");
        entries.add(e);
        return this;
    }

    public SafeTensorsWriter add(TensorInfo t) { return add(Entry.of(t)); }

    /** Adds a weight matrix in its own format; Q8/Q4 become U8 bytes plus a {@value #QUANTIZED_KEY} entry. */
    public SafeTensorsWriter add(WeightTensor w) {
        DType d = w.dtype();
        if (d == DType.Q8 || d == DType.Q4) {
            add(new Entry(w.name, "U8", new long[]{w.data().byteSize()}, w.data()));
            ObjectNode q = quantized.putObject(w.name);
            q.put("dtype", d.safetensorsName);
            q.putArray("shape").add(w.rows).add(w.cols);
            return this;
        }
        return add(new Entry(w.name, d.safetensorsName, new long[]{w.rows, w.cols}, w.data()));
    }

    /** Writes the file (header padded with spaces to a multiple of 8 bytes, tensors in insertion order). */
    public void write(Path file) throws IOException {
        ObjectNode header = Json.MAPPER.createObjectNode();
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        if (!quantized.isEmpty()) meta.put(QUANTIZED_KEY, Json.MAPPER.writeValueAsString(quantized));
        if (!meta.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            meta.forEach(m::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", e.dtype());
            ArrayNode sh = t.putArray("shape");
            for (long s : e.shape()) sh.add(s);
            t.putArray("data_offsets").add(offset).add(offset + e.data().byteSize());
            offset += e.data().byteSize();
        }
        byte[] json = Json.MAPPER.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            while (head.hasRemaining()) ch.write(head);
            for (Entry e : entries) {
                MemorySegment d = e.data();
                for (long o = 0; o < d.byteSize(); o += 1L << 30) {
                    ByteBuffer b = d.asSlice(o, Math.min(1L << 30, d.byteSize() - o)).asByteBuffer();
                    while (b.hasRemaining()) ch.write(b);
                }
            }
        }
    }
}
