package org.secondsite.configserver.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.secondsite.configserver.internal.catalogue.HealthStore;

/** The alert conditions alone (no catalogue): each threshold just inside and just outside. */
class AlertRulesTest {
    private static final Instant NOW = Instant.parse("2030-01-01T12:00:00Z");
    private final AlertRules rules = new AlertRules(AlertThresholds.DEFAULTS);

    private Map<AlertRules.Key, AlertRules.Condition> spool(Double percent) {
        return rules.evaluate(new HealthStore.Snapshot(List.of(new HealthStore.ComponentState("ps-1", "process-server",
                NOW.minusSeconds(3600), NOW, percent)), List.of()), NOW);
    }

    private static String severity(Map<AlertRules.Key, AlertRules.Condition> m, String kind, String subject) {
        AlertRules.Condition c = m.get(new AlertRules.Key(kind, subject));
        return c == null ? "none" : c.severity();
    }

    @Test
    void spoolWarningBelow30AndCriticalBelow25() {
        assertEquals("none", severity(spool(null), AlertRules.SPOOL_LOW, "ps-1"), "not reported: no alert");
        assertEquals("none", severity(spool(100.0), AlertRules.SPOOL_LOW, "ps-1"));
        assertEquals("none", severity(spool(30.0), AlertRules.SPOOL_LOW, "ps-1"), "30 % is not below 30 %");
        assertEquals("warning", severity(spool(29.99), AlertRules.SPOOL_LOW, "ps-1"));
        assertEquals("warning", severity(spool(25.0), AlertRules.SPOOL_LOW, "ps-1"), "25 % is not below 25 %");
        assertEquals("critical", severity(spool(24.99), AlertRules.SPOOL_LOW, "ps-1"));
        assertEquals("critical", severity(spool(0.0), AlertRules.SPOOL_LOW, "ps-1"));
        String message = spool(24.999).values().iterator().next().message();
        assertEquals("Spool of process-server 'ps-1' has 24.99 % free, below the critical threshold of 25 %", message);
    }

    @Test
    void heartbeatMissingFromExactlyTheTimeout() {
        Instant seen = NOW.minus(Duration.ofMinutes(15));
        var justIn = rules.evaluate(new HealthStore.Snapshot(List.of(new HealthStore.ComponentState("a-1", "agent",
                seen.minusSeconds(60), seen.plusSeconds(1), null)), List.of()), NOW);
        assertEquals("none", severity(justIn, AlertRules.HEARTBEAT_MISSING, "a-1"), "14 min 59 s");
        var atLimit = rules.evaluate(new HealthStore.Snapshot(List.of(new HealthStore.ComponentState("a-1", "agent",
                seen.minusSeconds(60), seen, null)), List.of()), NOW);
        assertEquals("critical", severity(atLimit, AlertRules.HEARTBEAT_MISSING, "a-1"), "15 min");
        assertTrue(atLimit.values().iterator().next().message().contains("for 15 min"));
        var neverSent = rules.evaluate(new HealthStore.Snapshot(List.of(new HealthStore.ComponentState("a-2", "agent",
                seen, null, null)), List.of()), NOW);
        assertEquals("critical", severity(neverSent, AlertRules.HEARTBEAT_MISSING, "a-2"),
                "registered 15 min ago and silent since");
        assertTrue(neverSent.values().iterator().next().message().contains("none since it registered"));
    }

    @Test
    void rpoOverThePolicyThresholdOrThe30MinuteDefault() {
        var m = rules.evaluate(new HealthStore.Snapshot(List.of(), List.of(
                new HealthStore.DiskState("a-1", "d-at", 1800, false, null),
                new HealthStore.DiskState("a-1", "d-over", 1801, false, null),
                new HealthStore.DiskState("a-1", "p-at", 60, false, 60),
                new HealthStore.DiskState("a-1", "p-over", 61, false, 60),
                new HealthStore.DiskState("a-1", "r", 0, true, 60))), NOW);
        assertEquals("none", severity(m, AlertRules.RPO_EXCEEDED, "a-1/d-at"));
        assertEquals("critical", severity(m, AlertRules.RPO_EXCEEDED, "a-1/d-over"));
        assertTrue(m.get(new AlertRules.Key(AlertRules.RPO_EXCEEDED, "a-1/d-over")).message().contains("default"));
        assertEquals("none", severity(m, AlertRules.RPO_EXCEEDED, "a-1/p-at"));
        assertEquals("critical", severity(m, AlertRules.RPO_EXCEEDED, "a-1/p-over"));
        assertEquals("critical", severity(m, AlertRules.RESYNC_REQUIRED, "a-1/r"));
        assertEquals("none", severity(m, AlertRules.RESYNC_REQUIRED, "a-1/p-over"));
        assertEquals(3, m.size());
    }

    @Test
    void configuredThresholdsAreUsedAndCheckedWhenSet() {
        AlertRules strict = new AlertRules(new AlertThresholds(Duration.ofMinutes(5), 50, 10, Duration.ofMinutes(2)));
        var m = strict.evaluate(new HealthStore.Snapshot(List.of(new HealthStore.ComponentState("ps-1",
                "process-server", NOW.minusSeconds(600), NOW.minusSeconds(120), 49.0)), List.of(
                new HealthStore.DiskState("ps-1", "d", 301, false, null))), NOW);
        assertEquals("warning", severity(m, AlertRules.SPOOL_LOW, "ps-1"));
        assertEquals("critical", severity(m, AlertRules.HEARTBEAT_MISSING, "ps-1"));
        assertEquals("critical", severity(m, AlertRules.RPO_EXCEEDED, "ps-1/d"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AlertThresholds(Duration.ofMinutes(30), 25, 30, Duration.ofMinutes(15)));
        assertTrue(e.getMessage().contains("spoolCriticalPercent"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new AlertThresholds(Duration.ZERO, 30, 25, Duration.ofMinutes(15)));
    }
}
