package dev.navil4j.server;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Jetty's own error answers in OpenAI's error shape instead of its HTML pages: requests Jetty refuses before any
 * route sees them (an ambiguous path such as {@code /v1/../x} or {@code %2e%2e}, a malformed request line or header,
 * headers over the size limit, a bad {@code Content-Length}) and errors raised outside Javalin's handlers. A client
 * library parsing {@code error.message} then gets a message, and no Jetty internals reach it.
 */
final class JsonErrorHandler extends ErrorHandler {
    JsonErrorHandler() {
        setShowStacks(false);
        setShowServlet(false);
    }

    static byte[] body(int status, String reason) {
        String message = "bad HTTP request (" + status + " " + HttpStatus.getMessage(status) + ")"
                + (reason == null || reason.isBlank() || reason.equals(HttpStatus.getMessage(status)) ? "" : ": " + reason);
        // 505 (an HTTP version other than 1.0/1.1) is the client's error although a 5xx code (RFC 9110 §15.6.6)
        String type = status >= 500 && status != 505 ? "server_error" : "invalid_request_error";
        return ("{\"error\":{\"message\":" + quote(message) + ",\"type\":\"" + type + "\",\"param\":null,\"code\":null}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON string literal; the reason is Jetty's short text, but may quote parts of the request. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString();
    }

    /** Refusals from the HTTP parser (no request object exists yet). */
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(body(status, reason));
    }

    /** Errors answered through the servlet layer (sendError) that no route handled. */
    @Override
    protected void generateAcceptableResponse(Request base, HttpServletRequest request, HttpServletResponse response, int code,
                                              String message) throws IOException {
        response.setContentType("application/json");
        response.getOutputStream().write(body(code, message));
        base.setHandled(true);
    }
}
