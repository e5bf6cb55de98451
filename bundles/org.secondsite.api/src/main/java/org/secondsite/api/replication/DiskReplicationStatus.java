package org.secondsite.api.replication;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

import org.secondsite.api.model.DiskId;

/**
 * One disk at one replication stage.
 *
 * @param disk the disk
 * @param stage the stage reporting
 * @param state short machine-readable state, e.g. {@code replicating}, {@code disconnected},
 *        {@code spool-full}, {@code holding: unknown compressor zstd}
 * @param message operator-readable detail for the state; empty when all is well
 * @param lastSequence highest sequence this stage has taken in (created, spooled or applied)
 * @param acknowledgedSequence highest sequence the next stage has acknowledged as durable
 *        (for the master target: the last applied one)
 * @param backlogBytes bytes taken in but not yet acknowledged downstream
 * @param oldestPendingWrite acknowledgement time (at the source) of the oldest write not yet
 *        acknowledged downstream; {@code null} when nothing is pending
 * @param newestAppliedWrite for the master target: acknowledgement time of the newest write
 *        contained in the replica; otherwise {@code null}
 * @param bytesIn bytes taken in since this stage started. Agent: data bytes (of WRITE records;
 *        ZERO and TRIM carry none) of the batches it numbered, i.e. put into the disk's stream:
 *        workload writes and the source reads of resyncs and dirty-region replays; a batch that
 *        fit neither memory nor the change cache and was given up as dirty regions never counts
 *        (its regions count when they are replayed). Process server: bytes of the BATCH frames
 *        spooled, as the agent sent them. Master target: bytes of the BATCH frames queued for
 *        applying, as received (WAN-compressed). A frame of a sequence the stage already holds
 *        (a resend after a reconnect) is not taken in and not counted.
 * @param bytesOut bytes passed on since this stage started. Agent: bytes of the BATCH frames the
 *        process server acknowledged as durable, each batch once. Process server: bytes of the
 *        BATCH frames sent to the master target, resends included. Master target: data bytes of
 *        the batches applied to the replica, each sequence once (a batch rolled back by a reload
 *        after a failure counts when it is applied again). Hence, once the master target has
 *        applied every batch the agent sealed and neither restarted meanwhile, the agent's
 *        {@code bytesIn} equals the master target's {@code bytesOut}
 * @param tracking for the agent: how it holds the disk's unacknowledged changes; otherwise {@code null}
 * @param resync for the agent: the disk's current or last resync; {@code null} when none ran
 */
public record DiskReplicationStatus(DiskId disk, ReplicationMonitor.Stage stage, String state, String message,
                                    long lastSequence, long acknowledgedSequence, long backlogBytes,
                                    Instant oldestPendingWrite, Instant newestAppliedWrite,
                                    long bytesIn, long bytesOut, Tracking tracking, ResyncProgress resync) {
    public DiskReplicationStatus {
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(message, "message");
    }

    /** A status without tracking or resync figures (process server and master target). */
    public DiskReplicationStatus(DiskId disk, ReplicationMonitor.Stage stage, String state, String message,
                                 long lastSequence, long acknowledgedSequence, long backlogBytes,
                                 Instant oldestPendingWrite, Instant newestAppliedWrite, long bytesIn, long bytesOut) {
        this(disk, stage, state, message, lastSequence, acknowledgedSequence, backlogBytes, oldestPendingWrite,
                newestAppliedWrite, bytesIn, bytesOut, null, null);
    }

    /**
     * How much data loss a failure now would cost at this stage: the age of the oldest write
     * not yet acknowledged downstream, or zero when nothing is pending.
     */
    public Duration lag(Instant now) {
        return oldestPendingWrite == null ? Duration.ZERO : Duration.between(oldestPendingWrite, now);
    }

    /** The newest write contained in the replica, for the master target. */
    public Optional<Instant> newestApplied() {
        return Optional.ofNullable(newestAppliedWrite);
    }
}
