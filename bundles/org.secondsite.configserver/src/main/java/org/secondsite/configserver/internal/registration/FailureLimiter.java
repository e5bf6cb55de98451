package org.secondsite.configserver.internal.registration;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts failed registration attempts per client address in a fixed window: after
 * {@code maxFailures} failures, every attempt from that address is refused until the window
 * that started with its first failure ends. Success clears the address. The table is bounded:
 * when full, expired entries go first, then the whole table (an attacker spraying addresses
 * cannot exhaust memory).
 */
public final class FailureLimiter {
    private record Window(long startMillis, int failures) {
    }

    static final int MAX_TRACKED = 10_000;

    private final int maxFailures;
    private final long windowMillis;
    private final Clock clock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    public FailureLimiter(int maxFailures, Duration window, Clock clock) {
        if (maxFailures < 1) {
            throw new IllegalArgumentException("maxFailedRegistrations must be at least 1, was " + maxFailures);
        }
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("failureWindowSeconds must be positive, was " + window.toSeconds());
        }
        this.maxFailures = maxFailures;
        this.windowMillis = window.toMillis();
        this.clock = clock;
    }

    /** 0 when {@code address} may try now, else the seconds until it may. */
    public long retryAfterSeconds(String address) {
        Window w = windows.get(address);
        long now = clock.millis();
        if (w == null || now - w.startMillis >= windowMillis) {
            return 0;
        }
        if (w.failures < maxFailures) {
            return 0;
        }
        return Math.max(1, (w.startMillis + windowMillis - now + 999) / 1000);
    }

    public void failed(String address) {
        long now = clock.millis();
        if (windows.size() >= MAX_TRACKED && !windows.containsKey(address)) {
            windows.values().removeIf(w -> now - w.startMillis >= windowMillis);
            if (windows.size() >= MAX_TRACKED) {
                windows.clear();
            }
        }
        windows.compute(address, (a, w) -> w == null || now - w.startMillis >= windowMillis
                ? new Window(now, 1) : new Window(w.startMillis, w.failures + 1));
    }

    public void succeeded(String address) {
        windows.remove(address);
    }
}
