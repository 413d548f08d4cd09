package dev.navil4j.server;

import dev.navil4j.image.ImageException;
import dev.navil4j.image.ImageLoader;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.InputStream;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Turns an {@code image_url} of a chat request into a decoded image, enforcing the byte and pixel limits
 * before decoding: the dimensions are read from the header alone, so a small file declaring a huge
 * canvas (a decompression bomb) is refused without allocating it.
 */
public final class ImageInput {
    private final long maxBytes;
    private final boolean allowRemote;
    private final ImageLoader loader;
    private final Predicate<InetAddress> blocked;
    private final Duration timeout;
    private volatile HttpClient http;

    public ImageInput(long maxBytes, long maxPixels, boolean allowRemote) {
        this(maxBytes, maxPixels, allowRemote, ImageInput::isNonPublic, Duration.ofSeconds(10));
    }

    /** @param blocked which resolved addresses are never fetched (tests allow one loopback address); @param timeout connect and per-request */
    ImageInput(long maxBytes, long maxPixels, boolean allowRemote, Predicate<InetAddress> blocked, Duration timeout) {
        this.maxBytes = maxBytes;
        this.allowRemote = allowRemote;
        this.loader = new ImageLoader(maxPixels);
        this.blocked = blocked;
        this.timeout = timeout;
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
            // line breaks and spaces are allowed (MIME-wrapped base64), anything else outside the alphabet is an error:
            // the MIME decoder would skip it silently, so "@@@" decoded to nothing ("holds no data")
            String payload = url.substring(comma + 1).replaceAll("[ \\t\\r\\n]+", "");
            if (payload.isEmpty()) throw ApiException.invalid(param, "data URI holds no data");
            byte[] b = Base64.getDecoder().decode(payload);
            if (b.length > maxBytes) throw new ApiException(413, "invalid_request_error", param, kind + "_too_large",
                    kind + " is larger than the limit of " + maxBytes + " bytes", 0);
            return b;
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(param, "invalid base64 in data: URI (" + base64Problem(url.substring(comma + 1)) + ")");
        }
    }

    /** Why {@code payload} is not base64, in plain words (the JDK's message gives the bad character in hex). */
    static String base64Problem(String payload) {
        for (int i = 0; i < payload.length(); i++) {
            char c = payload.charAt(i);
            boolean ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
                    || c == ' ' || c == '\t' || c == '\r' || c == '\n';
            if (!ok) return "character '" + (c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c))
                    + "' at offset " + i + " is not base64";
        }
        return "wrong length or misplaced '=' padding";
    }

    /** Redirects followed per remote fetch; each hop's target is checked like the first URL. */
    static final int MAX_REDIRECTS = 5;

    /**
     * A remote fetch (--allow-remote-images). The server must not become a proxy into the network it runs in: every
     * URL, the first and each redirect target (redirects are followed here, not by the HTTP client), is resolved and
     * refused when any of its addresses is not public (loopback, private, link-local, multicast, …; see
     * {@link #isNonPublic}). The HTTP client then resolves the same name again, which the JDK's positive DNS cache
     * (30 s by default) answers with the addresses checked here, so a rebinding DNS server cannot swap them in between.
     * Every transport failure (refused, unreachable, timed out, reset, unknown host) gets the same message, so the
     * answers do not tell which internal ports are open.
     */
    private byte[] download(String url, String param, String kind, long maxBytes) {
        HttpClient c = http;
        if (c == null) {
            synchronized (this) {
                if (http == null) http = HttpClient.newBuilder().connectTimeout(timeout)
                        .followRedirects(HttpClient.Redirect.NEVER).proxy(java.net.ProxySelector.of(null)).build();
                c = http;
            }
        }
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(param, "invalid " + kind + " URL");
        }
        try {
            for (int hop = 0; ; hop++) {
                checkTarget(uri, param, kind);
                HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
                HttpResponse<InputStream> resp = c.send(req, HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = resp.body()) {
                    int status = resp.statusCode();
                    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                        String loc = resp.headers().firstValue("Location").orElse(null);
                        if (loc == null) throw ApiException.invalid(param, "fetching the " + kind + " URL failed: a redirect without a Location");
                        if (hop >= MAX_REDIRECTS) throw ApiException.invalid(param, "fetching the " + kind + " URL failed: more than "
                                + MAX_REDIRECTS + " redirects");
                        try {
                            uri = uri.resolve(new URI(loc));
                        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
                            throw ApiException.invalid(param, "fetching the " + kind + " URL failed: an invalid redirect Location");
                        }
                        continue;
                    }
                    if (status != 200)
                        throw ApiException.invalid(param, "fetching the " + kind + " URL failed with HTTP " + status);
                    byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
                    if (b.length > maxBytes) throw new ApiException(413, "invalid_request_error", param, kind + "_too_large",
                            kind + " is larger than the limit of " + maxBytes + " bytes", 0);
                    return b;
                }
            }
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(param, "invalid " + kind + " URL");
        } catch (IOException e) {
            throw unreachable(param, kind);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.invalid(param, "interrupted while fetching the " + kind + " URL");
        }
    }

    private static ApiException unreachable(String param, String kind) {
        return ApiException.invalid(param, "fetch_failed", "could not fetch the " + kind + " URL (no answer from its host)");
    }

    /** The scheme must be http(s) and every address the host resolves to public (policy {@link #blocked}). */
    private void checkTarget(URI uri, String param, String kind) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https"))
            throw ApiException.invalid(param, "fetching the " + kind + " URL failed: only http(s) URLs are fetched");
        String host = uri.getHost();
        if (host == null || host.isEmpty()) throw ApiException.invalid(param, "invalid " + kind + " URL: no host");
        InetAddress[] addrs;
        try {
            addrs = InetAddress.getAllByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (java.net.UnknownHostException e) {
            throw unreachable(param, kind);
        }
        for (InetAddress a : addrs)
            if (blocked.test(a))
                throw ApiException.invalid(param, "url_not_allowed", "the " + kind + " URL's host is not a public address "
                        + "(loopback, private, link-local and multicast targets are never fetched)");
    }

    /**
     * Whether an address is outside the public unicast internet: unspecified, loopback, link-local, private (RFC 1918,
     * IPv6 unique-local fc00::/7, site-local), multicast, carrier-grade NAT 100.64/10, 0/8, benchmark 198.18/15,
     * IETF 192.0.0/24, reserved 240/4, and IPv6 forms embedding such an IPv4 address (IPv4-compatible, NAT64 64:ff9b::/96,
     * 6to4 2002::/16).
     */
    static boolean isNonPublic(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) return true;
        byte[] b = a.getAddress();
        if (b.length == 4) {
            int x = b[0] & 0xff, y = b[1] & 0xff;
            return x == 0 || x >= 240 || (x == 100 && (y & 0xc0) == 64) || (x == 198 && (y & 0xfe) == 18)
                    || (x == 192 && y == 0 && (b[2] & 0xff) == 0) || (x == 169 && y == 254);
        }
        if ((b[0] & 0xfe) == 0xfc) return true;                                          // fc00::/7
        boolean zero12 = true;
        for (int i = 0; i < 12; i++) zero12 &= b[i] == 0;
        boolean nat64 = (b[0] & 0xff) == 0 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b;
        for (int i = 4; i < 12 && nat64; i++) nat64 = b[i] == 0;
        try {
            if (zero12 || nat64) return isNonPublic(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16)));
            if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02)                          // 2002:v4::/48
                return isNonPublic(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 2, 6)));
        } catch (java.net.UnknownHostException e) {
            return true;
        }
        return false;
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
