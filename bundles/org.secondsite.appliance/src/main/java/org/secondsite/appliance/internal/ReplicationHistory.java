package org.secondsite.appliance.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last day of every disk's replication figures, sampled every {@value #INTERVAL_SECONDS} s from
 * {@link ReplicationOverview}, in memory only (lost on restart), for the console's RPO and
 * throughput charts ({@code GET /api/v1/replication/history}). Per disk and sample: the RPO (the
 * largest lag over the disk's stages: the age of the oldest write not yet in the replica), the
 * backlog summed over the stages, the capture rate of the first stage and the apply rate of the
 * last one. Bounded: {@value #MAX_DISKS} disks, 8640 samples each.
 */
@Component(service = ReplicationHistory.class)
public class ReplicationHistory {
    public static final int INTERVAL_SECONDS = 10;
    public static final Duration SPAN = Duration.ofDays(1);
    static final int MAX_DISKS = 128;
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationHistory.class);

    private final Supplier<List<ReplicationOverview.Row>> rows;
    private final Clock clock;
    private final HistoryBuffer buffer = new HistoryBuffer((int) (SPAN.toSeconds() / INTERVAL_SECONDS), MAX_DISKS,
            SPAN);
    private final ScheduledExecutorService timer;
    private boolean warnedFull;

    @Activate
    public ReplicationHistory(@Reference ReplicationOverview overview) {
        this(overview::rows, Clock.systemUTC(), true);
    }

    ReplicationHistory(Supplier<List<ReplicationOverview.Row>> rows, Clock clock, boolean schedule) {
        this.rows = rows;
        this.clock = clock;
        if (schedule) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "secondsite-replication-history");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleAtFixedRate(this::sampleSafely, 1, INTERVAL_SECONDS, TimeUnit.SECONDS);
        } else {
            timer = null;
        }
    }

    @Deactivate
    void deactivate() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    private void sampleSafely() {
        try {
            sample();
        } catch (RuntimeException e) {
            LOG.warn("Replication history sample failed", e);
        }
    }

    /** Takes one sample of every disk now. */
    void sample() {
        Instant now = clock.instant();
        Map<String, HistoryBuffer.Sample> round = new LinkedHashMap<>();
        Map<String, long[]> acc = new LinkedHashMap<>(); // rpo, backlog
        Map<String, double[]> rates = new LinkedHashMap<>(); // first stage in, last stage out
        for (ReplicationOverview.Row row : rows.get()) { // ordered by disk, then stage in data-path order
            DiskReplicationStatus d = row.status();
            String disk = d.disk().value();
            long[] a = acc.computeIfAbsent(disk, k -> new long[2]);
            a[0] = Math.max(a[0], d.lag(now).toMillis());
            a[1] += d.backlogBytes();
            double[] r = rates.get(disk);
            if (r == null) {
                rates.put(disk, new double[] {row.inPerSecond(), row.outPerSecond()});
            } else {
                r[1] = row.outPerSecond();
            }
        }
        acc.forEach((disk, a) -> round.put(disk,
                new HistoryBuffer.Sample(now, a[0], a[1], rates.get(disk)[0], rates.get(disk)[1])));
        List<String> refused;
        synchronized (buffer) {
            refused = buffer.record(now, round);
        }
        if (!refused.isEmpty() && !warnedFull) {
            warnedFull = true;
            LOG.warn("Replication history records {} disks at most; not recording {}", MAX_DISKS, refused);
        }
    }

    /** Disks with a history. */
    public Set<String> disks() {
        synchronized (buffer) {
            return buffer.disks();
        }
    }

    /** The samples of {@code disk} within {@code window} before now, oldest first. */
    public List<HistoryBuffer.Sample> history(String disk, Duration window) {
        Instant since = clock.instant().minus(window);
        synchronized (buffer) {
            return buffer.since(disk, since);
        }
    }
}
