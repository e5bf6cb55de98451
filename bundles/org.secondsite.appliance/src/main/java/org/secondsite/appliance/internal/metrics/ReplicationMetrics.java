package org.secondsite.appliance.internal.metrics;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.replication.Tracking;
import org.secondsite.appliance.internal.ReplicationOverview;
import org.secondsite.appliance.internal.metrics.PrometheusText.Type;

/**
 * The appliance's metrics as Prometheus text: every disk at every replication stage running
 * here (backlog, lag, throughput counters, sequences, state, tracking tier, resync progress) and
 * the JVM (heap, CPU). Plain Java over {@link ReplicationOverview.Row}s, so it is tested without
 * a container.
 */
public final class ReplicationMetrics {
    private ReplicationMetrics() {
    }

    /** Figures of the running JVM and machine. */
    public record Process(long heapUsed, long heapMax, double processCpuLoad, double systemCpuLoad, int processors) {
        /** The current figures; CPU loads are NaN where the platform does not report them. */
        public static Process now() {
            MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
            return new Process(heap.getUsed(), heap.getMax(), osAttribute("ProcessCpuLoad"), osAttribute("CpuLoad"),
                    Runtime.getRuntime().availableProcessors());
        }

        /**
         * A figure of the platform's operating-system MBean, read by name so that the bundle does
         * not import {@code com.sun.management}; NaN where the JVM does not offer it.
         */
        private static double osAttribute(String name) {
            try {
                Object v = ManagementFactory.getPlatformMBeanServer()
                        .getAttribute(new javax.management.ObjectName("java.lang:type=OperatingSystem"), name);
                return v instanceof Number n && n.doubleValue() >= 0 ? n.doubleValue() : Double.NaN;
            } catch (javax.management.JMException | RuntimeException e) {
                return Double.NaN;
            }
        }
    }

    /** Renders the rows and the process figures. */
    public static String render(List<ReplicationOverview.Row> rows, Process process, Instant now) {
        PrometheusText t = new PrometheusText();
        for (ReplicationOverview.Row row : rows) {
            DiskReplicationStatus d = row.status();
            String disk = d.disk().value();
            String stage = d.stage().name().toLowerCase().replace('_', '-');
            t.sample("secondsite_disk_state", Type.GAUGE, "1 for the disk's current state at a stage",
                    1, "disk", disk, "stage", stage, "state", d.state());
            t.sample("secondsite_disk_backlog_bytes", Type.GAUGE,
                    "Bytes taken in by a stage and not yet acknowledged downstream", d.backlogBytes(),
                    "disk", disk, "stage", stage);
            t.sample("secondsite_disk_lag_seconds", Type.GAUGE,
                    "Age of the oldest write not yet acknowledged downstream (0 when nothing is pending)",
                    seconds(d.lag(now)), "disk", disk, "stage", stage);
            t.sample("secondsite_disk_received_bytes_total", Type.COUNTER,
                    "Bytes captured or received by a stage since it started", d.bytesIn(), "disk", disk, "stage", stage);
            t.sample("secondsite_disk_sent_bytes_total", Type.COUNTER,
                    "Bytes sent or applied by a stage since it started", d.bytesOut(), "disk", disk, "stage", stage);
            t.sample("secondsite_disk_received_bytes_per_second", Type.GAUGE,
                    "Receive rate over the last sampling interval", row.inPerSecond(), "disk", disk, "stage", stage);
            t.sample("secondsite_disk_sent_bytes_per_second", Type.GAUGE,
                    "Send or apply rate over the last sampling interval", row.outPerSecond(), "disk", disk, "stage", stage);
            t.sample("secondsite_disk_last_sequence", Type.GAUGE,
                    "Highest batch sequence a stage has taken in", d.lastSequence(), "disk", disk, "stage", stage);
            t.sample("secondsite_disk_acknowledged_sequence", Type.GAUGE,
                    "Highest batch sequence acknowledged as durable downstream (applied, at the master target)",
                    d.acknowledgedSequence(), "disk", disk, "stage", stage);
            if (d.newestAppliedWrite() != null) {
                t.sample("secondsite_disk_newest_applied_write_timestamp_seconds", Type.GAUGE,
                        "Source acknowledgement time of the newest write contained in the replica",
                        d.newestAppliedWrite().toEpochMilli() / 1000.0, "disk", disk, "stage", stage);
            }
            Tracking tr = d.tracking();
            if (tr != null) {
                t.sample("secondsite_disk_tracking_mode", Type.GAUGE, "1 for the agent's current change-tracking tier",
                        1, "disk", disk, "mode", tr.mode().name().toLowerCase());
                t.sample("secondsite_disk_tracking_bytes", Type.GAUGE,
                        "Unacknowledged change data the agent holds, by where it holds it",
                        tr.memoryBytes(), "disk", disk, "tier", "memory");
                t.sample("secondsite_disk_tracking_bytes", Type.GAUGE,
                        "Unacknowledged change data the agent holds, by where it holds it",
                        tr.spilledBytes(), "disk", disk, "tier", "cache");
                t.sample("secondsite_disk_tracking_bytes", Type.GAUGE,
                        "Unacknowledged change data the agent holds, by where it holds it",
                        tr.dirtyBytes(), "disk", disk, "tier", "dirty");
            }
            ResyncProgress r = d.resync();
            if (r != null) {
                t.sample("secondsite_disk_resync_percent", Type.GAUGE,
                        "Percent of the disk compared by the running or last resync", r.percent(),
                        "disk", disk, "phase", r.phase().name().toLowerCase());
                t.sample("secondsite_disk_resync_sent_bytes", Type.GAUGE,
                        "Bytes the running or last resync sent", r.sentBytes(), "disk", disk);
            }
        }
        t.sample("secondsite_jvm_heap_used_bytes", Type.GAUGE, "Java heap in use", process.heapUsed());
        t.sample("secondsite_jvm_heap_max_bytes", Type.GAUGE, "Java heap limit", process.heapMax());
        t.sample("secondsite_process_cpu_load", Type.GAUGE,
                "CPU used by the appliance process, 0..1 of all processors", process.processCpuLoad());
        t.sample("secondsite_system_cpu_load", Type.GAUGE, "CPU used by the whole machine, 0..1",
                process.systemCpuLoad());
        t.sample("secondsite_processors", Type.GAUGE, "Processors available to the appliance", process.processors());
        return t.text();
    }

    private static double seconds(Duration d) {
        return d.toMillis() / 1000.0;
    }
}
