package dev.navil4j.models.navil;

import java.nio.file.Path;
import java.util.List;

/** NaViL's any-resolution multi-scale preprocessing of image files (demo.load_image), via dev.navil4j.image. */
final class NaViLPreprocess {
    private NaViLPreprocess() {}

    /** Whether this build can preprocess image files. */
    static final boolean AVAILABLE = false;

    static NaViL.Images load(List<Path> images, NaViLConfig cfg) {
        throw new UnsupportedOperationException("NaViL image preprocessing (dev.navil4j.image) is not in this build yet");
    }
}
