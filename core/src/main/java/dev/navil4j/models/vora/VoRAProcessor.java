package dev.navil4j.models.vora;

import dev.navil4j.tokenizer.PromptText;
import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.chat.Conversation;
import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.RgbImage;
import dev.navil4j.tokenizer.Tokenizer;
import dev.navil4j.tokenizer.Tokenizers;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * generation_files/processing_vora.py: the prompt split on "<image>", each chunk tokenized on its own and
 * the chunks joined with the image_token_index; the image squared on black (expand2square) and run through
 * the CLIP image processor of preprocessor_config.json.
 */
final class VoRAProcessor {
    private final VoRAImageProcessor.Params params;

    private VoRAProcessor(VoRAImageProcessor.Params params) { this.params = params; }

    static VoRAProcessor load(Path dir) {
        Path f = dir.resolve("preprocessor_config.json");
        if (!Files.exists(f)) throw new WeightsException(dir + ": no preprocessor_config.json (the VoRA image processor settings)");
        Json.Obj c = Json.Obj.of(f);
        int resample = c.integer("resample", 3);
        if (resample != 3) throw new WeightsException(f + ": resample " + resample + " is not supported (VoRA uses 3 = BICUBIC)");
        // processing_vora.expand2square always pastes on black; the patch size only labels the result's grid
        return new VoRAProcessor(new VoRAImageProcessor.Params(true, new int[]{0, 0, 0}, side(c, "size", "shortest_edge"),
                side(c, "crop_size", "height"), c.number("rescale_factor", 1.0 / 255), c.floatArray("image_mean"),
                c.floatArray("image_std"), 14));
    }

    /** CLIP configs give a size as an int or as {"shortest_edge": n} / {"height": h, "width": w}. */
    private static int side(Json.Obj c, String key, String field) {
        JsonNode n = c.required(key);
        if (n.canConvertToInt()) return n.asInt();
        if (n.has(field)) return n.get(field).asInt();
        throw new WeightsException(c.where() + ": cannot read \"" + key + "\" = " + n);
    }

    /** Side of the square pixel_values. */
    int cropSize() { return params.cropSize(); }

    /** tokenizer_vision_placeholder: Python's str.split keeps empty chunks; no BOS is added. */
    static int[] inputIds(Tokenizer tok, String prompt, int placeholder) {
        return inputIds(tok, PromptText.ofControl(prompt), placeholder);
    }

    /** As {@link #inputIds(Tokenizer, String, int)}; special-token text in the prompt's messages stays text (unless allowed). */
    static int[] inputIds(Tokenizer tok, PromptText prompt, int placeholder) {
        List<Integer> ids = new ArrayList<>();
        int from = 0;
        while (true) {
            int at = prompt.indexOf(VoRAChatTemplate.IMAGE_TOKEN, from);
            PromptText chunk = prompt.slice(from, at < 0 ? prompt.length() : at);
            for (int id : tok.encode(chunk, true)) ids.add(id);
            if (at < 0) break;
            ids.add(placeholder);
            from = at + VoRAChatTemplate.IMAGE_TOKEN.length();
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }


    /** pixel_values [3, crop, crop] of an image. */
    float[] pixelValues(Conversation.Image image) {
        // transformers' load_image: exif_transpose + convert('RGB') (ImageLoader follows Pillow's rules)
        RgbImage rgb = image.image() != null ? ImageLoader.toRgb(image.image(), String.valueOf(image.path()))
                : ImageLoader.loadRgbExifTransposed(image.path());
        return VoRAImageProcessor.preprocess(rgb, params).pixelValues();
    }

    /** The checkpoint's tokenizer (Qwen2's byte-level BPE tokenizer.json). */
    static Tokenizer loadTokenizer(Path dir) { return Tokenizers.load(dir); }
}
