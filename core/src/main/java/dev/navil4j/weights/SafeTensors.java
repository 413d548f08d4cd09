package dev.navil4j.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.tensor.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.*;

/**
 * A checkpoint of one or more memory-mapped safetensors files (single file, or sharded through
 * {@code model.safetensors.index.json}). Tensors are zero-copy views into the mapping; nothing is read
 * until used. Files of any size are fine (the mapping is a {@link MemorySegment}, not a ByteBuffer).
 * <p>The header is validated before any tensor is handed out: header length, JSON, dtype names, that
 * shape × element size equals the byte range, that ranges lie inside the data area and do not overlap.
 * Every failure names the file and the tensor.
 * <p>Thread-safe for reads; {@link #close()} unmaps every file (views must not be used afterwards).
 */
public final class SafeTensors implements AutoCloseable {
    /** Headers beyond this are refused before allocation: real ones are a few MB at most. */
    static final long MAX_HEADER_BYTES = 256L << 20;
    /** Valid safetensors dtypes that navil4j maps but cannot compute with. */
    private static final Set<String> OTHER_SAFETENSORS_DTYPES =
            Set.of("F64", "I8", "U8", "I16", "U16", "U32", "U64", "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "E8M0", "C64");

    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Set<String> used = Collections.synchronizedSet(new HashSet<>());
    private final Path location;

    /** Makes tensors on first request (see {@link #synthetic}); null for checkpoints on disk. */
    private java.util.function.BiFunction<String, long[], TensorInfo> provider;

    private SafeTensors(Path location) { this.location = location; }

    /** Load progress (see {@link #reportProgress}); NONE until a loader asks for it. */
    private volatile dev.navil4j.ProgressListener progress = dev.navil4j.ProgressListener.NONE;
    /** Steps before the first {@link #get} reports (the NaN/Inf scan's tensors) and in all. */
    private int progressBase, progressTotal;

    /**
     * Reports {@link dev.navil4j.ProgressEvent.Stage#LOAD} to {@code listener} from now on, one step per tensor:
     * first each tensor {@link #requireFinite} scans, then each tensor the model takes with {@link #get} (the model
     * converts or quantizes it right after, so the count follows the real work). Loaders call it right after
     * opening; the model registry sends the final {@code done == total} (a checkpoint may hold tensors a model skips).
     */
    public SafeTensors reportProgress(dev.navil4j.ProgressListener listener) {
        progress = dev.navil4j.ProgressListener.orNone(listener);
        boolean scans = provider == null && NonFiniteScan.enabled();
        progressTotal = Math.max(1, tensors.size() * (scans ? 2 : 1));
        return this;
    }

    /**
     * A checkpoint with nothing on disk whose tensors {@code provider} makes on first request (name, expected
     * shape): benchmarks run the real model classes on synthesized weights of real shapes this way. Every name
     * is {@link #contains contained}; {@link #get(String, long...)} asks the provider for a tensor not made yet.
     * The provider owns the tensors' memory ({@link #close()} frees nothing of it).
     */
    public static SafeTensors synthetic(String label, java.util.function.BiFunction<String, long[], TensorInfo> provider) {
        SafeTensors st = new SafeTensors(Path.of("synthetic-" + label));
        st.provider = java.util.Objects.requireNonNull(provider);
        return st;
    }

    /**
     * Opens a checkpoint: a {@code .safetensors} file, or a directory holding {@code model.safetensors.index.json},
     * {@code model.safetensors}, or any set of {@code *.safetensors} files.
     */
    public static SafeTensors open(Path path) {
        SafeTensors st = new SafeTensors(path);
        try {
            if (Files.isDirectory(path)) {
                Path index = path.resolve("model.safetensors.index.json");
                if (Files.exists(index)) st.openIndex(path, index);
                else {
                    List<Path> files;
                    try (var s = Files.list(path)) {
                        files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
                    }
                    if (files.isEmpty()) throw new WeightsException(path + ": no *.safetensors file in this directory");
                    for (Path f : files) st.openFile(f);
                }
            } else {
                st.openFile(path);
            }
            return st;
        } catch (IOException e) {
            st.close();
            throw new WeightsException(path + ": " + (e instanceof NoSuchFileException ? "no such file" : e.toString()), e);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    private void openIndex(Path dir, Path index) throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new WeightsException(index + ": invalid JSON: " + e.getOriginalMessage());
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new WeightsException(index + ": missing \"weight_map\" object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        map.fields().forEachRemaining(e -> {
            if (!e.getValue().isTextual()) throw new WeightsException(index + ": weight_map[" + e.getKey() + "] is not a file name");
            weightMap.put(e.getKey(), e.getValue().asText());
        });
        for (String file : new LinkedHashSet<>(weightMap.values())) {
            Path f = dir.resolve(file).normalize();
            if (!f.startsWith(dir.normalize())) throw new WeightsException(index + ": shard " + file + " lies outside the checkpoint directory");
            openFile(f);
        }
        for (var e : weightMap.entrySet()) {
            TensorInfo t = tensors.get(e.getKey());
            if (t == null) throw new WeightsException(index + ": tensor " + e.getKey() + " is listed in " + e.getValue() + " but that file does not contain it");
            if (!t.file().getFileName().toString().equals(Path.of(e.getValue()).getFileName().toString()))
                throw new WeightsException(index + ": tensor " + e.getKey() + " is listed in " + e.getValue() + " but found in " + t.file().getFileName());
        }
    }

    private void openFile(Path file) throws IOException {
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new WeightsException(file + ": truncated safetensors file (" + size + " bytes, no header length)");
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
        parseHeader(file, seg);
    }

    /** Parses and validates one file's header; registers its tensors as views into {@code seg}. */
    void parseHeader(Path file, MemorySegment seg) {
        long size = seg.byteSize();
        long headerLen = seg.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8)
            throw new WeightsException(file + ": invalid safetensors header length " + Long.toUnsignedString(headerLen)
                    + " (file has " + size + " bytes)" + (headerLen > size - 8 && headerLen <= MAX_HEADER_BYTES ? ": file truncated?" : ""));
        byte[] headerBytes = seg.asSlice(8, headerLen).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = Json.MAPPER.readTree(new String(headerBytes, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new WeightsException(file + ": safetensors header is not valid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) throw new WeightsException(file + ": safetensors header is not a JSON object");
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        record Range(long begin, long end, String name, String dtype) {}
        JsonNode quantized = null;
        List<Range> ranges = new ArrayList<>();
        for (var it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey();
            JsonNode t = e.getValue();
            if (name.equals("__metadata__")) {
                if (!t.isObject()) throw new WeightsException(file + ": __metadata__ is not an object");
                t.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                if (t.has(SafeTensorsWriter.QUANTIZED_KEY)) quantized = parseQuantized(file, t.get(SafeTensorsWriter.QUANTIZED_KEY).asText());
                continue;
            }
            String where = file + ": tensor " + name;
            if (!t.isObject()) throw new WeightsException(where + ": entry is not an object");
            JsonNode dt = t.get("dtype"), sh = t.get("shape"), off = t.get("data_offsets");
            if (dt == null || !dt.isTextual()) throw new WeightsException(where + ": missing dtype");
            if (sh == null || !sh.isArray()) throw new WeightsException(where + ": missing shape");
            if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong())
                throw new WeightsException(where + ": data_offsets must be [begin, end]");
            DType dtype = DType.fromSafetensors(dt.asText());
            boolean other = dtype == null && OTHER_SAFETENSORS_DTYPES.contains(dt.asText());
            if (dtype == null && !other) throw new WeightsException(where + ": unknown dtype \"" + dt.asText() + "\"");
            long[] shape = new long[sh.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.canConvertToLong() || d.asLong() < 0) throw new WeightsException(where + ": invalid shape " + sh);
                shape[i] = d.asLong();
                try {
                    numel = Math.multiplyExact(numel, shape[i]);
                } catch (ArithmeticException ex) {
                    throw new WeightsException(where + ": shape " + sh + " overflows");
                }
            }
            long begin = off.get(0).asLong(), end = off.get(1).asLong();
            if (begin < 0 || end < begin || end > dataLen)
                throw new WeightsException(where + ": data_offsets [" + begin + ", " + end + "] outside the data area of " + dataLen + " bytes" + (end > dataLen ? " (file truncated?)" : ""));
            if (dtype != null) {
                long expect;
                try {
                    expect = Math.multiplyExact(numel, (long) dtype.bytes);
                } catch (ArithmeticException ex) {
                    throw new WeightsException(where + ": shape " + sh + " overflows");
                }
                if (end - begin != expect)
                    throw new WeightsException(where + ": shape " + sh + " of " + dtype + " needs " + expect + " bytes but data_offsets span " + (end - begin));
            }
            if (tensors.containsKey(name)) throw new WeightsException(where + ": defined twice (also in " + tensors.get(name).file() + ")");
            ranges.add(new Range(begin, end, name, dt.asText()));
            if (dtype != null) tensors.put(name, new TensorInfo(name, dtype, shape, seg.asSlice(dataStart + begin, end - begin), file));
        }
        if (quantized != null) {
            // navil4j's quantized tensors: U8 bytes whose logical dtype/shape the metadata gives (SafeTensorsWriter)
            for (Range r : ranges) {
                JsonNode q = quantized.get(r.name());
                if (q == null) continue;
                String where = file + ": quantized tensor " + r.name();
                DType dtype = DType.fromSafetensors(q.path("dtype").asText());
                JsonNode sh = q.get("shape");
                if ((dtype != DType.Q8 && dtype != DType.Q4) || sh == null || !sh.isArray() || sh.size() != 2
                        || !sh.get(0).canConvertToLong() || !sh.get(1).canConvertToLong() || sh.get(0).asLong() < 0 || sh.get(1).asLong() <= 0
                        || sh.get(1).asLong() % 32 != 0 || !r.dtype().equals("U8"))
                    throw new WeightsException(where + ": invalid " + SafeTensorsWriter.QUANTIZED_KEY + " entry " + q + " for a " + r.dtype() + " tensor");
                long[] shape = {sh.get(0).asLong(), sh.get(1).asLong()};
                long expect = dtype.byteSize(shape[0] * shape[1]);
                if (r.end() - r.begin() != expect)
                    throw new WeightsException(where + ": " + dtype + " " + Arrays.toString(shape) + " needs " + expect + " bytes but data_offsets span " + (r.end() - r.begin()));
                tensors.put(r.name(), new TensorInfo(r.name(), dtype, shape, seg.asSlice(dataStart + r.begin(), r.end() - r.begin()), file));
            }
        }
        ranges.sort(Comparator.comparingLong(Range::begin).thenComparingLong(Range::end));
        for (int i = 1; i < ranges.size(); i++) {
            Range a = ranges.get(i - 1), b = ranges.get(i);
            if (b.begin() < a.end() && b.end() > b.begin())
                throw new WeightsException(file + ": tensors " + a.name() + " and " + b.name() + " overlap in the file");
        }
    }

    private static JsonNode parseQuantized(Path file, String json) {
        try {
            JsonNode n = Json.MAPPER.readTree(json);
            if (n == null || !n.isObject()) throw new WeightsException(file + ": metadata " + SafeTensorsWriter.QUANTIZED_KEY + " is not a JSON object");
            return n;
        } catch (JsonProcessingException e) {
            throw new WeightsException(file + ": metadata " + SafeTensorsWriter.QUANTIZED_KEY + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    public boolean contains(String name) { return provider != null || tensors.containsKey(name); }

    /** The tensor of that hub name; marks it used. */
    public TensorInfo get(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new WeightsException(location + ": tensor " + name + " not found in the checkpoint");
        if (used.add(name) && progress != dev.navil4j.ProgressListener.NONE)
            progress.report(dev.navil4j.ProgressEvent.Stage.LOAD, Math.min(progressTotal, progressBase + used.size()), progressTotal,
                    dev.navil4j.ProgressEvent.Unit.TENSORS, "loading weights");
        return t;
    }

    /** The tensor of that hub name, checking its shape; marks it used. */
    public TensorInfo get(String name, long... shape) {
        if (provider != null)
            synchronized (tensors) {
                if (!tensors.containsKey(name)) tensors.put(name, provider.apply(name, shape.clone()));
            }
        TensorInfo t = get(name);
        if (!Arrays.equals(t.shape(), shape))
            throw new WeightsException(location + ": tensor " + name + " has shape " + t.shapeString() + ", expected " + Arrays.toString(shape));
        return t;
    }

    public Optional<TensorInfo> find(String name) {
        return tensors.containsKey(name) ? Optional.of(get(name)) : Optional.empty();
    }

    public Set<String> names() { return Collections.unmodifiableSet(tensors.keySet()); }

    /**
     * Refuses a checkpoint with NaN or ±Inf in any F32/F16/BF16 tensor ({@link NonFiniteScan}: the error names the
     * file and tensor); loaders call it after opening. Synthetic checkpoints are not scanned. Returns this.
     */
    public SafeTensors requireFinite() {
        if (provider == null && NonFiniteScan.enabled()) {
            int i = 0;
            for (TensorInfo t : tensors.values()) {
                NonFiniteScan.check(t);
                if (progress != dev.navil4j.ProgressListener.NONE)
                    progress.report(dev.navil4j.ProgressEvent.Stage.LOAD, Math.min(progressTotal, ++i), progressTotal,
                            dev.navil4j.ProgressEvent.Unit.TENSORS, "checking weights");
            }
            progressBase = tensors.size();
        }
        return this;
    }

    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    /** Names never requested with {@link #get}: after loading a model, what it ignored. */
    public List<String> unused() {
        return tensors.keySet().stream().filter(n -> !used.contains(n)).sorted().toList();
    }

    public Path location() { return location; }

    @Override
    public void close() { arena.close(); }
}
