package dev.navil4j.server;

import dev.navil4j.image.ImageException;
import dev.navil4j.image.ImageLoader;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.InputStream;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;

/**
 * Turns an {@code image_url} of a chat request into a decoded image, enforcing the byte and pixel limits
 * before decoding: the dimensions are read from the header alone, so a small file declaring a huge
 * canvas (a decompression bomb) is refused without allocating it.
 */
public final class ImageInput {
    private final long maxBytes;
    private final boolean allowRemote;
    private final ImageLoader loader;
    private volatile HttpClient http;

    public ImageInput(long maxBytes, long maxPixels, boolean allowRemote) {
        this.maxBytes = maxBytes;
        this.allowRemote = allowRemote;
        this.loader = new ImageLoader(maxPixels);
    }

    /** Resolves a data: URI (or an http(s) URL when allowed) to image bytes, then decodes them. */
    public BufferedImage load(String url, String param) {
        return decode(fetch(url, param), param);
    }

    /** The bytes behind an image URL: base64 data URIs always; http(s) only when remote images are allowed. */
    public byte[] fetch(String url, String param) { return fetch(url, param, "image", maxBytes); }

    /** The bytes behind a video URL (the video_url extension), with its own size limit. */
    public byte[] fetchVideo(String url, String param, long limit) { return fetch(url, param, "video", limit); }

    private byte[] fetch(String url, String param, String kind, long maxBytes) {
        if (url.regionMatches(true, 0, "data:", 0, 5)) return dataUri(url, param, kind, maxBytes);
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            if (!allowRemote) throw ApiException.invalid(param, "remote " + kind + " URLs are disabled on this server "
                    + "(start it with --allow-remote-images); send the " + kind + " as a data: URI with base64 content");
            return download(url, param, kind, maxBytes);
        }
        throw ApiException.invalid(param, "unsupported " + kind + " URL scheme: expected data:<mime>;base64,<data>"
                + (allowRemote ? " or an http(s) URL" : ""));
    }

    private byte[] dataUri(String url, String param, String kind, long maxBytes) {
        int comma = url.indexOf(',');
        if (comma < 0) throw ApiException.invalid(param, "malformed data URI: no ',' separating the header from the data");
        String header = url.substring(5, comma).toLowerCase(Locale.ROOT);
        if (!header.endsWith(";base64"))
            throw ApiException.invalid(param, "data URI must be base64-encoded (data:<mime>;base64,<data>)");
        String mime = header.substring(0, header.length() - ";base64".length());
        if (!mime.isEmpty() && !mime.startsWith(kind + "/") && !mime.equals("application/octet-stream"))
            throw ApiException.invalid(param, "data URI has media type '" + mime + "', expected an " + kind + "/* type");
        int dataLen = url.length() - comma - 1;
        // base64 expands 3 bytes to 4 characters: refuse before allocating the decoded array
        if ((long) dataLen / 4 * 3 > maxBytes + 3)
            throw new ApiException(413, "invalid_request_error", param, kind + "_too_large",
                    kind + " is larger than the limit of " + maxBytes + " bytes", 0);
        try {
            byte[] b = Base64.getMimeDecoder().decode(url.substring(comma + 1));
            if (b.length == 0) throw ApiException.invalid(param, "data URI holds no data");
            if (b.length > maxBytes) throw new ApiException(413, "invalid_request_error", param, kind + "_too_large",
                    kind + " is larger than the limit of " + maxBytes + " bytes", 0);
            return b;
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(param, "invalid base64 in data URI: " + e.getMessage());
        }
    }

    private byte[] download(String url, String param, String kind, long maxBytes) {
        HttpClient c = http;
        if (c == null) {
            synchronized (this) {
                if (http == null) http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                        .followRedirects(HttpClient.Redirect.NORMAL).build();
                c = http;
            }
        }
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build();
            HttpResponse<InputStream> resp = c.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = resp.body()) {
                if (resp.statusCode() != 200)
                    throw ApiException.invalid(param, "fetching the " + kind + " URL failed with HTTP " + resp.statusCode());
                byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
                if (b.length > maxBytes) throw new ApiException(413, "invalid_request_error", param, kind + "_too_large",
                        kind + " is larger than the limit of " + maxBytes + " bytes", 0);
                return b;
            }
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(param, "invalid image URL: " + e.getMessage());
        } catch (IOException e) {
            throw ApiException.invalid(param, "fetching the " + kind + " URL failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.invalid(param, "interrupted while fetching the " + kind + " URL");
        }
    }

    /**
     * Decodes image bytes with the engine's loader (the header's dimensions are checked against the pixel
     * limit before any pixel is decoded; truncated files are refused as Pillow refuses them).
     */
    public BufferedImage decode(byte[] bytes, String param) {
        try {
            return loader.decodeRaw(bytes, param);
        } catch (ImageException e) {
            throw ApiException.invalid(param, "invalid_image", e.getMessage());
        }
    }
}
