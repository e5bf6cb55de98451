package org.secondsite.api.model;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A sequence-numbered group of change records of one disk, in write order, as it travels
 * from agent to process server to master target. Sequence numbers of a disk start at 1
 * and have no gaps; a receiver that sees a gap refuses the batch and asks for a resend, and
 * one that sees a sequence it already holds acknowledges it without applying it again.
 *
 * <p>The wire encoding (checksums, compression) is the business of the core's codec; this
 * class is the decoded, uncompressed form.
 *
 * @param disk the disk the records belong to
 * @param group the consistency group of the disk (the disk's own group if it has none)
 * @param sequence 1-based, gapless per disk
 * @param firstWrite acknowledgement time of the first record (or of the batch's cut if it has none)
 * @param lastWrite acknowledgement time of the last record; {@code >= firstWrite}
 * @param records the changes in write order; may be empty for a batch that only carries tags
 * @param tags tags closing this batch, usually none
 */
public record DeltaBatch(DiskId disk, GroupId group, long sequence, Instant firstWrite, Instant lastWrite,
                         List<ChangeRecord> records, List<ConsistencyTag> tags) {
    public DeltaBatch {
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(firstWrite, "firstWrite");
        Objects.requireNonNull(lastWrite, "lastWrite");
        if (sequence < 1) {
            throw new IllegalArgumentException("sequence must be >= 1: " + sequence);
        }
        if (lastWrite.isBefore(firstWrite)) {
            throw new IllegalArgumentException("lastWrite " + lastWrite + " is before firstWrite " + firstWrite);
        }
        records = List.copyOf(records);
        tags = List.copyOf(tags);
    }

    /** Bytes of data carried by the records (not counting metadata). */
    public long dataBytes() {
        long n = 0;
        for (ChangeRecord r : records) {
            if (r.hasData()) {
                n += r.length();
            }
        }
        return n;
    }
}
