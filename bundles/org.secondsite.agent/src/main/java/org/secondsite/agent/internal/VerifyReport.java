package org.secondsite.agent.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;

import org.secondsite.api.model.DiskId;

/**
 * The result of an online verification of a disk's replica (a {@link ResyncJob} in compare-only
 * mode, docs/PROTOCOL.md §5.4), or of the repair of the regions one found.
 *
 * @param disk the disk
 * @param mode what ran
 * @param outcome how it ended
 * @param reason why it was cancelled or failed; empty when {@link Outcome#COMPLETED}
 * @param bytesCompared bytes of the disk compared (a re-checked range counts once)
 * @param mismatched regions whose replica differs from the source, merged, ascending; for
 *        {@link Mode#REPAIR} the regions it was asked to repair
 * @param skipped regions not judged because the workload kept writing them during the pass
 *        (compared again after each write, up to {@link ResyncJob#VERIFY_RECHECKS} times); merged, ascending
 * @param repairedBytes bytes of source data sent to repair mismatched regions (0 for {@link Mode#VERIFY})
 * @param started when it started
 * @param duration how long it ran
 */
public record VerifyReport(DiskId disk, Mode mode, Outcome outcome, String reason, long bytesCompared,
                           List<Region> mismatched, List<Region> skipped, long repairedBytes, Instant started,
                           Duration duration) {

    /** What a verification does. */
    public enum Mode {
        /** Compare only: nothing is sent, the replica is left as it is. */
        VERIFY,
        /** Compare, then resync just the mismatched regions (compared again, only differing blocks sent). */
        VERIFY_AND_REPAIR,
        /** Resync just the mismatched regions of the disk's last completed verification. */
        REPAIR
    }

    /** How it ended. */
    public enum Outcome {
        COMPLETED, CANCELLED, FAILED
    }

    /** A byte range of the disk. */
    public record Region(long offset, long length) {
        public Region {
            if (offset < 0 || length < 1 || offset + length < 0) {
                throw new IllegalArgumentException("region " + offset + "+" + length
                        + ": expected offset >= 0 and length >= 1");
            }
        }

        public long end() {
            return offset + length;
        }

        @Override
        public String toString() {
            return offset + "+" + length;
        }
    }

    public VerifyReport {
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(started, "started");
        Objects.requireNonNull(duration, "duration");
        if ((outcome == Outcome.COMPLETED) != reason.isEmpty()) {
            throw new IllegalArgumentException("a reason is given if and only if the outcome is not COMPLETED: "
                    + outcome + " '" + reason + "'");
        }
        if (bytesCompared < 0 || repairedBytes < 0) {
            throw new IllegalArgumentException("negative figures: compared " + bytesCompared + ", repaired "
                    + repairedBytes);
        }
        mismatched = List.copyOf(mismatched);
        skipped = List.copyOf(skipped);
    }

    public int mismatchCount() {
        return mismatched.size();
    }

    public long mismatchBytes() {
        return Regions.bytes(mismatched);
    }

    public long skippedBytes() {
        return Regions.bytes(skipped);
    }

    /** Whether it completed and found the replica equal to the source (nothing mismatched, nothing skipped). */
    public boolean clean() {
        return outcome == Outcome.COMPLETED && mismatched.isEmpty() && skipped.isEmpty();
    }

    /** Several lines for an operator: the outcome, the figures and at most {@code maxRegions} regions of each list. */
    public String describe(int maxRegions) {
        StringBuilder b = new StringBuilder();
        b.append(switch (mode) {
            case VERIFY -> "Verification";
            case VERIFY_AND_REPAIR -> "Verification and repair";
            case REPAIR -> "Repair";
        }).append(" of ").append(disk).append(": ").append(outcome.name().toLowerCase(java.util.Locale.ROOT));
        if (!reason.isEmpty()) {
            b.append(" (").append(reason).append(')');
        }
        b.append(" after ").append(duration.toMillis()).append(" ms; ").append(bytesCompared).append(" bytes compared\n");
        b.append(mode == Mode.REPAIR ? "Regions to repair: " : "Mismatched regions: ").append(mismatchCount())
                .append(" (").append(mismatchBytes()).append(" bytes)\n");
        list(b, mismatched, maxRegions);
        if (!skipped.isEmpty()) {
            b.append("Skipped, written during the whole pass: ").append(skipped.size()).append(" (")
                    .append(skippedBytes()).append(" bytes)\n");
            list(b, skipped, maxRegions);
        }
        if (mode != Mode.VERIFY) {
            b.append("Repaired: ").append(repairedBytes).append(" bytes sent\n");
        }
        return b.toString();
    }

    private static void list(StringBuilder b, List<Region> regions, int max) {
        for (int i = 0; i < regions.size() && i < max; i++) {
            Region r = regions.get(i);
            b.append("  offset ").append(r.offset()).append(" length ").append(r.length()).append('\n');
        }
        if (regions.size() > max) {
            b.append("  ... and ").append(regions.size() - max).append(" more\n");
        }
    }

    /**
     * A set of byte ranges kept merged: overlapping and adjacent ranges become one. Not thread-safe.
     */
    public static final class Regions {
        /** offset -> end, disjoint and not adjacent. */
        private final TreeMap<Long, Long> ranges = new TreeMap<>();

        /** Adds {@code [offset, offset + length)}; nothing for {@code length <= 0}. */
        public Regions add(long offset, long length) {
            if (length <= 0) {
                return this;
            }
            if (offset < 0) {
                throw new IllegalArgumentException("negative offset " + offset);
            }
            long from = offset;
            long to = offset + length;
            var below = ranges.floorEntry(from);
            if (below != null && below.getValue() >= from) {
                from = below.getKey();
                to = Math.max(to, below.getValue());
                ranges.remove(below.getKey());
            }
            for (var next = ranges.ceilingEntry(from); next != null && next.getKey() <= to;
                    next = ranges.ceilingEntry(from)) {
                to = Math.max(to, next.getValue());
                ranges.remove(next.getKey());
            }
            ranges.put(from, to);
            return this;
        }

        /** Removes {@code [offset, offset + length)}. */
        public Regions remove(long offset, long length) {
            if (length <= 0) {
                return this;
            }
            long from = offset;
            long to = offset + length;
            var below = ranges.lowerEntry(from);
            if (below != null && below.getValue() > from) {
                ranges.put(below.getKey(), from);
                if (below.getValue() > to) {
                    ranges.put(to, below.getValue());
                    return this;
                }
            }
            for (var in = ranges.ceilingEntry(from); in != null && in.getKey() < to; in = ranges.ceilingEntry(from)) {
                ranges.remove(in.getKey());
                if (in.getValue() > to) {
                    ranges.put(to, in.getValue());
                }
            }
            return this;
        }

        public boolean isEmpty() {
            return ranges.isEmpty();
        }

        /** The ranges, ascending. */
        public List<Region> list() {
            List<Region> out = new ArrayList<>(ranges.size());
            ranges.forEach((from, to) -> out.add(new Region(from, to - from)));
            return Collections.unmodifiableList(out);
        }

        /** Total bytes of merged regions. */
        static long bytes(List<Region> regions) {
            long n = 0;
            for (Region r : regions) {
                n += r.length();
            }
            return n;
        }
    }
}
