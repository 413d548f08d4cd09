package dev.navil4j.langchain4j;

import dev.langchain4j.data.image.Image;
import dev.langchain4j.data.message.ImageContent;
import dev.navil4j.Media;
import dev.navil4j.chat.Conversation;
import dev.navil4j.image.ImageLoader;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;

/**
 * A LangChain4j {@link ImageContent} as an engine image: base64 data and {@code data:} URLs are decoded in memory,
 * {@code file:} URLs read from disk (both with the engine's Pillow-compatible decoder), {@code http(s)} URLs fetched
 * only when remote images were allowed. Sizes are checked before decoding.
 */
final class ImageResolver {
    static final long DEFAULT_MAX_BYTES = 20L << 20;

    private final boolean allowRemote;
    private final long maxBytes;
    private final ImageLoader decoder = new ImageLoader(ImageLoader.DEFAULT_MAX_PIXELS);

    ImageResolver(boolean allowRemote, long maxBytes) {
        if (maxBytes <= 0) throw new IllegalArgumentException("max image bytes must be > 0, got " + maxBytes);
        this.allowRemote = allowRemote;
        this.maxBytes = maxBytes;
    }

    Conversation.Media resolve(ImageContent content) {
        Image image = content.image();
        if (image.base64Data() != null) return decoded(base64(image.base64Data()), "base64 image");
        URI url = image.url();
        if (url == null) throw new IllegalArgumentException("an image content needs base64 data or a URL");
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        return switch (scheme) {
            case "data" -> {
                String s = url.toString();
                int comma = s.indexOf(',');
                if (comma < 0 || !s.substring(0, comma).toLowerCase(Locale.ROOT).endsWith(";base64"))
                    throw new IllegalArgumentException("a data: image URL must be base64 (data:image/...;base64,...)");
                yield decoded(base64(s.substring(comma + 1)), "data: image");
            }
            case "file" -> Media.image(Path.of(url));
            case "http", "https" -> {
                if (!allowRemote)
                    throw new IllegalArgumentException("remote image URLs are not fetched (enable them with allowRemoteImages(true), "
                            + "or pass the image as base64 data or a file: URL): " + url);
                yield decoded(fetch(url), url.toString());
            }
            default -> throw new IllegalArgumentException("unsupported image URL scheme '" + scheme + "' (data:, file: or, when allowed, http(s):)");
        };
    }

    private byte[] base64(String data) {
        // 4 base64 characters hold 3 bytes: refuse an oversized image before decoding it
        if (data.length() / 4L * 3 > maxBytes + 3) throw new IllegalArgumentException("the image is larger than " + maxBytes + " bytes");
        try {
            return Base64.getMimeDecoder().decode(data);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the image's base64 data is malformed: " + e.getMessage(), e);
        }
    }

    private Conversation.Media decoded(byte[] bytes, String source) {
        return Media.image(decoder.decodeRaw(bytes, source));
    }

    private byte[] fetch(URI url) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NORMAL).build();
        try {
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() / 100 != 2) throw new IllegalArgumentException("fetching " + url + " gave HTTP " + r.statusCode());
                byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
                if (b.length > maxBytes) throw new IllegalArgumentException("the image at " + url + " is larger than " + maxBytes + " bytes");
                return b;
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot fetch " + url + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching " + url, e);
        }
    }
}
