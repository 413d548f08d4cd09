/**
 * Image input, bit-exact with the PyTorch references' Pillow pipelines.
 * <ul>
 *   <li>{@link dev.navil4j.image.ImageLoader}: decode (JPEG, PNG, GIF, BMP, WebP) + Pillow {@code convert('RGB')}
 *       → {@link dev.navil4j.image.RgbImage} (HWC uint8); refuses decompression bombs from the header,
 *       truncated and non-image files with {@link dev.navil4j.image.ImageException}.</li>
 *   <li>{@link dev.navil4j.image.PilResize}: Pillow's BICUBIC / BILINEAR {@code Image.resize}, bit-exact.</li>
 *   <li>{@link dev.navil4j.models.internvl.InternVLImageProcessor}: InternVL {@code load_image} / {@code dynamic_preprocess}
 *       → {@code Tiles.pixelValues()} float32 [tiles, 3, s, s] (+ grid and tile count).</li>
 *   <li>{@link dev.navil4j.models.vora.VoRAImageProcessor}: VoRA expand2square + CLIPImageProcessor
 *       → float32 [1, 3, 448|112, ...]; {@code Params.fromModelDir(dir)}, {@code load(path, params)} applies EXIF orientation.</li>
 *   <li>{@link dev.navil4j.models.navil.NaViLImageProcessor}: NaViL's multi-scale any-resolution pyramid → patches
 *       float32 [N, 3, 16, 16] in merge order, {@code gridThw} per scale (smallest first), {@code numScales} per image;
 *       {@code Params.fromConfig(config.json)}, {@code load(files, params)}.</li>
 * </ul>
 * Video frames: package {@code dev.navil4j.video}.
 */
package dev.navil4j.image;
