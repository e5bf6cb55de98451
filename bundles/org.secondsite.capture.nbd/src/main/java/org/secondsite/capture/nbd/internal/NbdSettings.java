package org.secondsite.capture.nbd.internal;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The driver's options from {@link org.secondsite.api.capture.CaptureSpec#options()}.
 *
 * @param listen where to listen ({@code listen=host:port}, IPv6 as {@code [addr]:port}; default
 *        {@code 127.0.0.1:0}, port 0 picks a free one)
 * @param maxConnections how many clients may be connected at once ({@code maxConnections}, default 16)
 * @param handshakeTimeout how long a client may take to finish the handshake ({@code handshakeTimeout},
 *        seconds, default 30)
 */
record NbdSettings(InetSocketAddress listen, int maxConnections, Duration handshakeTimeout) {
    static final String LISTEN = "listen";
    static final String MAX_CONNECTIONS = "maxConnections";
    static final String HANDSHAKE_TIMEOUT = "handshakeTimeout";
    private static final Set<String> KNOWN = Set.of(LISTEN, MAX_CONNECTIONS, HANDSHAKE_TIMEOUT);

    /** @throws IllegalArgumentException naming the key and what was expected, for unknown keys or bad values */
    static NbdSettings parse(Map<String, String> options) {
        for (String key : options.keySet()) {
            if (!KNOWN.contains(key)) {
                throw new IllegalArgumentException("unknown option '" + key + "' for capture driver nbd; known options: "
                        + new TreeSet<>(KNOWN));
            }
        }
        InetSocketAddress listen = parseListen(options.getOrDefault(LISTEN, "127.0.0.1:0"));
        int max = parseInt(MAX_CONNECTIONS, options.getOrDefault(MAX_CONNECTIONS, "16"), 1, 1024);
        int timeout = parseInt(HANDSHAKE_TIMEOUT, options.getOrDefault(HANDSHAKE_TIMEOUT, "30"), 1, 3600);
        return new NbdSettings(listen, max, Duration.ofSeconds(timeout));
    }

    static InetSocketAddress parseListen(String value) {
        String v = value.trim();
        String host;
        String port;
        if (v.startsWith("[")) {
            int close = v.indexOf("]:");
            if (close < 0) {
                throw badListen(value);
            }
            host = v.substring(1, close);
            port = v.substring(close + 2);
        } else {
            int colon = v.lastIndexOf(':');
            if (colon < 0 || v.indexOf(':') != colon) {
                throw badListen(value);
            }
            host = v.substring(0, colon);
            port = v.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw badListen(value);
        }
        int p;
        try {
            p = parseInt(LISTEN + " port", port, 0, 65535);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option listen='" + value + "': port '" + port
                    + "' must be an integer from 0 to 65535", e);
        }
        InetSocketAddress address = new InetSocketAddress(host, p);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("option listen='" + value + "': host '" + host + "' cannot be resolved");
        }
        return address;
    }

    private static IllegalArgumentException badListen(String value) {
        return new IllegalArgumentException("option listen='" + value
                + "' is not host:port (e.g. 127.0.0.1:10809, [::1]:10809, 0.0.0.0:0)");
    }

    private static int parseInt(String key, String value, int min, int max) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("option " + key + "='" + value + "' must be an integer from " + min + " to " + max);
    }
}
