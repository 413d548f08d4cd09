package dev.navil4j.server;

import io.javalin.http.Context;

import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Who may call the server, checked before any route runs: the {@code Host} header against an allow-list (loopback names
 * by default when the server is bound to loopback: a DNS-rebinding page resolves its own name to 127.0.0.1, and its
 * requests then carry that foreign name), the {@code Origin} header (same origin, or an origin CORS was enabled for),
 * and the API key ({@code Authorization: Bearer KEY}, compared in constant time). CORS answers are given only for the
 * configured origins.
 */
final class AccessControl {
    /** Names a loopback-bound server answers to by default. */
    static final List<String> LOOPBACK_NAMES = List.of("localhost", "127.0.0.1", "::1");

    private final byte[] keyDigest;          // SHA-256 of the API key, or null
    private final Set<String> hosts;         // lower-case host names; null = any
    private final Set<String> corsOrigins;   // normalised origins; "*" = any
    private final boolean corsAny;

    AccessControl(ServerOptions.Access access, String bindHost) {
        this.keyDigest = access.apiKey() == null ? null : sha256(access.apiKey());
        List<String> h = access.allowedHosts();
        if (h == null) h = isLoopback(bindHost) ? withBind(bindHost) : null;
        this.hosts = h == null || h.contains("*") ? null : normalise(h);
        this.corsAny = access.corsOrigins().contains("*");
        Set<String> o = new LinkedHashSet<>();
        for (String s : access.corsOrigins()) if (!s.equals("*")) o.add(origin(s));
        this.corsOrigins = o;
    }

    private static List<String> withBind(String bindHost) {
        Set<String> s = new LinkedHashSet<>(LOOPBACK_NAMES);
        s.add(bindHost);
        return List.copyOf(s);
    }

    private static Set<String> normalise(List<String> names) {
        Set<String> s = new LinkedHashSet<>();
        for (String n : names) s.add(stripBrackets(n.trim().toLowerCase(Locale.ROOT)));
        return s;
    }

    static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        try {
            // an address literal only (no lookup of other names)
            String h = stripBrackets(host);
            if (!h.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) return false;
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static String stripBrackets(String h) {
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    /** The host of a Host header value (port and IPv6 brackets removed, lower case). */
    static String hostOf(String header) {
        String h = header.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    /** scheme://host[:port] in lower case, default ports dropped; unparseable values stay as given (and match nothing). */
    static String origin(String s) {
        try {
            URI u = new URI(s.trim());
            if (u.getScheme() == null || u.getHost() == null) return s.trim();
            String scheme = u.getScheme().toLowerCase(Locale.ROOT);
            int port = u.getPort();
            boolean dflt = port < 0 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
            return scheme + "://" + u.getHost().toLowerCase(Locale.ROOT) + (dflt ? "" : ":" + port);
        } catch (java.net.URISyntaxException e) {
            return s.trim();
        }
    }

    /** Host and Origin checks for every request, and the API key for all but the health probe and CORS preflights. */
    void check(Context ctx) {
        String host = ctx.header("Host");
        if (hosts != null && (host == null || !hosts.contains(hostOf(host))))
            throw new ApiException(403, "invalid_request_error", null, "host_not_allowed",
                    "the Host header " + (host == null ? "is missing" : "'" + host + "' is not one this server answers to")
                            + " (start it with --allowed-hosts to add names)", 0);
        String origin = ctx.header("Origin");
        if (origin != null) {
            if (!originAllowed(origin, host))
                throw new ApiException(403, "invalid_request_error", null, "origin_not_allowed",
                        "requests from the web origin '" + origin + "' are not allowed (start the server with --cors-origin to allow it)", 0);
            if (corsAny || corsOrigins.contains(origin(origin))) {
                ctx.header("Access-Control-Allow-Origin", corsAny ? "*" : origin);
                ctx.header("Vary", "Origin");
            }
        }
        if (keyDigest == null || ctx.method().name().equals("OPTIONS") || ctx.path().equals("/health")) return;
        String auth = ctx.header("Authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    "no API key provided: send it as the header 'Authorization: Bearer YOUR_KEY'", 0);
        }
        // digests of equal length: the comparison time does not depend on where (or whether) the keys differ
        if (!MessageDigest.isEqual(keyDigest, sha256(auth.substring(7).trim()))) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key", "incorrect API key provided", 0);
        }
    }

    private boolean originAllowed(String origin, String host) {
        if (corsAny) return true;
        String o = origin(origin);
        if (corsOrigins.contains(o)) return true;
        // same origin: the page was served by this server under the name the request uses
        int sep = o.indexOf("://");
        return host != null && sep > 0 && o.substring(sep + 3).equals(host.trim().toLowerCase(Locale.ROOT)
                .replaceFirst(":(80|443)$", ""));
    }

    /** Answers a CORS preflight for an allowed origin (204 with the allowed methods and headers); 403 otherwise. */
    void preflight(Context ctx) {
        String origin = ctx.header("Origin");
        if (origin == null || !(corsAny || corsOrigins.contains(origin(origin))))
            throw new ApiException(403, "invalid_request_error", null, "cors_disabled",
                    "CORS is not enabled for this origin (start the server with --cors-origin)", 0);
        ctx.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        ctx.header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        ctx.header("Access-Control-Max-Age", "600");
        ctx.status(204);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
