package org.secondsite.configserver.internal.health;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import org.secondsite.configserver.internal.catalogue.Event;
import org.secondsite.configserver.internal.catalogue.HealthStore;

/**
 * The alert conditions that hold for a snapshot of the catalogue's health at a given time. Pure:
 * no catalogue, no clock; {@link Alerts} compares the result with the active alerts.
 */
public final class AlertRules {
    public static final String RPO_EXCEEDED = "rpo-exceeded";
    public static final String SPOOL_LOW = "spool-low";
    public static final String HEARTBEAT_MISSING = "heartbeat-missing";
    public static final String RESYNC_REQUIRED = "resync-required";

    /** An alert is identified by its kind and subject: one active alert per pair. */
    public record Key(String kind, String subject) {
    }

    /** A condition that holds now, as its alert would be raised. */
    public record Condition(String kind, String severity, String source, String subject, String message) {
        public Key key() {
            return new Key(kind, subject);
        }
    }

    private final AlertThresholds thresholds;

    public AlertRules(AlertThresholds thresholds) {
        this.thresholds = thresholds;
    }

    public AlertThresholds thresholds() {
        return thresholds;
    }

    /** Every condition that holds at {@code now}, by key. */
    public Map<Key, Condition> evaluate(HealthStore.Snapshot snapshot, Instant now) {
        Map<Key, Condition> out = new LinkedHashMap<>();
        for (HealthStore.ComponentState c : snapshot.components()) {
            Instant seen = c.lastSeen() != null ? c.lastSeen() : c.registeredAt();
            if (!seen.plus(thresholds.heartbeatTimeout()).isAfter(now)) {
                put(out, new Condition(HEARTBEAT_MISSING, Event.CRITICAL, c.componentId(), c.componentId(),
                        "No heartbeat from " + c.role() + " '" + c.componentId() + "' for "
                                + text(Duration.between(seen, now)) + " (limit " + text(thresholds.heartbeatTimeout())
                                + "; " + (c.lastSeen() == null ? "none since it registered at " + seen
                                : "last at " + seen) + ")"));
            }
            Double spool = c.spoolFreePercent();
            if (spool != null && spool < thresholds.spoolWarningPercent()) {
                boolean critical = spool < thresholds.spoolCriticalPercent();
                double limit = critical ? thresholds.spoolCriticalPercent() : thresholds.spoolWarningPercent();
                put(out, new Condition(SPOOL_LOW, critical ? Event.CRITICAL : Event.WARNING, c.componentId(),
                        c.componentId(), "Spool of " + c.role() + " '" + c.componentId() + "' has " + percent(spool)
                                + " % free, below the " + (critical ? "critical" : "warning") + " threshold of "
                                + percent(limit) + " %"));
            }
        }
        for (HealthStore.DiskState d : snapshot.disks()) {
            String subject = d.componentId() + "/" + d.diskId();
            long threshold = d.rpoThresholdSeconds() != null ? d.rpoThresholdSeconds()
                    : thresholds.defaultRpoThreshold().toSeconds();
            if (d.rpoSeconds() > threshold) {
                put(out, new Condition(RPO_EXCEEDED, Event.CRITICAL, d.componentId(), subject, "RPO of disk '"
                        + d.diskId() + "' (reported by '" + d.componentId() + "') is " + d.rpoSeconds()
                        + " s, over the threshold of " + threshold + " s"
                        + (d.rpoThresholdSeconds() == null ? " (the default: the disk has no policy)" : " of its policy")));
            }
            if (d.resyncRequired()) {
                put(out, new Condition(RESYNC_REQUIRED, Event.CRITICAL, d.componentId(), subject, "Disk '"
                        + d.diskId() + "' (reported by '" + d.componentId() + "') must be resynchronised"));
            }
        }
        return out;
    }

    private static void put(Map<Key, Condition> out, Condition c) {
        out.put(c.key(), c);
    }

    static String text(Duration d) {
        long s = d.toSeconds();
        return s % 60 == 0 ? s / 60 + " min" : s + " s";
    }

    /** A percentage with at most two decimals, rounded down (24.999 shows as 24.99, still below 25). */
    static String percent(double p) {
        return java.math.BigDecimal.valueOf(Math.floor(p * 100) / 100).stripTrailingZeros().toPlainString();
    }
}
