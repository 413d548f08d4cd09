package dev.navil4j.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.SafeTensorsWriter;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Everything the end-to-end demo needs, made here: a random tiny Qwen2 base LLM (hub layout, the
 * vora-train-tiny tokenizer), a random tiny AIMv2-layout teacher, and synthetic images of one coloured
 * shape whose caption names its colour and shape.
 */
final class SyntheticVoRA {
    static final String[] COLORS = {"red", "green", "blue"};
    static final Color[] RGB = {new Color(220, 30, 30), new Color(30, 200, 40), new Color(40, 60, 230)};
    static final String[] SHAPES = {"square", "bar"};
    static final String QUESTION = "<image>\nWhat is in the image?";

    private SyntheticVoRA() {}

    static float[] gauss(Random r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * std);
        return a;
    }

    static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    /** A random Qwen2ForCausalLM checkpoint: hidden 64, 2 layers, 4 heads / 2 KV, MLP 128, vocab 2048. */
    static Path baseLlm(Path dir, long seed) throws IOException {
        Random r = new Random(seed);
        int d = 64, inter = 128, layers = 2, vocab = 2048, heads = 4, kv = 2, hd = d / heads;
        SafeTensorsWriter w = new SafeTensorsWriter();
        w.add(VoRACheckpoints.f32("model.embed_tokens.weight", new long[]{vocab, d}, gauss(r, vocab * d, 0.5)));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            w.add(VoRACheckpoints.f32(p + "input_layernorm.weight", new long[]{d}, ones(d)));
            w.add(VoRACheckpoints.f32(p + "post_attention_layernorm.weight", new long[]{d}, ones(d)));
            w.add(VoRACheckpoints.f32(p + "self_attn.q_proj.weight", new long[]{heads * hd, d}, gauss(r, heads * hd * d, 0.1)));
            w.add(VoRACheckpoints.f32(p + "self_attn.q_proj.bias", new long[]{heads * hd}, gauss(r, heads * hd, 0.02)));
            w.add(VoRACheckpoints.f32(p + "self_attn.k_proj.weight", new long[]{kv * hd, d}, gauss(r, kv * hd * d, 0.1)));
            w.add(VoRACheckpoints.f32(p + "self_attn.k_proj.bias", new long[]{kv * hd}, gauss(r, kv * hd, 0.02)));
            w.add(VoRACheckpoints.f32(p + "self_attn.v_proj.weight", new long[]{kv * hd, d}, gauss(r, kv * hd * d, 0.1)));
            w.add(VoRACheckpoints.f32(p + "self_attn.v_proj.bias", new long[]{kv * hd}, gauss(r, kv * hd, 0.02)));
            w.add(VoRACheckpoints.f32(p + "self_attn.o_proj.weight", new long[]{d, heads * hd}, gauss(r, d * heads * hd, 0.1)));
            w.add(VoRACheckpoints.f32(p + "mlp.gate_proj.weight", new long[]{inter, d}, gauss(r, inter * d, 0.1)));
            w.add(VoRACheckpoints.f32(p + "mlp.up_proj.weight", new long[]{inter, d}, gauss(r, inter * d, 0.1)));
            w.add(VoRACheckpoints.f32(p + "mlp.down_proj.weight", new long[]{d, inter}, gauss(r, d * inter, 0.1)));
        }
        w.add(VoRACheckpoints.f32("model.norm.weight", new long[]{d}, ones(d)));
        w.add(VoRACheckpoints.f32("lm_head.weight", new long[]{vocab, d}, gauss(r, vocab * d, 0.5)));
        Files.createDirectories(dir);
        w.write(dir.resolve("model.safetensors"));
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.putArray("architectures").add("Qwen2ForCausalLM");
        c.put("model_type", "qwen2").put("hidden_size", d).put("intermediate_size", inter).put("num_hidden_layers", layers)
                .put("num_attention_heads", heads).put("num_key_value_heads", kv).put("vocab_size", vocab).put("rms_norm_eps", 1e-6)
                .put("rope_theta", 1000000.0).put("max_position_embeddings", 4096).put("tie_word_embeddings", false)
                .put("hidden_act", "silu").put("bos_token_id", 2000).put("eos_token_id", 2002);
        VoRACheckpoints.writeJson(dir.resolve("config.json"), c);
        ObjectNode g = Json.MAPPER.createObjectNode().put("do_sample", false);
        g.putArray("eos_token_id").add(2002).add(2000);
        VoRACheckpoints.writeJson(dir.resolve("generation_config.json"), g);
        Path tok = Path.of("fixtures/vora-train-tiny/model");
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "added_tokens.json", "special_tokens_map.json"))
            Files.copy(tok.resolve(f), dir.resolve(f));
        return dir;
    }

    /** A random AIMv2-layout teacher: 56 px, patch 14 (16 tokens), hidden 32, 2 blocks, 2 heads. */
    static Path teacher(Path dir, long seed) throws IOException {
        Random r = new Random(seed);
        int h = 32, inter = 64, blocks = 2, p = 14, n = 16;
        SafeTensorsWriter w = new SafeTensorsWriter();
        w.add(VoRACheckpoints.f32("preprocessor.patchifier.proj.weight", new long[]{h, 3, p, p}, gauss(r, h * 3 * p * p, 1 / Math.sqrt(3 * p * p))));
        w.add(VoRACheckpoints.f32("preprocessor.patchifier.proj.bias", new long[]{h}, gauss(r, h, 0.1)));
        w.add(VoRACheckpoints.f32("preprocessor.patchifier.norm.weight", new long[]{h}, ones(h)));
        w.add(VoRACheckpoints.f32("preprocessor.pos_embed", new long[]{1, n, h}, gauss(r, n * h, 0.1)));
        for (int b = 0; b < blocks; b++) {
            String q = "trunk.blocks." + b + ".";
            w.add(VoRACheckpoints.f32(q + "norm_1.weight", new long[]{h}, ones(h)));
            w.add(VoRACheckpoints.f32(q + "norm_2.weight", new long[]{h}, ones(h)));
            w.add(VoRACheckpoints.f32(q + "attn.qkv.weight", new long[]{3 * h, h}, gauss(r, 3 * h * h, 0.15)));
            w.add(VoRACheckpoints.f32(q + "attn.proj.weight", new long[]{h, h}, gauss(r, h * h, 0.15)));
            w.add(VoRACheckpoints.f32(q + "mlp.fc1.weight", new long[]{inter, h}, gauss(r, inter * h, 0.15)));
            w.add(VoRACheckpoints.f32(q + "mlp.fc3.weight", new long[]{inter, h}, gauss(r, inter * h, 0.15)));
            w.add(VoRACheckpoints.f32(q + "mlp.fc2.weight", new long[]{h, inter}, gauss(r, h * inter, 0.15)));
        }
        w.add(VoRACheckpoints.f32("trunk.post_trunk_norm.weight", new long[]{h}, ones(h)));
        Files.createDirectories(dir);
        w.write(dir.resolve("model.safetensors"));
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.putArray("architectures").add("AIMv2Model");
        c.put("model_type", "aimv2").put("hidden_size", h).put("intermediate_size", inter).put("num_hidden_layers", blocks)
                .put("num_attention_heads", 2).put("num_channels", 3).put("patch_size", p).put("image_size", 56)
                .put("rms_norm_eps", 1e-5).put("qkv_bias", false).put("use_bias", false);
        VoRACheckpoints.writeJson(dir.resolve("config.json"), c);
        return dir;
    }

    /** One image: colour index, shape index. */
    record Shape(int color, int shape) {
        String caption() { return "a " + COLORS[color] + " " + SHAPES[shape]; }
    }

    /** n random 56×56 PNGs (random class, size, position on dark noise) + data.jsonl; returns the classes. */
    static List<Shape> images(Path dir, int n, long seed) throws IOException {
        Random r = new Random(seed);
        Files.createDirectories(dir);
        List<Shape> out = new ArrayList<>();
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Shape s = new Shape(r.nextInt(COLORS.length), r.nextInt(SHAPES.length));
            BufferedImage img = new BufferedImage(56, 56, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 56; y++)
                for (int x = 0; x < 56; x++) {
                    int v = 20 + r.nextInt(30);
                    img.setRGB(x, y, (v << 16) | (v << 8) | v);
                }
            Graphics2D g = img.createGraphics();
            g.setColor(RGB[s.color()]);
            // a square 18-30 px, or a bar 40-52 × 6-10 px, anywhere in the image
            int w = s.shape() == 0 ? 18 + r.nextInt(13) : 40 + r.nextInt(13), hh = s.shape() == 0 ? w : 6 + r.nextInt(5);
            g.fillRect(r.nextInt(56 - w + 1), r.nextInt(56 - hh + 1), w, hh);
            g.dispose();
            String name = String.format("img_%04d.png", i);
            ImageIO.write(img, "png", dir.resolve(name).toFile());
            var line = Json.MAPPER.createObjectNode().put("image", name);
            var conv = line.putArray("conversations");
            conv.addObject().put("from", "human").put("value", QUESTION);
            conv.addObject().put("from", "gpt").put("value", s.caption());
            jsonl.append(line).append('\n');
            out.add(s);
        }
        Files.writeString(dir.resolve("data.jsonl"), jsonl);
        return out;
    }
}
