package dev.navil4j.image;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Decodes JPEG, PNG, GIF, BMP and WebP files and converts them to 8-bit RGB exactly as
 * {@code PIL.Image.open(f).convert('RGB')} does (what every reference's {@code load_image} calls):
 * <ul>
 *   <li>alpha is dropped, never composited (RGBA, LA, palette transparency);</li>
 *   <li>gray L is replicated to R=G=B; 1/2/4-bit gray is scaled (L;2 ×85, L;4 ×17) as Pillow unpacks it;</li>
 *   <li>16-bit RGB(A) and 16-bit gray+alpha keep the high byte (Pillow's "RGB;16B"/"LA;16B" unpackers),
 *       16-bit gray without alpha (Pillow mode I;16) is clipped to 255 (Pillow's I;16 → RGB);</li>
 *   <li>palette images are looked up in the palette;</li>
 *   <li>CMYK / YCCK JPEGs are read as raw samples and converted as Pillow does ({@link PillowCmyk}), then with
 *       Pillow's {@code cmyk2rgb} formula;</li>
 *   <li>5/6-bit BMP fields are expanded by truncation (Pillow's BGR;15 / BGR;16), RLE bitmaps by Pillow's own
 *       RLE decoder, and BMP layouts Pillow does not open are refused ({@link BmpHeader});</li>
 *   <li>WebP is decoded by {@link Vp8Decoder} (lossy) and {@link Vp8lDecoder} (lossless), bit-exact with
 *       libwebp; animated files give their first frame;</li>
 *   <li>only JPEG, PNG, GIF, BMP and WebP are read; other formats are refused with their name;</li>
 *   <li>embedded ICC profiles and gamma are ignored (raw samples, as Pillow; a JPEG's ICC segments are
 *       removed before decoding because the TwelveMonkeys reader would colour-convert through them).</li>
 * </ul>
 * Images larger than {@link #maxPixels()} are refused from the header, before any pixel is decoded
 * (Pillow raises DecompressionBombError above 2 × MAX_IMAGE_PIXELS = 178,956,970 pixels; that is the default).
 * Truncated files are refused (Pillow's default LOAD_TRUNCATED_IMAGES = False).
 */
public final class ImageLoader {
    /** Pillow's DecompressionBombError threshold: 2 × MAX_IMAGE_PIXELS (1024·1024·1024 // 4 // 3). */
    public static final long DEFAULT_MAX_PIXELS = 2L * (1024L * 1024 * 1024 / 4 / 3);

    private static final ImageLoader DEFAULT = new ImageLoader(DEFAULT_MAX_PIXELS);

    static {
        ImageIO.setUseCache(false);
        ImageIO.scanForPlugins();
    }

    private final long maxPixels;

    /** ImageIO format names (lower case) that navil4j decodes. */
    private static final java.util.Set<String> SUPPORTED_FORMATS = java.util.Set.of("jpeg", "png", "gif", "bmp", "webp");

    /** @param maxPixels largest width × height accepted (checked on the header before decoding) */
    public ImageLoader(long maxPixels) {
        if (maxPixels <= 0) throw new IllegalArgumentException("maxPixels must be positive");
        this.maxPixels = maxPixels;
    }

    public long maxPixels() { return maxPixels; }

    /** {@code Image.open(path).convert('RGB')} with the default pixel limit. */
    public static RgbImage loadRgb(Path path) { return DEFAULT.load(path); }

    /** Decodes in-memory file bytes with the default pixel limit. */
    public static RgbImage loadRgbBytes(byte[] bytes, String source) { return DEFAULT.decode(bytes, source); }

    /**
     * transformers' {@code load_image}: {@code ImageOps.exif_transpose} then {@code convert('RGB')}
     * (VoRA's processor), with the default pixel limit.
     */
    public static RgbImage loadRgbExifTransposed(Path path) {
        byte[] bytes = readAll(path);
        return ExifOrientation.apply(DEFAULT.decode(bytes, path.toString()), ExifOrientation.read(bytes));
    }

    private static byte[] readAll(Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new ImageException(path + ": cannot read file: " + e.getMessage(), e);
        }
    }

    /** Decodes a file to RGB. */
    public RgbImage load(Path path) {
        return decode(readAll(path), path.toString());
    }

    /** Decodes in-memory file bytes to RGB; {@code source} names the data in error messages. */
    public RgbImage decode(byte[] bytes, String source) {
        return toRgb(decodeRaw(bytes, source), source);
    }

    /** Decodes to the reader's native BufferedImage (no colour conversion), after the header checks. */
    public BufferedImage decodeRaw(byte[] bytes, String source) {
        if (bytes.length == 0) throw new ImageException(source + ": empty file (0 bytes), not an image");
        BmpHeader.checkSupported(bytes, source);   // before the JDK reader parses (and misreports) the header
        BufferedImage lossyWebp = decodeLossyWebp(bytes, source);
        if (lossyWebp != null) return lossyWebp;
        bytes = BmpHeader.os2v2AsWindows(JpegHeader.withDefaultHuffmanTables(stripJpegIcc(bytes)));
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            if (in == null) throw new ImageException(source + ": cannot open image stream");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext())
                throw new ImageException(source + ": not a recognised image format (JPEG, PNG, GIF, BMP, WebP)");
            ImageReader reader = readers.next();
            try {
                String format = reader.getFormatName().toLowerCase(java.util.Locale.ROOT);
                // Only the formats whose decode is checked against Pillow (ImageCorpusTest) are read; the JDK
                // and the plugins also claim TIFF, WBMP, ... whose decode is not known to match Pillow's.
                // (An MPO file is a JPEG whose first frame the JPEG reader decodes, as Pillow's MPO plugin does.)
                if (!SUPPORTED_FORMATS.contains(format))
                    throw new ImageException(source + ": " + reader.getFormatName().toUpperCase(java.util.Locale.ROOT)
                            + " images are not supported (navil4j reads JPEG, PNG, GIF, BMP and WebP)");
                reader.setInput(in, true, true);
                int w = reader.getWidth(0), h = reader.getHeight(0);
                if (w <= 0 || h <= 0) throw new ImageException(source + ": image has size " + w + "x" + h);
                long pixels = (long) w * h;
                if (pixels > maxPixels)
                    throw new ImageException(source + ": image size " + w + "x" + h + " = " + pixels
                            + " pixels exceeds the limit of " + maxPixels + " pixels (possible decompression bomb)");
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((IIOReadWarningListener) (r, warning) -> warnings.add(warning));
                int[] gif = "gif".equalsIgnoreCase(reader.getFormatName()) ? gifPlacement(reader) : null;
                if (gif != null && (long) gif[0] * gif[1] > maxPixels)
                    throw new ImageException(source + ": GIF canvas " + gif[0] + "x" + gif[1]
                            + " exceeds the limit of " + maxPixels + " pixels (possible decompression bomb)");
                BufferedImage rle = BmpHeader.decodeRle(bytes, source);
                if (rle != null) return rle;
                JpegHeader jpeg = JpegHeader.parse(bytes);
                if (jpeg != null) jpeg.checkSupported(source);
                // Pillow's JpegImagePlugin reads 4-component JPEGs as libjpeg's raw CMYK ("CMYK;I": always Adobe
                // polarity, JpegImagePlugin.py:386) and converts them itself; the TwelveMonkeys plugin would
                // colour-convert (its own YCC rounding, an ICC profile), so take the raw raster instead.
                BufferedImage img;
                if (jpeg != null && jpeg.components() == 4) {
                    img = PillowCmyk.fromRawJpegRaster(reader.readRaster(0, null), jpeg.adobeTransform());
                } else if (jpeg != null && jpeg.hasH1V2Chroma()) {
                    // 4:4:0 chroma: libjpeg-turbo's vertical triangle filter, not the JDK's row replication
                    Raster raw = reader.readRaster(0, null);
                    img = rgbImage(PillowCmyk.h1v2FancyRgb(raw, jpeg), raw.getWidth(), raw.getHeight());
                } else {
                    img = reader.read(0);
                }
                for (String wmsg : warnings) {
                    String m = wmsg.toLowerCase(java.util.Locale.ROOT);
                    // libjpeg reports a cut-off file only as a warning (JWRN_JPEG_EOF) and fills the rest; Pillow
                    // refuses it (ImageFile.load: "image file is truncated"). Corrupt data inside the file
                    // ("Corrupt JPEG data: premature end of data segment", JWRN_HIT_MARKER) is only a warning
                    // for Pillow too, which decodes such files.
                    if (m.contains("premature end of jpeg file") || m.contains("truncat"))
                        throw new ImageException(source + ": image file is truncated (" + wmsg + ")");
                }
                if (img == null) throw new ImageException(source + ": decoder returned no image");
                img = pngGray16WithoutTrns(bytes, img);
                return gif == null ? img : gifCanvas(img, gif);
            } finally {
                reader.dispose();
            }
        } catch (ImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // ImageIO readers throw IIOException, EOFException, but also raw NPE / AIOOBE on corrupt data.
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new ImageException(source + ": cannot decode image (corrupt or truncated): " + why, e);
        }
    }

    /**
     * GIF frame 0 as Pillow places it: {canvasW, canvasH, left, top, fillIndex}. Pillow's image size is
     * the logical screen, grown to cover the frame; the frame is decoded at its offset onto a canvas
     * filled with the frame's transparency index (or index 0).
     */
    private static int[] gifPlacement(ImageReader reader) throws IOException {
        int w = reader.getWidth(0), h = reader.getHeight(0);
        int left = 0, top = 0, fill = 0, sw = w, sh = h;
        javax.imageio.metadata.IIOMetadata sm = reader.getStreamMetadata();
        if (sm != null) {
            org.w3c.dom.Node lsd = child(sm.getAsTree("javax_imageio_gif_stream_1.0"), "LogicalScreenDescriptor");
            if (lsd != null) {
                sw = intAttr(lsd, "logicalScreenWidth", w);
                sh = intAttr(lsd, "logicalScreenHeight", h);
            }
        }
        javax.imageio.metadata.IIOMetadata im = reader.getImageMetadata(0);
        if (im != null) {
            org.w3c.dom.Node root = im.getAsTree("javax_imageio_gif_image_1.0");
            org.w3c.dom.Node d = child(root, "ImageDescriptor");
            if (d != null) {
                left = intAttr(d, "imageLeftPosition", 0);
                top = intAttr(d, "imageTopPosition", 0);
            }
            org.w3c.dom.Node gce = child(root, "GraphicControlExtension");
            if (gce != null && "TRUE".equalsIgnoreCase(((org.w3c.dom.Element) gce).getAttribute("transparentColorFlag")))
                fill = intAttr(gce, "transparentColorIndex", 0);
        }
        return new int[]{Math.max(sw, left + w), Math.max(sh, top + h), left, top, fill};
    }

    private static org.w3c.dom.Node child(org.w3c.dom.Node n, String name) {
        for (org.w3c.dom.Node c = n.getFirstChild(); c != null; c = c.getNextSibling())
            if (c.getNodeName().equals(name)) return c;
        return null;
    }

    private static int intAttr(org.w3c.dom.Node n, String name, int dflt) {
        String v = ((org.w3c.dom.Element) n).getAttribute(name);
        try {
            return v.isEmpty() ? dflt : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private static BufferedImage gifCanvas(BufferedImage frame, int[] g) {
        if (g[0] == frame.getWidth() && g[1] == frame.getHeight() && g[2] == 0 && g[3] == 0) return frame;
        if (!(frame.getColorModel() instanceof IndexColorModel icm)) return frame;
        java.awt.image.WritableRaster r = icm.createCompatibleWritableRaster(g[0], g[1]);
        int fill = g[4] < icm.getMapSize() ? g[4] : 0;
        for (int y = 0; y < g[1]; y++) for (int x = 0; x < g[0]; x++) r.setSample(x, y, 0, fill);
        Raster src = frame.getRaster();
        for (int y = 0; y < frame.getHeight(); y++)
            for (int x = 0; x < frame.getWidth(); x++) r.setSample(x + g[2], y + g[3], 0, src.getSample(x, y, 0));
        return new BufferedImage(icm, r, false, null);
    }

    /**
     * WebP through navil4j's libwebp-exact decoders: lossy ("VP8 ", {@link Vp8Decoder}) and lossless
     * ("VP8L", {@link Vp8lDecoder}), plain, inside VP8X or as the first frame of an animation; null for a
     * file that is not WebP. The alpha plane (ALPH) is not decoded: convert('RGB') drops it, and libwebp's
     * RGBA output does not premultiply.
     */
    private BufferedImage decodeLossyWebp(byte[] f, String source) {
        if (f.length < 20 || !(f[0] == 'R' && f[1] == 'I' && f[2] == 'F' && f[3] == 'F' && f[8] == 'W' && f[9] == 'E' && f[10] == 'B' && f[11] == 'P'))
            return null;
        long riffSize = (f[4] & 0xFFL) | (f[5] & 0xFFL) << 8 | (f[6] & 0xFFL) << 16 | (f[7] & 0xFFL) << 24;
        // libwebp's demuxer (behind Pillow's WebPAnimDecoder) refuses a file shorter than its RIFF header says,
        // for lossless too, where the other reader would decode the part that is there.
        if (riffSize + 8 > f.length)
            throw new ImageException(source + ": image file is truncated (RIFF size " + (riffSize + 8) + " bytes, "
                    + f.length + " present)");
        int p = 12, canvasW = -1, canvasH = -1;
        while (p + 8 <= f.length) {
            String fourcc = new String(f, p, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            long len = (f[p + 4] & 0xFFL) | (f[p + 5] & 0xFFL) << 8 | (f[p + 6] & 0xFFL) << 16 | (f[p + 7] & 0xFFL) << 24;
            int data = p + 8;
            if (fourcc.equals("VP8X")) {
                if (len < 10 || data + 10 > f.length) return null;
                canvasW = 1 + ((f[data + 4] & 0xFF) | (f[data + 5] & 0xFF) << 8 | (f[data + 6] & 0xFF) << 16);
                canvasH = 1 + ((f[data + 7] & 0xFF) | (f[data + 8] & 0xFF) << 8 | (f[data + 9] & 0xFF) << 16);
            } else if (fourcc.equals("ANMF")) {
                return firstFrame(f, data, (int) Math.min(len, f.length - data), canvasW, canvasH, source);
            } else if (fourcc.equals("VP8L")) {
                if (data + len > f.length)
                    throw new ImageException(source + ": image file is truncated (VP8L chunk of " + len + " bytes, "
                            + (f.length - data) + " present)");
                int[] wh = Vp8lDecoder.size(f, data, (int) len);
                if (wh == null) throw new ImageException(source + ": cannot decode lossless WebP (corrupt): bad VP8L signature");
                if (canvasW >= 0 && (canvasW != wh[0] || canvasH != wh[1]))
                    throw new ImageException(source + ": cannot decode lossless WebP (corrupt): VP8X canvas " + canvasW + "x" + canvasH
                            + " differs from the image's " + wh[0] + "x" + wh[1]);
                long pixels = (long) wh[0] * wh[1];
                if (pixels > maxPixels)
                    throw new ImageException(source + ": image size " + wh[0] + "x" + wh[1] + " = " + pixels
                            + " pixels exceeds the limit of " + maxPixels + " pixels (possible decompression bomb)");
                return rgbImage(argbToRgb(Vp8lDecoder.decode(f, data, (int) len, source)), wh[0], wh[1]);
            } else if (fourcc.equals("VP8 ")) {
                if (data + len > f.length)
                    throw new ImageException(source + ": image file is truncated (VP8 chunk of " + len + " bytes, "
                            + (f.length - data) + " present)");
                int[] wh = Vp8Decoder.size(f, data, (int) len);
                if (wh == null) throw new ImageException(source + ": cannot decode lossy WebP (corrupt): bad VP8 frame header");
                if (canvasW >= 0 && (canvasW != wh[0] || canvasH != wh[1]))
                    throw new ImageException(source + ": cannot decode lossy WebP (corrupt): VP8X canvas " + canvasW + "x" + canvasH
                            + " differs from the frame's " + wh[0] + "x" + wh[1]);
                long pixels = (long) wh[0] * wh[1];
                if (pixels > maxPixels)
                    throw new ImageException(source + ": image size " + wh[0] + "x" + wh[1] + " = " + pixels
                            + " pixels exceeds the limit of " + maxPixels + " pixels (possible decompression bomb)");
                Vp8Decoder.Frame frame = Vp8Decoder.decode(f, data, (int) len, source);
                return rgbImage(Vp8Decoder.toRgb(frame), frame.width(), frame.height());
            }
            if (len > f.length) break;
            p = (int) Math.min(f.length, data + len + (len & 1));
        }
        throw new ImageException(source + ": cannot decode WebP (corrupt): no VP8, VP8L or ANMF image chunk");
    }

    private static BufferedImage placeOnCanvas(byte[] rgb, int fw, int fh, int x0, int y0, int canvasW, int canvasH) {
        byte[] canvas = new byte[Math.multiplyExact(Math.multiplyExact(canvasW, canvasH), 3)];
        for (int y = 0; y < fh; y++)
            System.arraycopy(rgb, y * fw * 3, canvas, ((y0 + y) * canvasW + x0) * 3, fw * 3);
        return rgbImage(canvas, canvasW, canvasH);
    }

    /** RGB of ARGB pixels: convert('RGB') drops alpha (libwebp's RGBA output is not premultiplied). */
    private static byte[] argbToRgb(int[] argb) {
        byte[] out = new byte[Math.multiplyExact(argb.length, 3)];
        for (int i = 0, o = 0; i < argb.length; i++, o += 3) {
            out[o] = (byte) (argb[i] >> 16);
            out[o + 1] = (byte) (argb[i] >> 8);
            out[o + 2] = (byte) argb[i];
        }
        return out;
    }

    private static BufferedImage rgbImage(byte[] rgb, int w, int h) {
        java.awt.image.DataBufferByte db = new java.awt.image.DataBufferByte(rgb, rgb.length);
        java.awt.image.WritableRaster r = Raster.createInterleavedRaster(db, w, h, w * 3, 3, new int[]{0, 1, 2}, null);
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false,
                java.awt.Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        return new BufferedImage(cm, r, false, null);
    }

    /**
     * Frame 1 of an animated WebP, as Pillow gets it from libwebp's WebPAnimDecoder (anim_decode.c): the
     * first frame is a key frame, so the canvas is zero-filled (black once the alpha is dropped) and the
     * frame is decoded into its rectangle without blending.
     */
    private BufferedImage firstFrame(byte[] f, int data, int len, int canvasW, int canvasH, String source) {
        if (canvasW <= 0 || len < 16) throw new ImageException(source + ": cannot decode animated WebP (corrupt): bad ANMF chunk");
        long pixels = (long) canvasW * canvasH;
        if (pixels > maxPixels)
            throw new ImageException(source + ": image size " + canvasW + "x" + canvasH + " = " + pixels
                    + " pixels exceeds the limit of " + maxPixels + " pixels (possible decompression bomb)");
        int x0 = 2 * ((f[data] & 0xFF) | (f[data + 1] & 0xFF) << 8 | (f[data + 2] & 0xFF) << 16);
        int y0 = 2 * ((f[data + 3] & 0xFF) | (f[data + 4] & 0xFF) << 8 | (f[data + 5] & 0xFF) << 16);
        int fw = 1 + ((f[data + 6] & 0xFF) | (f[data + 7] & 0xFF) << 8 | (f[data + 8] & 0xFF) << 16);
        int fh = 1 + ((f[data + 9] & 0xFF) | (f[data + 10] & 0xFF) << 8 | (f[data + 11] & 0xFF) << 16);
        if ((long) x0 + fw > canvasW || (long) y0 + fh > canvasH)
            throw new ImageException(source + ": cannot decode animated WebP (corrupt): frame outside the canvas");
        int p = data + 16, end = data + len;
        while (p + 8 <= end) {
            String fourcc = new String(f, p, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            long clen = (f[p + 4] & 0xFFL) | (f[p + 5] & 0xFFL) << 8 | (f[p + 6] & 0xFFL) << 16 | (f[p + 7] & 0xFFL) << 24;
            if (p + 8 + clen > end) throw new ImageException(source + ": image file is truncated (ANMF sub-chunk)");
            if (fourcc.equals("VP8L")) {
                int[] wh = Vp8lDecoder.size(f, p + 8, (int) clen);
                if (wh == null || wh[0] != fw || wh[1] != fh)
                    throw new ImageException(source + ": cannot decode animated WebP (corrupt): frame size differs from ANMF");
                return placeOnCanvas(argbToRgb(Vp8lDecoder.decode(f, p + 8, (int) clen, source)), fw, fh, x0, y0, canvasW, canvasH);
            }
            if (fourcc.equals("VP8 ")) {
                int[] wh = Vp8Decoder.size(f, p + 8, (int) clen);
                // checked before decoding, so that a frame header cannot make the decoder allocate past the canvas
                if (wh == null || wh[0] != fw || wh[1] != fh)
                    throw new ImageException(source + ": cannot decode animated WebP (corrupt): frame size differs from ANMF");
                Vp8Decoder.Frame frame = Vp8Decoder.decode(f, p + 8, (int) clen, source);
                return placeOnCanvas(Vp8Decoder.toRgb(frame), fw, fh, x0, y0, canvasW, canvasH);
            }
            p += 8 + (int) clen + (int) (clen & 1);
        }
        throw new ImageException(source + ": cannot decode animated WebP (corrupt): first frame has no image data");
    }

    /**
     * A 16-bit grayscale PNG (colour type 0) is Pillow mode I;16 whether or not it has a tRNS chunk
     * (PngImagePlugin keeps tRNS as info["transparency"]), so convert('RGB') clips each sample to 255.
     * The JDK reader turns tRNS into an alpha band, which would select the gray+alpha (LA;16B, high byte)
     * rule; this drops that band again.
     */
    private static BufferedImage pngGray16WithoutTrns(byte[] f, BufferedImage img) {
        boolean png = f.length > 26 && (f[0] & 0xFF) == 0x89 && f[1] == 'P' && f[2] == 'N' && f[3] == 'G';
        if (!png || f[24] != 16 || f[25] != 0) return img;   // IHDR bit depth 16, colour type 0
        ColorModel cm = img.getColorModel();
        if (!cm.hasAlpha() || cm.getNumColorComponents() != 1) return img;
        java.awt.image.WritableRaster gray = img.getRaster().createWritableChild(0, 0, img.getWidth(), img.getHeight(), 0, 0, new int[]{0});
        ComponentColorModel gcm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), new int[]{16}, false, false,
                java.awt.Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        return new BufferedImage(gcm, gray, false, null);
    }

    /**
     * Removes APP2 "ICC_PROFILE" segments of a JPEG (before SOS): the TwelveMonkeys reader would
     * colour-convert the pixels through an embedded non-sRGB profile, while Pillow's
     * {@code convert('RGB')} keeps the decoded values. Other data is returned unchanged.
     */
    static byte[] stripJpegIcc(byte[] f) {
        if (f.length < 4 || (f[0] & 0xFF) != 0xFF || (f[1] & 0xFF) != 0xD8) return f;
        java.io.ByteArrayOutputStream out = null;
        int p = 2, copied = 0;
        while (p + 4 <= f.length && (f[p] & 0xFF) == 0xFF) {
            int marker = f[p + 1] & 0xFF;
            if (marker == 0xDA || marker == 0xD9) break;
            if (marker == 0xFF) { p++; continue; }   // fill byte
            int len = ((f[p + 2] & 0xFF) << 8) | (f[p + 3] & 0xFF);
            if (len < 2 || p + 2 + len > f.length) break;   // leave damaged data to the decoder's error
            if (marker == 0xE2 && len >= 14 && new String(f, p + 4, 12, java.nio.charset.StandardCharsets.ISO_8859_1).equals("ICC_PROFILE\0")) {
                if (out == null) out = new java.io.ByteArrayOutputStream(f.length);
                out.write(f, copied, p - copied);
                copied = p + 2 + len;
            }
            p += 2 + len;
        }
        if (out == null) return f;
        out.write(f, copied, f.length - copied);
        return out.toByteArray();
    }

    /** Pillow's {@code convert('RGB')} of a decoded image (see the class comment for the rules). */
    public static RgbImage toRgb(BufferedImage img, String source) {
        int w = img.getWidth(), h = img.getHeight();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        if (cm instanceof IndexColorModel icm) {
            int n = icm.getMapSize();
            for (int y = 0, o = 0; y < h; y++)
                for (int x = 0; x < w; x++, o += 3) {
                    int idx = r.getSample(x, y, 0);
                    // An index beyond the palette reads as black (Pillow's palette is zero-padded to 256).
                    if (idx < n) {
                        out[o] = (byte) icm.getRed(idx);
                        out[o + 1] = (byte) icm.getGreen(idx);
                        out[o + 2] = (byte) icm.getBlue(idx);
                    }
                }
            return new RgbImage(w, h, out);
        }
        if (cm instanceof DirectColorModel dcm) {
            // Packed pixels (BMP, some PNG paths): bands are R, G, B[, A] with mask widths.
            int[] bits = r.getSampleModel().getSampleSize();
            for (int y = 0, o = 0; y < h; y++)
                for (int x = 0; x < w; x++, o += 3)
                    for (int c = 0; c < 3; c++) out[o + c] = (byte) scaleBits(r.getSample(x, y, c), bits[c]);
            return new RgbImage(w, h, out);
        }
        if (!(cm instanceof ComponentColorModel))
            throw new ImageException(source + ": unsupported colour model " + cm.getClass().getSimpleName());
        int comps = cm.getNumColorComponents();
        boolean alpha = cm.hasAlpha();
        int bits = cm.getComponentSize(0);
        int dataType = r.getTransferType();
        if (dataType != DataBuffer.TYPE_BYTE && dataType != DataBuffer.TYPE_USHORT)
            throw new ImageException(source + ": unsupported sample type " + dataType + " (only 8/16-bit integer images)");
        int csType = cm.getColorSpace().getType();
        if (fastInterleavedBytes(r, comps, bits, csType, w, h, out)) return new RgbImage(w, h, out);
        int[] px = new int[r.getNumBands()];
        for (int y = 0, o = 0; y < h; y++)
            for (int x = 0; x < w; x++, o += 3) {
                r.getPixel(x, y, px);
                if (comps == 1) {
                    int v = px[0];
                    if (bits == 16) v = alpha ? v >>> 8 : Math.min(v, 255);   // LA;16B high byte / I;16 → RGB clip
                    else if (bits < 8) v = scaleBits(v, bits);
                    out[o] = out[o + 1] = out[o + 2] = (byte) v;
                } else if (comps == 3) {
                    for (int c = 0; c < 3; c++) out[o + c] = (byte) (bits == 16 ? px[c] >>> 8 : px[c]);
                } else if (comps == 4 && csType == ColorSpace.TYPE_CMYK) {
                    int k = bits == 16 ? px[3] >>> 8 : px[3];
                    int nk = 255 - k;
                    for (int c = 0; c < 3; c++) {
                        int v = bits == 16 ? px[c] >>> 8 : px[c];
                        int t = v * nk + 128;   // Pillow cmyk2rgb: CLIP8(nk - MULDIV255(c, nk))
                        out[o + c] = (byte) Math.max(0, Math.min(255, nk - (((t >> 8) + t) >> 8)));
                    }
                } else {
                    throw new ImageException(source + ": unsupported colour layout (" + comps + " components, colour space type " + csType + ")");
                }
            }
        return new RgbImage(w, h, out);
    }

    /** 8-bit gray / RGB in one pixel-interleaved byte array (JPEG, most PNGs): direct copy, same result as the general loop. */
    private static boolean fastInterleavedBytes(Raster r, int comps, int bits, int csType, int w, int h, byte[] out) {
        if (bits != 8 || !(r.getDataBuffer() instanceof java.awt.image.DataBufferByte db) || db.getNumBanks() != 1) return false;
        if (!(r.getSampleModel() instanceof java.awt.image.PixelInterleavedSampleModel sm)) return false;
        if (!(comps == 1 || (comps == 3 && csType != ColorSpace.TYPE_CMYK))) return false;
        if (r.getSampleModelTranslateX() != 0 || r.getSampleModelTranslateY() != 0) return false;
        byte[] d = db.getData();
        int ps = sm.getPixelStride(), ss = sm.getScanlineStride();
        int[] off = sm.getBandOffsets();
        int base = db.getOffset();
        for (int y = 0, o = 0; y < h; y++) {
            int row = base + y * ss;
            for (int x = 0; x < w; x++, o += 3) {
                int p = row + x * ps;
                if (comps == 1) {
                    byte v = d[p + off[0]];
                    out[o] = out[o + 1] = out[o + 2] = v;
                } else {
                    out[o] = d[p + off[0]];
                    out[o + 1] = d[p + off[1]];
                    out[o + 2] = d[p + off[2]];
                }
            }
        }
        return true;
    }

    /**
     * Expands an n-bit sample to 8 bits as Pillow's unpackers do: v × 255 / (2^n − 1) truncated (Unpack.c
     * ImagingUnpackBGR15 / BGR16 for 5- and 6-bit BMP fields; exact anyway for 1, 2, 4 bits).
     */
    private static int scaleBits(int v, int bits) {
        if (bits == 8) return v;
        if (bits > 8) return v >>> (bits - 8);
        if (bits == 0) return 0;
        return v * 255 / ((1 << bits) - 1);
    }
}
