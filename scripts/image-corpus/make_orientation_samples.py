#!/usr/bin/env python3
"""Writes small files that carry their orientation where Pillow's getexif() looks besides EXIF blocks
(PNG "Raw profile type exif" text chunks, XMP tiff:Orientation in PNG iTXt / JPEG APP1 / WebP XMP),
into fixtures/image-corpus/orientation-generated/. Run once by a developer with Pillow 12.3 (test data
only); generate_expected.py then records what exif_transpose makes of them.

    /tmp/venv-pil/bin/python scripts/image-corpus/make_orientation_samples.py fixtures/image-corpus/orientation-generated
"""
import os
import sys

from PIL import Image, PngImagePlugin


def picture():
    im = Image.new('RGB', (7, 5))
    im.putdata([(x * 36, y * 60, (x * 7 + y * 13) % 256) for y in range(5) for x in range(7)])
    return im


def exif_bytes(orientation):
    e = Image.Exif()
    if orientation is not None:
        e[0x0112] = orientation
    e[0x0131] = 'navil4j test'   # Software, so that an EXIF block without orientation is not empty
    return e.tobytes()   # starts with b"Exif\0\0"


def raw_profile(data):
    h = data.hex()
    lines = [h[i:i + 72] for i in range(0, len(h), 72)]
    return '\nexif\n%8d\n' % len(data) + '\n'.join(lines) + '\n'


def xmp(orientation, element=False):
    o = ('<tiff:Orientation>%d</tiff:Orientation>' % orientation) if element else ('tiff:Orientation="%d"' % orientation)
    if element:
        body = '<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/">%s</rdf:Description>' % o
    else:
        body = '<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" %s/>' % o
    return ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">%s</rdf:RDF></x:xmpmeta>'
            '<?xpacket end="w"?>' % body)


def png(path, texts=(), exif=None):
    info = PngImagePlugin.PngInfo()
    for kind, key, value in texts:
        if kind == 'tEXt':
            info.add_text(key, value)
        elif kind == 'zTXt':
            info.add_text(key, value, zip=True)
        elif kind == 'iTXt':
            info.add_itxt(key, value, zip=False)
        else:
            info.add_itxt(key, value, zip=True)
    kw = {'pnginfo': info}
    if exif is not None:
        kw['exif'] = exif
    picture().save(path, **kw)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    j = lambda n: os.path.join(out, n)
    png(j('png_rawprofile_text_o6.png'), [('tEXt', 'Raw profile type exif', raw_profile(exif_bytes(6)))])
    png(j('png_rawprofile_ztxt_o3.png'), [('zTXt', 'Raw profile type exif', raw_profile(exif_bytes(3)))])
    png(j('png_rawprofile_noorient_xmp_o5.png'), [('tEXt', 'Raw profile type exif', raw_profile(exif_bytes(None))),
                                                   ('iTXt', 'XML:com.adobe.xmp', xmp(5))])
    png(j('png_xmp_attr_o8.png'), [('iTXt', 'XML:com.adobe.xmp', xmp(8))])
    png(j('png_xmp_elem_zipped_o7.png'), [('iTXtz', 'XML:com.adobe.xmp', xmp(7, element=True))])
    png(j('png_exif_noorient_xmp_o6.png'), [('iTXt', 'XML:com.adobe.xmp', xmp(6))], exif=exif_bytes(None))
    png(j('png_exif_o1_xmp_o6.png'), [('iTXt', 'XML:com.adobe.xmp', xmp(6))], exif=exif_bytes(1))
    png(j('png_exif_o2_rawprofile_o6.png'), [('tEXt', 'Raw profile type exif', raw_profile(exif_bytes(6)))], exif=exif_bytes(2))
    png(j('png_xmp_o9_invalid.png'), [('iTXt', 'XML:com.adobe.xmp', xmp(9))])
    picture().save(j('jpeg_xmp_o6.jpg'), xmp=xmp(6).encode(), quality=95)
    picture().save(j('jpeg_exif_noorient_xmp_o8.jpg'), exif=exif_bytes(None), xmp=xmp(8).encode(), quality=95)
    picture().save(j('jpeg_exif_o3_xmp_o6.jpg'), exif=exif_bytes(3), xmp=xmp(6).encode(), quality=95)
    picture().save(j('webp_lossless_xmp_o6.webp'), lossless=True, xmp=xmp(6).encode())
    picture().save(j('webp_lossless_exif_o5.webp'), lossless=True, exif=exif_bytes(5))


if __name__ == '__main__':
    main()
