package dev.navil4j.models.navil;

import dev.navil4j.image.ImageLoader;
import dev.navil4j.image.RgbImage;

import java.util.ArrayList;
import java.util.List;

/**
 * NaViL's any-resolution multi-scale preprocessing (demo.load_image with the config's min/max_dynamic_patch and
 * scale_downsample_ratio) of all images of one chat() call together, as the reference does: max_pixels carries
 * over from one image to the next.
 */
final class NaViLPreprocess {
    private NaViLPreprocess() {}

    static NaViL.Images load(List<RgbImage> images, NaViLConfig cfg) {
        NaViLImageProcessor.Params p = NaViLImageProcessor.Params.of(cfg.minDynamicPatch(), cfg.maxDynamicPatch(),
                cfg.vision().patchSize(), cfg.scaleDownsampleRatio());
        NaViLImageProcessor.Result r = NaViLImageProcessor.preprocess(images, p);
        List<List<NaViLVisionModelAnyRes.Grid>> perImage = new ArrayList<>();
        int k = 0;
        for (int n : r.numScales()) {
            List<NaViLVisionModelAnyRes.Grid> scales = new ArrayList<>();
            for (int s = 0; s < n; s++, k++) scales.add(new NaViLVisionModelAnyRes.Grid(r.gridThw()[k][0], r.gridThw()[k][1], r.gridThw()[k][2]));
            perImage.add(scales);
        }
        return new NaViL.Images(r.pixelValues(), perImage);
    }

    /** An image of the conversation: its file (Pillow-exact decoding) or an in-memory image. */
    static RgbImage rgb(dev.navil4j.chat.Conversation.Image img) {
        if (img.path() != null) return ImageLoader.loadRgb(img.path());
        if (img.image() != null) return ImageLoader.toRgb(img.image(), "in-memory image");
        throw new IllegalArgumentException("an image needs a file or a decoded image");
    }
}
