package org.secondsite.agent.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the agent's tiered change tracking (see {@link Tracker}).
 *
 * @param regionBytes size of a region of the dirty-region log: a power of two from 4 KiB to
 *        64 MiB. Smaller regions replay less after a crash or bitmap mode; larger ones make
 *        fewer writes mark a new region (a forced write of the log)
 * @param spillBytes per disk, most bytes of the on-disk change cache (tier 2); 0 disables it
 *        (memory full leads straight to bitmap mode)
 * @param bitmapAfter bitmap mode starts when the process server has been unreachable (or
 *        refusing data) this long, even if memory and cache still have room
 * @param clearDelay a dirty region whose changes are all acknowledged is cleared from the log
 *        once no write touched it for this long (between one and two times this); a region
 *        written again within it costs no new forced write
 */
public record TrackingOptions(int regionBytes, long spillBytes, Duration bitmapAfter, Duration clearDelay) {

    public static final int DEFAULT_REGION_BYTES = 64 << 10;
    public static final long DEFAULT_SPILL_BYTES = 1L << 30;
    public static final Duration DEFAULT_BITMAP_AFTER = Duration.ofMinutes(5);
    public static final Duration DEFAULT_CLEAR_DELAY = Duration.ofSeconds(5);

    public TrackingOptions {
        Objects.requireNonNull(bitmapAfter, "bitmapAfter");
        Objects.requireNonNull(clearDelay, "clearDelay");
        if (Integer.bitCount(regionBytes) != 1 || regionBytes < DirtyRegionLog.MIN_REGION
                || regionBytes > DirtyRegionLog.MAX_REGION) {
            throw new IllegalArgumentException("regionBytes must be a power of two from " + DirtyRegionLog.MIN_REGION
                    + " to " + DirtyRegionLog.MAX_REGION + " (e.g. 65536), was " + regionBytes);
        }
        if (spillBytes < 0) {
            throw new IllegalArgumentException("spillBytes must be >= 0 (0 disables the change cache), was " + spillBytes);
        }
        if (bitmapAfter.isNegative() || bitmapAfter.isZero()) {
            throw new IllegalArgumentException("bitmapAfter must be positive, was " + bitmapAfter);
        }
        if (clearDelay.compareTo(Duration.ofMillis(10)) < 0) {
            throw new IllegalArgumentException("the dirty-region clear delay must be at least 10 ms, was " + clearDelay);
        }
    }

    public static TrackingOptions defaults() {
        return new TrackingOptions(DEFAULT_REGION_BYTES, DEFAULT_SPILL_BYTES, DEFAULT_BITMAP_AFTER, DEFAULT_CLEAR_DELAY);
    }

    public TrackingOptions withRegionBytes(int bytes) {
        return new TrackingOptions(bytes, spillBytes, bitmapAfter, clearDelay);
    }

    public TrackingOptions withSpillBytes(long bytes) {
        return new TrackingOptions(regionBytes, bytes, bitmapAfter, clearDelay);
    }

    public TrackingOptions withBitmapAfter(Duration d) {
        return new TrackingOptions(regionBytes, spillBytes, d, clearDelay);
    }

    public TrackingOptions withClearDelay(Duration d) {
        return new TrackingOptions(regionBytes, spillBytes, bitmapAfter, d);
    }
}
