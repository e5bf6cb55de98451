package org.secondsite.configserver.internal.catalogue;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import org.secondsite.api.model.DiskId;
import org.secondsite.configserver.internal.ConfigServerException;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A component's heartbeat: when it measured, and its figures. The catalogue keeps the latest one
 * per component (and per disk), overwriting the previous.
 *
 * @param componentId the reporting component (registered)
 * @param time when the component took these figures (its clock)
 * @param backlogBytes bytes the component holds that its next hop has not acknowledged
 * @param spoolFreePercent free space of a process server's spool, 0-100, or null (other roles)
 * @param cpuLoad the host's load average, or null
 * @param memoryUsedBytes the component's memory in use, or null
 * @param disks per protected disk: RPO, backlog, throughput, state (at most {@link #MAX_DISKS})
 */
public record Heartbeat(String componentId, Instant time, long backlogBytes, Double spoolFreePercent, Double cpuLoad,
                        Long memoryUsedBytes, List<Disk> disks) {
    /** Disks one heartbeat may report. */
    public static final int MAX_DISKS = 256;
    /** How far ahead of the server's clock a heartbeat's time may be (a later one would hide the next ones). */
    public static final Duration MAX_AHEAD = Duration.ofHours(1);
    /** Heartbeat times before this are refused (a clock that was never set). */
    public static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");
    /** Largest RPO a component may report: ten years. */
    public static final long MAX_RPO_SECONDS = Duration.ofDays(3650).toSeconds();
    /** Largest load average accepted. */
    public static final double MAX_CPU_LOAD = 100_000;
    private static final Pattern STATE = Pattern.compile("[a-z][a-z0-9-]{0,31}");

    /**
     * One disk's figures.
     *
     * @param diskId the protected disk (1-128 letters, digits, {@code . _ : -})
     * @param rpoSeconds how far the replica is behind the source, in seconds
     * @param backlogBytes bytes of this disk not yet acknowledged by the next hop
     * @param throughputBytesPerSecond recent replication throughput
     * @param state the disk's replication state as the component names it, e.g. {@code replicating}
     * @param resyncRequired whether the component found the replica must be resynchronised
     * @param resyncPercent how far a running resync (or initial replication) is, 0-100, or null
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Disk(String diskId, long rpoSeconds, long backlogBytes, long throughputBytesPerSecond, String state,
                       boolean resyncRequired, Integer resyncPercent) {
        public Disk(String diskId, long rpoSeconds, long backlogBytes, long throughputBytesPerSecond, String state,
                    boolean resyncRequired) {
            this(diskId, rpoSeconds, backlogBytes, throughputBytesPerSecond, state, resyncRequired, null);
        }
    }

    public Heartbeat {
        disks = disks == null ? List.of() : List.copyOf(disks);
    }

    /**
     * Checks every field against {@code now} (the server's clock), naming the first bad one with its
     * JSON path ({@code metrics.disks[2].rpoSeconds}) and what it expects.
     *
     * @return this heartbeat
     */
    public Heartbeat validate(Instant now) {
        if (componentId == null || !Policy.ID.matcher(componentId).matches()) {
            throw ConfigServerException.invalid("componentId", "componentId '" + abbreviate(componentId)
                    + "' is invalid: use 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
        }
        if (time == null) {
            throw ConfigServerException.invalid("time", "time is required: an ISO-8601 instant such as "
                    + "2030-01-01T12:00:00Z");
        }
        if (time.isBefore(EARLIEST) || time.isAfter(now.plus(MAX_AHEAD))) {
            throw ConfigServerException.invalid("time", "time " + time + " is out of range: expected after "
                    + EARLIEST + " and at most " + MAX_AHEAD.toMinutes() + " min ahead of the server's clock (" + now + ")");
        }
        atLeastZero("metrics.backlogBytes", backlogBytes);
        if (spoolFreePercent != null && !(spoolFreePercent >= 0 && spoolFreePercent <= 100)) {
            throw ConfigServerException.invalid("metrics.spoolFreePercent", "metrics.spoolFreePercent must be between "
                    + "0 and 100, was " + spoolFreePercent);
        }
        if (cpuLoad != null && !(cpuLoad >= 0 && cpuLoad <= MAX_CPU_LOAD)) {
            throw ConfigServerException.invalid("metrics.cpuLoad", "metrics.cpuLoad must be between 0 and "
                    + (long) MAX_CPU_LOAD + ", was " + cpuLoad);
        }
        if (memoryUsedBytes != null) {
            atLeastZero("metrics.memoryUsedBytes", memoryUsedBytes);
        }
        if (disks.size() > MAX_DISKS) {
            throw ConfigServerException.invalid("metrics.disks", "metrics.disks has " + disks.size()
                    + " entries; at most " + MAX_DISKS);
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < disks.size(); i++) {
            Disk d = disks.get(i);
            String at = "metrics.disks[" + i + "].";
            try {
                DiskId.of(d.diskId());
            } catch (IllegalArgumentException | NullPointerException e) {
                throw ConfigServerException.invalid(at + "diskId", at + "diskId: " + e.getMessage());
            }
            if (!seen.add(d.diskId())) {
                throw ConfigServerException.invalid(at + "diskId", at + "diskId '" + d.diskId()
                        + "' is reported twice in this heartbeat");
            }
            if (d.rpoSeconds() < 0 || d.rpoSeconds() > MAX_RPO_SECONDS) {
                throw ConfigServerException.invalid(at + "rpoSeconds", at + "rpoSeconds must be between 0 and "
                        + MAX_RPO_SECONDS + ", was " + d.rpoSeconds());
            }
            atLeastZero(at + "backlogBytes", d.backlogBytes());
            atLeastZero(at + "throughputBytesPerSecond", d.throughputBytesPerSecond());
            if (d.resyncPercent() != null && (d.resyncPercent() < 0 || d.resyncPercent() > 100)) {
                throw ConfigServerException.invalid(at + "resyncPercent", at + "resyncPercent must be between 0 and "
                        + "100, was " + d.resyncPercent());
            }
            if (d.state() == null || !STATE.matcher(d.state()).matches()) {
                throw ConfigServerException.invalid(at + "state", at + "state '" + abbreviate(d.state())
                        + "' is invalid: 1-32 lower-case letters, digits or '-', e.g. replicating");
            }
        }
        return this;
    }

    private static void atLeastZero(String field, long value) {
        if (value < 0) {
            throw ConfigServerException.invalid(field, field + " must be 0 or more, was " + value);
        }
    }

    private static String abbreviate(String s) {
        return s == null || s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
