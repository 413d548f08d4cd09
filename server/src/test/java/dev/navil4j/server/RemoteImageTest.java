package dev.navil4j.server;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * --allow-remote-images must not reach the server's own network: targets are checked after DNS resolution and on
 * every redirect, and transport failures all read the same. Only loopback addresses are used as targets.
 */
class RemoteImageTest {
    final List<HttpServer> servers = new ArrayList<>();
    final List<ServerSocket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (HttpServer s : servers) s.stop(0);
        for (ServerSocket s : sockets) s.close();
    }

    static byte[] png() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB), "png", out);
        return out.toByteArray();
    }

    /** An HTTP server on {@code addr} answering /img.png with a PNG and /go with a redirect to {@code redirect}; counts hits. */
    HttpServer serve(String addr, String redirect, AtomicInteger hits) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getByName(addr), 0), 0);
        byte[] img = png();
        s.createContext("/", ex -> {
            hits.incrementAndGet();
            if (ex.getRequestURI().getPath().equals("/go")) {
                ex.getResponseHeaders().add("Location", redirect);
                ex.sendResponseHeaders(302, -1);
            } else {
                ex.sendResponseHeaders(200, img.length);
                ex.getResponseBody().write(img);
            }
            ex.close();
        });
        s.start();
        servers.add(s);
        return s;
    }

    /** The default policy: loopback (by address or by name) is never fetched; the old client fetched it. */
    @Test
    void loopbackTargetsAreRefused() throws Exception {
        AtomicInteger hits = new AtomicInteger();
        HttpServer s = serve("127.0.0.1", null, hits);
        ImageInput in = new ImageInput(1 << 20, 1 << 20, true);
        int port = s.getAddress().getPort();
        for (String url : new String[]{"http://127.0.0.1:" + port + "/img.png", "http://localhost:" + port + "/img.png",
                "http://[::ffff:127.0.0.1]:" + port + "/img.png"}) {
            ApiException e = catchThrowableOfType(ApiException.class, () -> in.fetch(url, "p"));
            assertThat(e).as(url).isNotNull();
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("url_not_allowed");
        }
        assertThat(hits.get()).isZero();
    }

    /** A public-looking first hop (here: the one loopback address the test policy allows) redirecting inwards is refused. */
    @Test
    void redirectsAreCheckedOnEveryHop() throws Exception {
        AtomicInteger inner = new AtomicInteger(), outer = new AtomicInteger();
        HttpServer target = serve("127.0.0.2", null, inner);
        String internal = "http://127.0.0.2:" + target.getAddress().getPort() + "/img.png";
        HttpServer first = serve("127.0.0.1", internal, outer);
        InetAddress allowed = InetAddress.getByName("127.0.0.1");
        ImageInput in = new ImageInput(1 << 20, 1 << 20, true, a -> !a.equals(allowed), Duration.ofSeconds(5));
        String base = "http://127.0.0.1:" + first.getAddress().getPort();
        assertThat(in.fetch(base + "/img.png", "p")).isEqualTo(png());   // the allowed host itself is fetched
        assertThatThrownBy(() -> in.fetch(base + "/go", "p")).isInstanceOf(ApiException.class)
                .hasMessageContaining("not a public address");
        assertThat(inner.get()).isZero();
        assertThat(outer.get()).isEqualTo(2);
    }

    /** Refused, silent (timed out) and unresolvable targets all give one message: no port scanning through the server. */
    @Test
    void transportFailuresReadTheSame() throws Exception {
        InetAddress allowed = InetAddress.getByName("127.0.0.1");
        ImageInput in = new ImageInput(1 << 20, 1 << 20, true, a -> !a.equals(allowed), Duration.ofMillis(700));
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, allowed)) { closed = s.getLocalPort(); }
        ServerSocket silent = new ServerSocket(0, 50, allowed);   // accepts (backlog), never answers
        sockets.add(silent);
        Thread t = Thread.ofVirtual().start(() -> {
            try { Socket c = silent.accept(); Thread.sleep(10_000); c.close(); } catch (Exception ignored) {}
        });
        String refused = catchThrowableOfType(ApiException.class, () -> in.fetch("http://127.0.0.1:" + closed + "/x.png", "p")).getMessage();
        String timedOut = catchThrowableOfType(ApiException.class, () -> in.fetch("http://127.0.0.1:" + silent.getLocalPort() + "/x.png", "p")).getMessage();
        String unknown = catchThrowableOfType(ApiException.class, () -> in.fetch("http://no-such-host.invalid/x.png", "p")).getMessage();
        t.interrupt();
        assertThat(refused).isEqualTo(timedOut).isEqualTo(unknown).doesNotContain("Connection refused", "timed out", "127.0.0.1");
    }

    @Test
    void nonPublicAddressClasses() throws Exception {
        for (String a : new String[]{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
                "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1", "fd12::1", "ff02::1",
                "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "::"})
            assertThat(ImageInput.isNonPublic(InetAddress.getByName(a))).as(a).isTrue();
        for (String a : new String[]{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "93.184.216.34"})
            assertThat(ImageInput.isNonPublic(InetAddress.getByName(a))).as(a).isFalse();
    }
}
