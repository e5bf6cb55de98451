package org.secondsite.mastertarget.internal.retention;

import java.time.Duration;
import java.util.Objects;

/**
 * How long and how much history the master target keeps.
 *
 * @param window points older than this are pruned
 * @param capBytes the journal's space cap: when reached, the oldest points are dropped
 */
public record RetentionSettings(Duration window, long capBytes) {
    /** Smallest space cap: one journal segment and room to roll to the next. */
    public static final long MIN_CAP_BYTES = 64L << 20;
    public static final Duration DEFAULT_WINDOW = Duration.ofDays(1);
    public static final long DEFAULT_CAP_BYTES = 10240L << 20;

    public RetentionSettings {
        Objects.requireNonNull(window, "window");
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("retention window must be positive, got " + window);
        }
        if (capBytes < MIN_CAP_BYTES) {
            throw new IllegalArgumentException("retention space cap of " + capBytes + " bytes cannot hold a window: "
                    + "it must be at least " + MIN_CAP_BYTES + " bytes (64 MiB, two journal segments)");
        }
    }

    public static RetentionSettings defaults() {
        return new RetentionSettings(DEFAULT_WINDOW, DEFAULT_CAP_BYTES);
    }

    /** From the configuration's units: seconds and MiB. */
    public static RetentionSettings of(long windowSeconds, long capMiB) {
        if (capMiB > Long.MAX_VALUE >> 20) {
            throw new IllegalArgumentException("retention space cap of " + capMiB + " MiB is too large");
        }
        return new RetentionSettings(Duration.ofSeconds(windowSeconds), capMiB << 20);
    }
}
