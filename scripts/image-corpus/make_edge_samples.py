#!/usr/bin/env python3
"""Edge-case inputs for ImageCorpusTest, made from corpus files and with Pillow 12.3 (test data only):

  * truncated-generated/: real corpus files cut at 30 %, 70 % and 99 % of their length (every format),
    and lossy WebP files with a byte of the first partition / token data flipped;
  * animated-generated/: animated GIF, PNG (APNG) and WebP (lossless frames) of 3 distinct frames,
    whose first frame is what Image.open(...).convert('RGB') gives;
  * tiny-generated/: 1 x N and N x 1 images in every format.

    /tmp/venv-pil/bin/python scripts/image-corpus/make_edge_samples.py fixtures/image-corpus
then run generate_expected.py to record what Pillow makes of them.
"""
import os
import sys

from PIL import Image

CUT_SOURCES = [
    'libjpeg-turbo/testorig.jpg', 'libjpeg-turbo/testimgint.jpg', 'jpeg-decoder-reftest/mozilla_jpg-cmyk-2.jpg',
    'pngsuite/basn2c08.png', 'pngsuite/ibasn0g16.png', 'libpng-testpngs/rgb-alpha-16-sRGB.png',
    'libwebp/test.webp', 'libwebp/lossy_alpha4.webp', 'libwebp/vp80-01-intra-1400.webp', 'libwebp/lossless1.webp',
    'bmpsuite/g_rgb24.bmp', 'bmpsuite/g_pal8rle.bmp', 'bmpsuite/g_rgb16-565.bmp',
]
FLIP_SOURCES = ['libwebp/test.webp', 'libwebp/vp80-00-comprehensive-007.webp', 'libwebp/vp80-03-segmentation-1437.webp']


def picture(w, h, seed=0):
    im = Image.new('RGB', (w, h))
    im.putdata([((x * 37 + seed * 50) % 256, (y * 53 + seed * 90) % 256, ((x + y) * 29 + seed * 70) % 256)
                for y in range(h) for x in range(w)])
    return im


def main():
    root = sys.argv[1]
    cut = os.path.join(root, 'truncated-generated')
    os.makedirs(cut, exist_ok=True)
    for src in CUT_SOURCES:
        data = open(os.path.join(root, src), 'rb').read()
        base, ext = os.path.splitext(os.path.basename(src))
        for pct in (30, 70, 99):
            n = max(1, len(data) * pct // 100)
            with open(os.path.join(cut, '%s_cut%02d%s' % (base, pct, ext)), 'wb') as o:
                o.write(data[:n])
    for src in FLIP_SOURCES:
        data = bytearray(open(os.path.join(root, src), 'rb').read())
        base, ext = os.path.splitext(os.path.basename(src))
        for frac in (0.02, 0.5, 0.9):
            d = bytearray(data)
            i = 40 + int((len(d) - 41) * frac)   # past the RIFF/VP8 headers
            d[i] ^= 0x5A
            with open(os.path.join(cut, '%s_flip%02d%s' % (base, int(frac * 100), ext)), 'wb') as o:
                o.write(bytes(d))

    anim = os.path.join(root, 'animated-generated')
    os.makedirs(anim, exist_ok=True)
    frames = [picture(23, 17, s) for s in range(3)]
    frames[0].save(os.path.join(anim, 'anim3.gif'), save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(os.path.join(anim, 'anim3.png'), save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(os.path.join(anim, 'anim3_lossless.webp'), save_all=True, append_images=frames[1:], duration=100,
                   loop=0, lossless=True)
    frames[0].save(os.path.join(anim, 'anim3_lossy.webp'), save_all=True, append_images=frames[1:], duration=100,
                   loop=0, quality=80)

    tiny = os.path.join(root, 'tiny-generated')
    os.makedirs(tiny, exist_ok=True)
    for (w, h) in ((1, 1), (1, 37), (41, 1)):
        im = picture(w, h, 1)
        im.save(os.path.join(tiny, 'rgb_%dx%d.png' % (w, h)))
        im.save(os.path.join(tiny, 'rgb_%dx%d.jpg' % (w, h)), quality=90)
        im.save(os.path.join(tiny, 'rgb_%dx%d.bmp' % (w, h)))
        im.save(os.path.join(tiny, 'rgb_%dx%d.gif' % (w, h)))
        im.save(os.path.join(tiny, 'rgb_%dx%d_lossy.webp' % (w, h)), quality=80)
        im.save(os.path.join(tiny, 'rgb_%dx%d_lossless.webp' % (w, h)), lossless=True)


if __name__ == '__main__':
    main()
