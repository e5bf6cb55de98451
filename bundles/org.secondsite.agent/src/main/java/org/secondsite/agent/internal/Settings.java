package org.secondsite.agent.internal;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** Parsing helpers for configuration values. */
final class Settings {
    private Settings() {
    }

    /** Parses {@code host:port} (IPv6 as {@code [addr]:port}); unresolved, so a missing DNS entry is retried later. */
    static InetSocketAddress address(String what, String value) {
        String v = value == null ? "" : value.trim();
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new IllegalArgumentException(what + " '" + value + "' must be host:port, e.g. ps01.example.org:9443");
        }
        String host = v.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + value + "': port '" + v.substring(colon + 1)
                    + "' is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " '" + value + "': port must be 1..65535");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** Change tracking settings, with errors that name the setting. */
    static TrackingOptions tracking(int regionBytes, long spillBytes, long bitmapAfterSeconds, long dirtyClearMillis) {
        if (bitmapAfterSeconds < 1) {
            throw new IllegalArgumentException("bitmapAfterSeconds must be >= 1, was " + bitmapAfterSeconds);
        }
        if (dirtyClearMillis < 10) {
            throw new IllegalArgumentException("dirtyClearMillis must be >= 10, was " + dirtyClearMillis);
        }
        return new TrackingOptions(regionBytes, spillBytes, Duration.ofSeconds(bitmapAfterSeconds),
                Duration.ofMillis(dirtyClearMillis));
    }

    /** The checkpoint interval of {@code checkpointMillis}, with an error that names the setting. */
    static Duration checkpoint(long checkpointMillis) {
        if (checkpointMillis < AgentOptions.MIN_CHECKPOINT_INTERVAL.toMillis()
                || checkpointMillis > AgentOptions.MAX_CHECKPOINT_INTERVAL.toMillis()) {
            throw new IllegalArgumentException("checkpointMillis must be " + AgentOptions.MIN_CHECKPOINT_INTERVAL.toMillis()
                    + ".." + AgentOptions.MAX_CHECKPOINT_INTERVAL.toMillis() + " (100 ms .. 1 h), was " + checkpointMillis);
        }
        return Duration.ofMillis(checkpointMillis);
    }

    /** Tag settings, with errors that name the setting. */
    static TagOptions tags(String[] preFreeze, String[] postThaw, String[] freezeMounts, long hookTimeoutMillis,
                           long tagHoldMillis, int recentTagNames) {
        if (tagHoldMillis < 1 || tagHoldMillis > org.secondsite.wire.WireProtocol.MAX_TAG_HOLD_MILLIS) {
            throw new IllegalArgumentException("tagHoldMillis must be 1.." + org.secondsite.wire.WireProtocol.MAX_TAG_HOLD_MILLIS
                    + ", was " + tagHoldMillis);
        }
        if (hookTimeoutMillis < 100 || hookTimeoutMillis > 3_600_000) {
            throw new IllegalArgumentException("hookTimeoutMillis must be 100..3600000, was " + hookTimeoutMillis);
        }
        java.util.List<Path> mounts = new java.util.ArrayList<>();
        for (String m : freezeMounts) {
            if (m == null || !m.startsWith("/")) {
                throw new IllegalArgumentException("freezeMounts: '" + m + "' is not an absolute mount point, e.g. /var/lib/db");
            }
            mounts.add(Path.of(m));
        }
        return new TagOptions(java.util.List.of(preFreeze), java.util.List.of(postThaw), mounts, "fsfreeze",
                Duration.ofMillis(hookTimeoutMillis), Duration.ofMillis(tagHoldMillis), recentTagNames);
    }

    /** Expands {@code ${name}} from {@code properties} (e.g. {@code ${karaf.data}}). */
    static Path path(String what, String value, UnaryOperator<String> properties) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < value.length()) {
            int start = value.indexOf("${", i);
            if (start < 0) {
                out.append(value, i, value.length());
                break;
            }
            int end = value.indexOf('}', start);
            if (end < 0) {
                throw new IllegalArgumentException(what + " '" + value + "' has an unclosed ${");
            }
            String name = value.substring(start + 2, end);
            String v = properties.apply(name);
            if (v == null) {
                throw new IllegalArgumentException(what + " '" + value + "' uses ${" + name + "}, which is not set");
            }
            out.append(value, i, start).append(v);
            i = end + 1;
        }
        return Path.of(out.toString());
    }
}
