package dev.navil4j.models.internvl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The processor an -hf checkpoint ships (processing_internvl.py InternVLProcessor over GotOcr2's image processor and
 * the tokenizer), read from processor_config.json, preprocessor_config.json, tokenizer_config.json and the chat
 * template file.
 *
 * @param tileSize        preprocessor {@code size} (height = width)
 * @param cropToPatches   whether images are tiled: InternVLProcessorKwargs' default {@code crop_to_patches=True}
 *                        overrides the image processor's stored {@code false}; tiling also needs max_patches > 1
 * @param minPatches      preprocessor {@code min_patches} (default 1)
 * @param maxPatches      preprocessor {@code max_patches} (default 12)
 * @param rescaleFactor   {@code rescale_factor} (1/255), applied in float64 then stored as float32 (numpy rescale)
 * @param mean            {@code image_mean}
 * @param std             {@code image_std}
 * @param imageSeqLength  processor {@code image_seq_length}: {@code <IMG_CONTEXT>} tokens per tile
 * @param startImage      tokenizer {@code start_image_token} ({@code <img>})
 * @param endImage        tokenizer {@code end_image_token} ({@code </img>})
 * @param contextImage    tokenizer {@code context_image_token} ({@code <IMG_CONTEXT>})
 */
public record InternVLHfProcessor(int tileSize, boolean cropToPatches, int minPatches, int maxPatches, double rescaleFactor,
                                  float[] mean, float[] std, int imageSeqLength, String startImage, String endImage,
                                  String contextImage) {

    /**
     * The chat template the -hf repos ship (convert_internvl_weights_to_hf.py): each message is
     * {@code <|im_start|>ROLE\n CONTENT <|im_end|>\n}, an image part renders as its placeholder + "\n", and the
     * generation prompt is {@code <|im_start|>assistant\n}. There is no default system message. The converter's first
     * version wrote {@code <image>} as the image placeholder, later ones {@code <IMG_CONTEXT>}; both are accepted.
     */
    static final String[] KNOWN_TEMPLATES = {template("<IMG_CONTEXT>"), template("<image>")};

    private static String template(String imagePlaceholder) {
        return "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'}}{% if message['content'] is string %}"
                + "{{ message['content'] }}{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' %}"
                + "{{ '" + imagePlaceholder + "\\n' }}{% elif content['type'] == 'video' %}{{ '<video>\\n' }}"
                + "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}"
                + "{{'<|im_end|>\\n'}}{% endfor %}{% if add_generation_prompt %}{{'<|im_start|>assistant\\n' }}{% endif %}";
    }

    /** image_utils.OPENAI_CLIP_MEAN / OPENAI_CLIP_STD, GotOcr2ImageProcessor's defaults. */
    static final float[] OPENAI_CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f}, OPENAI_CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    public static InternVLHfProcessor load(Path dir, int modelTokensPerTile) {
        Json.Obj proc = optional(dir.resolve("processor_config.json"));
        // transformers 5's ProcessorMixin.save_pretrained nests the image processor in processor_config.json; the -hf
        // repos (saved by 4.x) have it in preprocessor_config.json
        Json.Obj pre = Files.isRegularFile(dir.resolve("preprocessor_config.json")) || !proc.node().path("image_processor").isObject()
                ? optional(dir.resolve("preprocessor_config.json")) : proc.obj("image_processor");
        Json.Obj tok = optional(dir.resolve("tokenizer_config.json"));
        int size = tileSize(pre);
        int resample = pre.integer("resample", 3);
        if (resample != 3)
            throw new WeightsException(pre.where() + ": resample " + resample + " is not supported (3 = bicubic, as the -hf repos ship)");
        for (String key : new String[] {"do_resize", "do_rescale", "do_normalize", "do_convert_rgb"})
            if (!pre.bool(key, true))
                throw new WeightsException(pre.where() + ": " + key + " false is not supported");
        if (pre.bool("do_center_crop", false))
            throw new WeightsException(pre.where() + ": do_center_crop true is not supported");
        // absent keys take GotOcr2ImageProcessor's class defaults (OpenAI CLIP mean/std, 384² tiles), not InternVL's
        // ImageNet values: the -hf repos store all of them, a file without them gets what transformers would use
        float[] mean = pre.has("image_mean") ? pre.floatArray("image_mean") : OPENAI_CLIP_MEAN;
        float[] std = pre.has("image_std") ? pre.floatArray("image_std") : OPENAI_CLIP_STD;
        if (mean.length != 3 || std.length != 3)
            throw new WeightsException(pre.where() + ": image_mean and image_std must have 3 values");
        int min = pre.integer("min_patches", 1), max = pre.integer("max_patches", 12);
        if (min < 1 || max < min)
            throw new WeightsException(pre.where() + ": min_patches " + min + " / max_patches " + max + " need 1 <= min_patches <= max_patches");
        int seq = proc.integer("image_seq_length", 256);
        // InternVLModel.get_placeholder_mask fails when the processor's token count per tile differs from the model's
        if (seq != modelTokensPerTile)
            throw new WeightsException(proc.where() + ": image_seq_length " + seq + " does not match the model's "
                    + modelTokensPerTile + " image tokens per tile ((image_size / patch_size)² · downsample_ratio²)");
        checkTemplate(dir, tok);
        return new InternVLHfProcessor(size, true, min, max, pre.number("rescale_factor", 1 / 255.0), mean, std, seq,
                namedToken(tok, "start_image_token", "<img>"), namedToken(tok, "end_image_token", "</img>"),
                namedToken(tok, "context_image_token", "<IMG_CONTEXT>"));
    }

    /**
     * A tokenizer attribute such as {@code context_image_token}: transformers 4.x saves it in the
     * {@code extra_special_tokens} dict, 5.x as a top-level key (and in {@code model_specific_special_tokens}, with
     * {@code extra_special_tokens} becoming a list); the converter's value when none is stored.
     */
    static String namedToken(Json.Obj tok, String key, String dflt) {
        if (tok.has(key) && tok.node().get(key).isTextual()) return tok.string(key);
        for (String holder : new String[] {"model_specific_special_tokens", "extra_special_tokens"}) {
            JsonNode h = tok.node().path(holder);
            if (h.isObject() && h.path(key).isTextual()) return h.get(key).asText();
        }
        return dflt;
    }

    private static int tileSize(Json.Obj pre) {
        if (!pre.has("size")) return 384;
        Json.Obj s = pre.obj("size");
        if (!s.has("height") || !s.has("width"))
            throw new WeightsException(pre.where() + ": size " + s.node() + " is not supported (needs height and width)");
        if (s.integer("height") != s.integer("width"))
            throw new WeightsException(pre.where() + ": size " + s.node() + " is not supported (only square tiles)");
        return s.integer("height");
    }

    /**
     * The template transformers would render: chat_template.jinja, else chat_template.json, else tokenizer_config.json's
     * chat_template. navil4j renders the -hf template itself (no Jinja engine), so any other template is refused rather
     * than silently replaced.
     */
    static void checkTemplate(Path dir, Json.Obj tok) {
        String where;
        String text;
        Path jinja = dir.resolve("chat_template.jinja"), json = dir.resolve("chat_template.json");
        try {
            if (Files.isRegularFile(jinja)) { where = jinja.toString(); text = Files.readString(jinja, StandardCharsets.UTF_8); }
            else if (Files.isRegularFile(json)) { Json.Obj j = Json.Obj.of(json); where = j.where(); text = j.string("chat_template"); }
            else if (tok.has("chat_template") && tok.node().get("chat_template").isTextual()) { where = tok.where(); text = tok.string("chat_template"); }
            else return;   // no template shipped: the -hf one is used
        } catch (IOException e) {
            throw new WeightsException(jinja + ": " + e.getMessage(), e);
        }
        for (String known : KNOWN_TEMPLATES) if (known.equals(text.strip())) return;
        throw new WeightsException(where + ": chat_template is not the InternVL -hf template (navil4j renders that one template; "
                + "first differing character at " + firstDifference(text.strip(), KNOWN_TEMPLATES[0]) + ")");
    }

    private static int firstDifference(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) if (a.charAt(i) != b.charAt(i)) return i;
        return n;
    }

    private static Json.Obj optional(Path f) {
        if (!Files.isRegularFile(f)) return new Json.Obj(Json.MAPPER.createObjectNode(), f + " (absent)");
        JsonNode n = Json.read(f);
        if (!n.isObject()) throw new WeightsException(f + ": must hold a JSON object");
        return new Json.Obj(n, f.toString());
    }
}
