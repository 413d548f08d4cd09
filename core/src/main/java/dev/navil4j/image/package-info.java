/**
 * Image input, bit-exact with the PyTorch references' Pillow pipelines.
 * <ul>
 *   <li>{@link dev.navil4j.image.ImageLoader}: decode (JPEG, PNG, GIF, BMP, WebP) + Pillow {@code convert('RGB')}
 *       → {@link dev.navil4j.image.RgbImage} (HWC uint8); refuses decompression bombs from the header,
 *       truncated and non-image files with {@link dev.navil4j.image.ImageException}.</li>
 *   <li>{@link dev.navil4j.image.PilResize}: Pillow's BICUBIC / BILINEAR {@code Image.resize}, bit-exact.</li>
 *   <li>The families' processors built on these live with their family: {@code models.internvl.InternVLImageProcessor}
 *       (dynamic_preprocess tiles), {@code models.vora.VoRAImageProcessor}, {@code models.navil.NaViLImageProcessor}.</li>
 * </ul>
 * Video frames: package {@code dev.navil4j.video}.
 */
package dev.navil4j.image;

