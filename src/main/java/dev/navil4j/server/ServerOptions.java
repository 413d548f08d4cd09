package dev.navil4j.server;

import java.time.Duration;

/**
 * Server limits. Every limit bounds what one request may cost before any expensive work starts.
 *
 * @param modelId           the name reported by /v1/models and in responses
 * @param maxRequestBytes   largest request body accepted (413 above)
 * @param maxImageBytes     largest encoded image (after base64 decoding, or downloaded)
 * @param maxImagePixels    largest width×height, checked from the image header before decoding (bombs)
 * @param maxImages         most images in one request
 * @param maxBatch          sequences decoded together by the scheduler
 * @param maxQueue          requests waiting for a batch slot; more are answered 429
 * @param requestTimeout    wall-clock limit of one request from submission to its last token
 * @param defaultMaxTokens  completion length when the request gives none (capped by the context)
 * @param allowRemoteImages whether http(s) image URLs are fetched
 * @param shutdownGrace     how long graceful shutdown lets in-flight requests finish before cancelling them
 * @param maxTiles          cap on tiles per image (InternVL's max_num; 0 = the family's default); requests may
 *                          lower it with the extension field {@code max_tiles}
 * @param access            who may call the server (API key, Host and Origin allow-lists, CORS) and under which names
 * @param readTimeout       how long a request's headers, and separately its body, may take to arrive from their first
 *                          byte (slow-loris clients): headers past it get a 408, a body past it a closed connection
 */
public record ServerOptions(String modelId, long maxRequestBytes, long maxImageBytes, long maxImagePixels, int maxImages,
                            int maxBatch, int maxQueue, Duration requestTimeout, int defaultMaxTokens,
                            boolean allowRemoteImages, Duration shutdownGrace, int maxTiles, Access access, Duration readTimeout) {
    /**
     * @param apiKey             the key clients must send as {@code Authorization: Bearer KEY}; null = no authentication
     * @param allowedHosts       host names the {@code Host} header may carry (port ignored, case-insensitive); null = the
     *                           default: the loopback names when bound to a loopback address (a DNS-rebinding page then
     *                           cannot reach the server under its own name), any host otherwise; "*" = any
     * @param corsOrigins        origins (scheme://host[:port], or "*") answered with CORS headers and allowed to call; empty =
     *                           CORS off, and requests carrying a cross-origin {@code Origin} header are refused
     * @param modelAliases       further names a request's {@code model} may use for the served model
     * @param allowSpecialTokens whether special-token text in messages (e.g. {@code <|im_start|>}) is tokenized as the
     *                           control token (off: encoded as plain text, as transformers' chat templates treat content)
     */
    public record Access(String apiKey, java.util.List<String> allowedHosts, java.util.List<String> corsOrigins,
                         java.util.List<String> modelAliases, boolean allowSpecialTokens) {
        public static final Access OPEN = new Access(null, null, java.util.List.of(), java.util.List.of(), false);

        public Access {
            if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("the API key must not be blank");
            allowedHosts = allowedHosts == null ? null : java.util.List.copyOf(allowedHosts);
            corsOrigins = corsOrigins == null ? java.util.List.of() : java.util.List.copyOf(corsOrigins);
            modelAliases = modelAliases == null ? java.util.List.of() : java.util.List.copyOf(modelAliases);
        }
    }

    public ServerOptions {
        if (modelId == null || modelId.isBlank()) throw new IllegalArgumentException("modelId must be given");
        if (maxRequestBytes <= 0 || maxImageBytes <= 0 || maxImagePixels <= 0 || maxImages < 0)
            throw new IllegalArgumentException("limits must be positive");
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        if (maxQueue < 0) throw new IllegalArgumentException("maxQueue must be >= 0, got " + maxQueue);
        if (defaultMaxTokens < 1) throw new IllegalArgumentException("defaultMaxTokens must be >= 1");
        if (maxTiles < 0) throw new IllegalArgumentException("maxTiles must be >= 0");
        if (access == null) access = Access.OPEN;
        if (readTimeout == null) readTimeout = DEFAULT_READ_TIMEOUT;
        if (readTimeout.isNegative() || readTimeout.isZero()) throw new IllegalArgumentException("readTimeout must be positive");
    }

    /** A 32 MB body (the default limit) at 1 MB/s still arrives; a client dribbling bytes is cut off within a minute. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);

    public static ServerOptions defaults(String modelId) {
        return new ServerOptions(modelId, 32L << 20, 16L << 20, 40_000_000L, 8, 8, 32,
                Duration.ofMinutes(10), 512, false, Duration.ofSeconds(30), 0, Access.OPEN, DEFAULT_READ_TIMEOUT);
    }

    public ServerOptions withLimits(long requestBytes, long imageBytes, long imagePixels, int images) {
        return new ServerOptions(modelId, requestBytes, imageBytes, imagePixels, images, maxBatch, maxQueue,
                requestTimeout, defaultMaxTokens, allowRemoteImages, shutdownGrace, maxTiles, access, readTimeout);
    }

    public ServerOptions withScheduling(int batch, int queue, Duration timeout) {
        return new ServerOptions(modelId, maxRequestBytes, maxImageBytes, maxImagePixels, maxImages, batch, queue,
                timeout, defaultMaxTokens, allowRemoteImages, shutdownGrace, maxTiles, access, readTimeout);
    }

    public ServerOptions withRemoteImages(boolean allow) {
        return new ServerOptions(modelId, maxRequestBytes, maxImageBytes, maxImagePixels, maxImages, maxBatch, maxQueue,
                requestTimeout, defaultMaxTokens, allow, shutdownGrace, maxTiles, access, readTimeout);
    }

    public ServerOptions withDefaultMaxTokens(int n) {
        return new ServerOptions(modelId, maxRequestBytes, maxImageBytes, maxImagePixels, maxImages, maxBatch, maxQueue,
                requestTimeout, n, allowRemoteImages, shutdownGrace, maxTiles, access, readTimeout);
    }

    public ServerOptions withShutdownGrace(Duration grace) {
        return new ServerOptions(modelId, maxRequestBytes, maxImageBytes, maxImagePixels, maxImages, maxBatch, maxQueue,
                requestTimeout, defaultMaxTokens, allowRemoteImages, grace, maxTiles, access, readTimeout);
    }

    public ServerOptions withMaxTiles(int tiles) {
        return new ServerOptions(modelId, maxRequestBytes, maxImageBytes, maxImagePixels, maxImages, maxBatch, maxQueue,
                requestTimeout, defaultMaxTokens, allowRemoteImages, shutdownGrace, tiles, access, readTimeout);
    }

    public ServerOptions withAccess(Access a) {
        return new ServerOptions(modelId, maxRequestBytes, maxImageBytes, maxImagePixels, maxImages, maxBatch, maxQueue,
                requestTimeout, defaultMaxTokens, allowRemoteImages, shutdownGrace, maxTiles, a, readTimeout);
    }

    public ServerOptions withReadTimeout(Duration timeout) {
        return new ServerOptions(modelId, maxRequestBytes, maxImageBytes, maxImagePixels, maxImages, maxBatch, maxQueue,
                requestTimeout, defaultMaxTokens, allowRemoteImages, shutdownGrace, maxTiles, access, timeout);
    }
}
