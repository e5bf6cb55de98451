package org.secondsite.api.replication;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Progress of a disk's resync: initial replication, the replay of dirty regions after bitmap
 * mode, or a resync an operator or the master target required.
 *
 * @param phase where the resync is
 * @param reason why it runs, e.g. {@code initial replication}, {@code dirty regions after bitmap mode}
 * @param totalBytes bytes of the disk the resync covers
 * @param doneBytes bytes compared (or, for a dirty-region replay, read and sent) so far
 * @param sentBytes data bytes sent because they differed or were dirty
 * @param started when it started
 * @param updated when these figures were taken
 * @param message detail for an operator; for {@link Phase#FAILED} the reason
 */
public record ResyncProgress(Phase phase, String reason, long totalBytes, long doneBytes, long sentBytes,
                             Instant started, Instant updated, String message) {
    public ResyncProgress {
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(started, "started");
        Objects.requireNonNull(updated, "updated");
        Objects.requireNonNull(message, "message");
        if (totalBytes < 0 || doneBytes < 0 || sentBytes < 0 || doneBytes > totalBytes) {
            throw new IllegalArgumentException("resync figures out of range: total " + totalBytes + ", done "
                    + doneBytes + ", sent " + sentBytes);
        }
    }

    /** The phases of a resync. */
    public enum Phase {
        /** Comparing: the master target hashes replica chunks and the agent compares them with the source. */
        COMPARING,
        /** Sending the dirty regions remembered in bitmap mode (no comparison needed). */
        REPLAYING,
        /** Every covered byte is compared or sent and acknowledged; the replica converges. */
        DONE,
        /** Stopped with an error; see the message. */
        FAILED
    }

    /** Percentage done, 0-100. */
    public double percent() {
        return totalBytes == 0 ? 100.0 : 100.0 * doneBytes / totalBytes;
    }

    /** Estimated time left from the rate so far; empty before any progress or once finished. */
    public Optional<Duration> eta() {
        long elapsed = Duration.between(started, updated).toMillis();
        if (phase == Phase.DONE || phase == Phase.FAILED || doneBytes == 0 || elapsed <= 0) {
            return Optional.empty();
        }
        double perMs = (double) doneBytes / elapsed;
        return Optional.of(Duration.ofMillis((long) ((totalBytes - doneBytes) / perMs)));
    }
}
