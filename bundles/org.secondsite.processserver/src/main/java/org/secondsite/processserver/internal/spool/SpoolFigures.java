package org.secondsite.processserver.internal.spool;

/**
 * A snapshot of a spool's state.
 *
 * @param backlogBytes bytes (framing included) of entries not yet released downstream
 * @param entryCount number of entries not yet released
 * @param oldestTimestamp the caller-supplied timestamp of the oldest unreleased entry, or
 *        {@link Long#MIN_VALUE} when nothing is unreleased
 * @param diskBytes bytes of all segment files (what {@code maxBytes} bounds)
 * @param maxBytes the size bound
 * @param segmentCount segment files in use
 * @param durablePosition the position just past the last durable entry
 */
public record SpoolFigures(long backlogBytes, long entryCount, long oldestTimestamp, long diskBytes, long maxBytes,
        int segmentCount, long durablePosition) {

    /** Whether there is an unreleased entry (and so {@link #oldestTimestamp} is meaningful). */
    public boolean hasBacklog() {
        return entryCount > 0;
    }
}
