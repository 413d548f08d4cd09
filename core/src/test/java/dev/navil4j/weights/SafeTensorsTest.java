package dev.navil4j.weights;

import dev.navil4j.tensor.Convert;
import dev.navil4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    /** Builds a safetensors file from a header JSON string and a data area. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    static byte[] le(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsEveryDtypeZeroCopy() throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.write(le(1.5f, -2f, 3.25f, 0f, 7f, 8f));                       // F32 [2,3] at 0..24
        ByteBuffer bf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        bf.putShort(Convert.floatToBf16(1.0f)).putShort(Convert.floatToBf16(-0.5f));
        data.write(bf.array());                                             // BF16 [2] at 24..28
        ByteBuffer hf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        hf.putShort(Float.floatToFloat16(0.25f)).putShort(Float.floatToFloat16(65504f));
        data.write(hf.array());                                             // F16 [2] at 28..32
        ByteBuffer il = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        il.putLong(-3).putLong(1L << 40);
        data.write(il.array());                                             // I64 [2] at 32..48
        ByteBuffer ii = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ii.putInt(42).putInt(-7);
        data.write(ii.array());                                             // I32 [2] at 48..56
        String header = """
                {"__metadata__":{"format":"pt"},
                 "w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},
                 "b":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]},
                 "h":{"dtype":"F16","shape":[2],"data_offsets":[28,32]},
                 "l":{"dtype":"I64","shape":[2],"data_offsets":[32,48]},
                 "i":{"dtype":"I32","shape":[2],"data_offsets":[48,56]}}""";
        try (SafeTensors st = SafeTensors.open(write("m.safetensors", file(header, data.toByteArray())))) {
            assertThat(st.metadata()).containsEntry("format", "pt");
            assertThat(st.get("w", 2, 3).toFloatArray()).containsExactly(1.5f, -2f, 3.25f, 0f, 7f, 8f);
            assertThat(st.get("b").dtype()).isEqualTo(DType.BF16);
            assertThat(st.get("b").toFloatArray()).containsExactly(1.0f, -0.5f);
            assertThat(st.get("h").toFloatArray()).containsExactly(0.25f, 65504f);
            assertThat(st.get("l").toLongArray()).containsExactly(-3L, 1L << 40);
            assertThat(st.get("i").toIntArray()).containsExactly(42, -7);
            assertThat(st.get("w").data().isNative()).isTrue(); // a view of the mapping, not a heap copy
            assertThat(st.unused()).isEmpty();
        }
    }

    @Test
    void shardedIndexAndShapeCheck() throws IOException {
        Files.write(tmp.resolve("a.safetensors"), file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", le(1, 2)));
        Files.write(tmp.resolve("b.safetensors"), file("{\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", le(3)));
        Files.writeString(tmp.resolve("model.safetensors.index.json"),
                "{\"metadata\":{},\"weight_map\":{\"x\":\"a.safetensors\",\"y\":\"b.safetensors\"}}");
        try (SafeTensors st = SafeTensors.open(tmp)) {
            assertThat(st.names()).containsExactlyInAnyOrder("x", "y");
            assertThat(st.get("y").toFloatArray()).containsExactly(3f);
            assertThat(st.unused()).containsExactly("x");
            assertThatThrownBy(() -> st.get("x", 3)).hasMessageContaining("tensor x has shape [2], expected [3]");
            assertThatThrownBy(() -> st.get("nope")).hasMessageContaining("tensor nope not found");
        }
    }

    @Test
    void indexNamingAMissingTensorIsAnError() throws IOException {
        Files.write(tmp.resolve("a.safetensors"), file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", le(1, 2)));
        Files.writeString(tmp.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"z\":\"a.safetensors\"}}");
        assertThatThrownBy(() -> SafeTensors.open(tmp)).isInstanceOf(WeightsException.class)
                .hasMessageContaining("tensor z is listed in a.safetensors");
    }

    @Test
    void hostileHeadersGiveErrorsNamingFileAndTensor() throws IOException {
        record Bad(String header, byte[] data, String message) {}
        Bad[] bads = {
                new Bad("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]}}", le(1, 2), "needs 16 bytes but data_offsets span 8"),
                new Bad("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", le(1, 2), "outside the data area"),
                new Bad("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", le(1, 2), "outside the data area"),
                new Bad("{\"x\":{\"dtype\":\"Q99\",\"shape\":[2],\"data_offsets\":[0,8]}}", le(1, 2), "unknown dtype \"Q99\""),
                new Bad("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", le(1, 2), "invalid shape"),
                new Bad("{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", le(1, 2), "data_offsets must be"),
                new Bad("{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}", le(1, 2), "missing dtype"),
                new Bad("{\"x\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807,4],\"data_offsets\":[0,8]}}", le(1, 2), "overflows"),
                new Bad("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        le(1, 2), "overlap"),
                new Bad("{\"x\": [1, 2", le(1, 2), "not valid JSON"),
                new Bad("[1,2]", le(), "not a JSON object"),
        };
        for (int i = 0; i < bads.length; i++) {
            Path p = write("bad" + i + ".safetensors", file(bads[i].header(), bads[i].data()));
            assertThatThrownBy(() -> SafeTensors.open(p).close())
                    .as(bads[i].header())
                    .isInstanceOf(WeightsException.class)
                    .hasMessageContaining(p.toString())
                    .hasMessageContaining(bads[i].message());
        }
    }

    @Test
    void badHeaderLengthsAndTruncation() throws IOException {
        byte[] good = file("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", le(1, 2, 3, 4));
        Path truncated = write("trunc.safetensors", Arrays.copyOf(good, good.length - 5));
        assertThatThrownBy(() -> SafeTensors.open(truncated)).isInstanceOf(WeightsException.class)
                .hasMessageContaining("tensor x").hasMessageContaining("truncated");
        Path tiny = write("tiny.safetensors", new byte[]{1, 2, 3});
        assertThatThrownBy(() -> SafeTensors.open(tiny)).hasMessageContaining("truncated safetensors file");
        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).putLong(0);
        Path hugeLen = write("huge.safetensors", huge.array());
        assertThatThrownBy(() -> SafeTensors.open(hugeLen)).hasMessageContaining("invalid safetensors header length");
        ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).putLong(0);
        Path negLen = write("neg.safetensors", neg.array());
        assertThatThrownBy(() -> SafeTensors.open(negLen)).hasMessageContaining("invalid safetensors header length 18446744073709551615");
        assertThatThrownBy(() -> SafeTensors.open(tmp.resolve("missing.safetensors"))).hasMessageContaining("no such file");
        Path emptyDir = Files.createDirectory(tmp.resolve("empty"));
        assertThatThrownBy(() -> SafeTensors.open(emptyDir)).hasMessageContaining("no *.safetensors file");
    }

    @Test
    void readsTheFixtureCheckpointsAndTheirDtypes() {
        try (SafeTensors st = SafeTensors.open(Path.of("fixtures/internvl3-tiny/model"))) {
            TensorInfo t = st.get("language_model.model.embed_tokens.weight");
            assertThat(t.dtype()).isEqualTo(DType.BF16);
            assertThat(t.shape()).containsExactly(2031, 64);
        }
        try (SafeTensors st = SafeTensors.open(Path.of("fixtures/vora-tiny/model"))) {
            assertThat(st.get("llm.lm_head.weight").dtype()).isEqualTo(DType.F32);
            assertThat(st.names().stream().map(n -> st.get(n).file().getFileName().toString()).distinct().count()).isEqualTo(2);
        }
    }
}
