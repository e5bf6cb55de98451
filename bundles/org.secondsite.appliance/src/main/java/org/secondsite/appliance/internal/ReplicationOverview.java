package org.secondsite.appliance.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;

/**
 * Every replication stage running in this appliance, collected dynamically, for
 * {@code dr:replication} and {@code GET /api/v1/replication}; samples the byte counters every
 * {@value #SAMPLE_SECONDS} s to report throughput.
 */
@Component(service = ReplicationOverview.class)
public class ReplicationOverview {
    public static final int SAMPLE_SECONDS = 5;

    /** A disk at a stage with its recent throughput in bytes per second. */
    public record Row(DiskReplicationStatus status, double inPerSecond, double outPerSecond) {
    }

    private record Sample(long nanos, long in, long out, double inRate, double outRate) {
    }

    private final List<ReplicationMonitor> monitors = new CopyOnWriteArrayList<>();
    private final Map<String, Sample> samples = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "secondsite-replication-sampler");
        t.setDaemon(true);
        return t;
    });

    @Activate
    public ReplicationOverview() {
        sampler.scheduleAtFixedRate(this::sample, SAMPLE_SECONDS, SAMPLE_SECONDS, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        sampler.shutdownNow();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addMonitor(ReplicationMonitor monitor) {
        monitors.add(monitor);
    }

    void removeMonitor(ReplicationMonitor monitor) {
        monitors.remove(monitor);
    }

    /** All disks at all stages, ordered by disk, then stage in data-path order. */
    public List<DiskReplicationStatus> disks() {
        List<DiskReplicationStatus> all = new ArrayList<>();
        for (ReplicationMonitor m : monitors) {
            all.addAll(m.disks());
        }
        all.sort(Comparator.comparing(DiskReplicationStatus::disk).thenComparing(DiskReplicationStatus::stage));
        return all;
    }

    /** {@link #disks()} with the throughput measured over the last sampling interval. */
    public List<Row> rows() {
        return disks().stream().map(d -> {
            Sample s = samples.get(key(d));
            return new Row(d, s == null ? 0 : s.inRate(), s == null ? 0 : s.outRate());
        }).toList();
    }

    private void sample() {
        long now = System.nanoTime();
        Map<String, Boolean> seen = new ConcurrentHashMap<>();
        for (DiskReplicationStatus d : disks()) {
            String k = key(d);
            seen.put(k, Boolean.TRUE);
            Sample prev = samples.get(k);
            double in = 0;
            double out = 0;
            if (prev != null && now > prev.nanos()) {
                double secs = (now - prev.nanos()) / 1e9;
                // Counters restart with a stage: a drop is a restart, not negative throughput.
                in = Math.max(0, d.bytesIn() - prev.in()) / secs;
                out = Math.max(0, d.bytesOut() - prev.out()) / secs;
            }
            samples.put(k, new Sample(now, d.bytesIn(), d.bytesOut(), in, out));
        }
        samples.keySet().retainAll(seen.keySet());
    }

    private static String key(DiskReplicationStatus d) {
        return d.stage() + "/" + d.disk().value();
    }
}
