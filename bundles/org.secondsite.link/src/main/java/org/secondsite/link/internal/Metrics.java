package org.secondsite.link.internal;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.replication.SpoolMonitor;
import org.secondsite.api.replication.ResyncProgress;

/**
 * The figures a heartbeat carries, from the replication monitors of this appliance. Throughput
 * is the growth of a disk's {@code bytesOut} since the previous collection divided by the time
 * between them (0 the first time and after a stage restarted). A disk reported by several stages
 * of one JVM is sent once: the state and throughput of the earliest stage (agent, then process
 * server, then master target), the largest RPO, the summed backlog. Not thread-safe: one
 * heartbeat loop uses it.
 */
public final class Metrics {
    /** Disks one heartbeat may report (the configuration server's limit). */
    public static final int MAX_DISKS = 256;
    /** Largest RPO the configuration server accepts: ten years. */
    static final long MAX_RPO_SECONDS = Duration.ofDays(3650).toSeconds();
    private static final int MAX_STATE_CHARS = 32;

    /** One disk's figures. */
    public record Disk(String diskId, long rpoSeconds, long backlogBytes, long throughputBytesPerSecond, String state,
                       boolean resyncRequired, Integer resyncPercent) {
    }

    /**
     * A heartbeat's figures.
     *
     * @param backlogBytes sum of every stage's backlog
     * @param cpuLoad the system load average, or null when the platform has none
     * @param memoryUsedBytes this JVM's heap in use
     * @param disks per disk, sorted by id, at most {@link #MAX_DISKS}
     * @param omittedDisks disks left out beyond {@link #MAX_DISKS}
     */
    public record Figures(long backlogBytes, Double cpuLoad, Long memoryUsedBytes, List<Disk> disks, int omittedDisks,
                          Double spoolFreePercent) {
        public Figures(long backlogBytes, Double cpuLoad, Long memoryUsedBytes, List<Disk> disks, int omittedDisks) {
            this(backlogBytes, cpuLoad, memoryUsedBytes, disks, omittedDisks, null);
        }

        /** With the process server's spool: its free share of the cap, 0-100 (none: unchanged). */
        Figures withSpool(Collection<SpoolMonitor> spools) {
            for (SpoolMonitor s : spools) {
                try {
                    long capacity = s.capacityBytes();
                    if (capacity > 0) {
                        double percent = Math.min(100.0, Math.max(0.0, 100.0 * s.freeBytes() / capacity));
                        return new Figures(backlogBytes, cpuLoad, memoryUsedBytes, disks, omittedDisks,
                                Math.round(percent * 10) / 10.0);
                    }
                } catch (RuntimeException e) {
                    return this; // the process server is restarting; the next heartbeat reports it
                }
            }
            return this;
        }
    }

    private record Sample(long bytesOut, Instant at) {
    }

    private Map<String, Sample> previous = new HashMap<>();

    /** Collects the figures of {@code monitors} at {@code now}; a monitor that fails is skipped. */
    public Figures collect(Collection<ReplicationMonitor> monitors, Instant now) {
        List<DiskReplicationStatus> all = new ArrayList<>();
        for (ReplicationMonitor m : monitors) {
            try {
                all.addAll(m.disks());
            } catch (RuntimeException e) {
                // a stage shutting down; its disks are reported again by the next heartbeat
            }
        }
        all.sort(Comparator.comparing((DiskReplicationStatus s) -> s.stage().ordinal())
                .thenComparing(s -> s.disk().toString()));
        long backlog = 0;
        Map<String, Disk> byId = new LinkedHashMap<>();
        Map<String, Sample> next = new HashMap<>();
        for (DiskReplicationStatus s : all) {
            backlog += Math.max(0, s.backlogBytes());
            String id = s.disk().toString();
            String key = s.stage() + "/" + id;
            Sample before = previous.get(key);
            next.put(key, new Sample(s.bytesOut(), now));
            long throughput = 0;
            if (before != null) {
                long millis = Duration.between(before.at(), now).toMillis();
                long delta = s.bytesOut() - before.bytesOut();
                if (millis > 0 && delta > 0) {
                    throughput = (long) (delta * 1000.0 / millis);
                }
            }
            long rpo = Math.max(0, Math.min(MAX_RPO_SECONDS, s.lag(now).getSeconds()));
            boolean resyncing = resyncing(s);
            Disk d = new Disk(id, rpo, Math.max(0, s.backlogBytes()), throughput,
                    resyncing ? RESYNCING : state(s.state()), resyncRequired(s),
                    resyncing ? (int) Math.floor(s.resync().percent()) : null);
            Disk first = byId.get(id);
            byId.put(id, first == null ? d : new Disk(id, Math.max(first.rpoSeconds(), d.rpoSeconds()),
                    first.backlogBytes() + d.backlogBytes(), first.throughputBytesPerSecond(), first.state(),
                    first.resyncRequired() || d.resyncRequired(), first.resyncPercent()));
        }
        previous = next;
        List<Disk> disks = new ArrayList<>(byId.values());
        disks.sort(Comparator.comparing(Disk::diskId));
        int omitted = Math.max(0, disks.size() - MAX_DISKS);
        if (omitted > 0) {
            disks = new ArrayList<>(disks.subList(0, MAX_DISKS));
        }
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        Runtime rt = Runtime.getRuntime();
        return new Figures(backlog, load < 0 ? null : load, rt.totalMemory() - rt.freeMemory(), List.copyOf(disks),
                omitted);
    }

    /**
     * A stage's state in the heartbeat's form (1-32 of {@code [a-z0-9-]}, starting with a letter):
     * the part before a colon ({@code holding: unknown compressor zstd} is {@code holding}),
     * lower-cased, other characters runs turned into '-'.
     */
    static String state(String raw) {
        String s = raw == null ? "" : raw;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            s = s.substring(0, colon);
        }
        s = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        if (s.isEmpty()) {
            return "unknown";
        }
        if (!Character.isLetter(s.charAt(0))) {
            s = "s-" + s;
        }
        if (s.length() > MAX_STATE_CHARS) {
            s = s.substring(0, MAX_STATE_CHARS).replaceAll("-+$", "");
        }
        return s;
    }

    /** The state reported while the agent compares the source with the replica (initial replication or resync). */
    static final String RESYNCING = "resyncing";

    /** Whether a resync (the initial replication is one) of the disk runs now. */
    static boolean resyncing(DiskReplicationStatus s) {
        ResyncProgress r = s.resync();
        return r != null && (r.phase() == ResyncProgress.Phase.COMPARING || r.phase() == ResyncProgress.Phase.REPLAYING);
    }

    /**
     * Whether the replica needs a resync that has not completed: the state names one (e.g.
     * {@code resync-required}), or the agent's last resync failed (it is still owed).
     */
    static boolean resyncRequired(DiskReplicationStatus s) {
        if (s.state().toLowerCase(Locale.ROOT).contains("resync")) {
            return true;
        }
        ResyncProgress r = s.resync();
        return r != null && r.phase() == ResyncProgress.Phase.FAILED;
    }
}
