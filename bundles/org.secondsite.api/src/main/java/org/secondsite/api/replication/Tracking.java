package org.secondsite.api.replication;

import java.util.Objects;

/**
 * How an agent currently remembers a disk's changes that are not yet acknowledged downstream.
 *
 * @param mode the tier in force
 * @param memoryBytes change data held in memory
 * @param spilledBytes change data held in the agent's on-disk change cache
 * @param dirtyBytes bytes of the disk marked dirty in the persisted dirty-region bitmap, which
 *        a resync will read from the source and send
 */
public record Tracking(Mode mode, long memoryBytes, long spilledBytes, long dirtyBytes) {
    public Tracking {
        Objects.requireNonNull(mode, "mode");
    }

    /** The tiers, from the cheapest to replay to the most compact. */
    public enum Mode {
        /** Every change is held with its data in memory. */
        MEMORY,
        /** Changes overflowed memory and are appended, with their data, to the on-disk change cache. */
        SPILL,
        /**
         * The change cache is full or the process server unreachable: only dirty regions are
         * remembered, in a bitmap persisted before each write is acknowledged; leaving this mode
         * resyncs exactly those regions.
         */
        BITMAP
    }
}
