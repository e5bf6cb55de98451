package org.secondsite.configserver.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.Fixtures;
import org.secondsite.configserver.internal.catalogue.AuditLog;
import org.secondsite.configserver.internal.catalogue.Event;
import org.secondsite.configserver.internal.catalogue.Heartbeat;

/**
 * Alert evaluation against a real catalogue, driven by a fake clock as the scheduler would drive
 * it: raised once, kept while the condition holds, cleared with an event when it ends.
 */
class AlertsTest {
    @TempDir
    Path dir;
    Fixtures f;

    @BeforeEach
    void setUp() throws Exception {
        f = new Fixtures(dir);
        f.component("ps-1", "process-server");
        f.component("a-1", "agent");
    }

    @AfterEach
    void tearDown() throws Exception {
        f.close();
    }

    private boolean beat(String id, Double spool, Heartbeat.Disk... disks) throws Exception {
        return f.server.heartbeat(new Heartbeat(id, f.clock.instant(), 0, spool, 0.5, 1L << 20, List.of(disks)));
    }

    private static Heartbeat.Disk disk(String id, long rpo, boolean resync) {
        return new Heartbeat.Disk(id, rpo, 4096, 1 << 20, "replicating", resync);
    }

    private List<Event> active() throws Exception {
        return f.server.alerts(true, 0, 500).items();
    }

    @Test
    void spoolAlertIsRaisedOnceEscalatesAndClearsWithAnEvent() throws Exception {
        beat("ps-1", 28.0);
        beat("a-1", null);
        Alerts.Outcome first = f.server.evaluateAlerts();
        assertEquals(1, first.raised().size(), first.toString());
        Event warning = first.raised().get(0);
        assertEquals(List.of(AlertRules.SPOOL_LOW, Event.WARNING, "ps-1"),
                List.of(warning.kind(), warning.severity(), warning.subject()));

        f.clock.advance(Duration.ofMinutes(1));
        beat("ps-1", 27.0);
        beat("a-1", null);
        Alerts.Outcome again = f.server.evaluateAlerts();
        assertEquals(List.of(), again.raised(), "still below 30 %: not raised again");
        assertEquals(List.of(), again.cleared());
        assertEquals(List.of(warning.id()), active().stream().map(Event::id).toList());

        f.clock.advance(Duration.ofMinutes(1));
        beat("ps-1", 20.0);
        beat("a-1", null);
        Alerts.Outcome escalated = f.server.evaluateAlerts();
        assertEquals(List.of(warning.id()), escalated.cleared().stream().map(Event::id).toList());
        assertEquals(Event.CRITICAL, escalated.raised().get(0).severity());

        f.clock.advance(Duration.ofMinutes(1));
        beat("ps-1", 31.0);
        beat("a-1", null);
        Alerts.Outcome cleared = f.server.evaluateAlerts();
        assertEquals(1, cleared.cleared().size());
        assertEquals(List.of(), active());

        List<Event> events = f.server.events(0, 50).items();
        assertEquals(4, events.size(), "warning raised, cleared; critical raised, cleared: " + events);
        Event last = events.get(0);
        assertEquals(Event.INFO, last.severity());
        assertFalse(last.alert());
        assertTrue(last.message().startsWith("Cleared alert " + escalated.raised().get(0).id()
                + " (the condition ended): Spool of process-server 'ps-1' has 20 % free"), last.message());
        Event warningNow = f.server.alert(warning.id());
        assertEquals(f.clock.instant().minus(Duration.ofMinutes(1)), warningNow.clearedAt());
        assertEquals(2, f.server.alerts(false, 0, 50).total(), "both alerts are kept, cleared");
    }

    @Test
    void missingHeartbeatIsRaisedAfter15MinutesAndClearedByTheNextHeartbeat() throws Exception {
        beat("ps-1", 90.0);
        beat("a-1", null);
        f.clock.advance(Duration.ofMinutes(15).minusSeconds(1));
        beat("ps-1", 90.0);
        assertEquals(List.of(), f.server.evaluateAlerts().raised(), "a-1 silent for 14 min 59 s");
        f.clock.advance(Duration.ofSeconds(1));
        Alerts.Outcome late = f.server.evaluateAlerts();
        assertEquals(1, late.raised().size());
        assertEquals(List.of(AlertRules.HEARTBEAT_MISSING, "a-1", Event.CRITICAL),
                List.of(late.raised().get(0).kind(), late.raised().get(0).subject(), late.raised().get(0).severity()));
        for (int minute = 0; minute < 5; minute++) {
            f.clock.advance(Duration.ofMinutes(1));
            beat("ps-1", 90.0);
            assertEquals(List.of(), f.server.evaluateAlerts().raised(), "raised once, not every minute");
        }
        beat("a-1", null);
        Alerts.Outcome back = f.server.evaluateAlerts();
        assertEquals(List.of(late.raised().get(0).id()), back.cleared().stream().map(Event::id).toList());
        assertEquals(List.of(), active());
    }

    @Test
    void rpoUsesThePolicyOfTheDisksMachineElseThe30MinuteDefault() throws Exception {
        try (Connection c = f.catalogue.connection()) {
            c.createStatement().executeUpdate("INSERT INTO policies (id, rpo_threshold_seconds, "
                    + "checkpoint_interval_seconds, retention_window_seconds, retention_space_bytes, "
                    + "app_consistency_schedule, compressor, bandwidth_schedule, created_at, updated_at) VALUES "
                    + "('fast', 60, 300, 86400, 0, 'PT1H', 'lz4', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)");
            c.createStatement().executeUpdate("INSERT INTO machines (id, name, kind, agent_id, policy_id, state, "
                    + "created_at) VALUES ('web01', 'web01', 'physical-linux', 'a-1', 'fast', 'protected', "
                    + "CURRENT_TIMESTAMP)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO disks (id, machine_id, name, size_bytes, state) "
                    + "VALUES ('web01:disk0', 'web01', 'sda', 1048576, 'protected')")) {
                ps.executeUpdate();
            }
        }
        beat("ps-1", 90.0);
        beat("a-1", null, disk("web01:disk0", 61, false), disk("other:disk0", 1800, false));
        Alerts.Outcome o = f.server.evaluateAlerts();
        assertEquals(List.of("a-1/web01:disk0"), o.raised().stream().map(Event::subject).toList(),
                "61 s is over the policy's 60 s; 1800 s is not over the 30 min default");
        assertTrue(o.raised().get(0).message().contains("threshold of 60 s of its policy"), o.raised().get(0).message());

        f.clock.advance(Duration.ofMinutes(1));
        beat("ps-1", 90.0);
        beat("a-1", null, disk("web01:disk0", 5, false), disk("other:disk0", 1801, true));
        Alerts.Outcome next = f.server.evaluateAlerts();
        assertEquals(1, next.cleared().size());
        assertEquals(List.of(AlertRules.RESYNC_REQUIRED + " a-1/other:disk0", AlertRules.RPO_EXCEEDED + " a-1/other:disk0"),
                next.raised().stream().map(e -> e.kind() + " " + e.subject()).sorted().toList());
    }

    @Test
    void removingAComponentClearsItsAlerts() throws Exception {
        beat("ps-1", 10.0);
        beat("a-1", null, disk("d", 0, true));
        assertEquals(2, f.server.evaluateAlerts().raised().size());
        f.server.removeComponent("a-1", "admin");
        f.server.removeComponent("ps-1", "admin");
        assertEquals(2, f.server.evaluateAlerts().cleared().size());
        assertEquals(List.of(), active());
        ConfigServerException e = assertThrows(ConfigServerException.class, () -> beat("a-1", null));
        assertEquals(ConfigServerException.Kind.NOT_FOUND, e.kind(), "a removed component's heartbeat is refused");
    }

    @Test
    void acknowledgingIsAuditedAndHappensOnce() throws Exception {
        beat("ps-1", 10.0);
        beat("a-1", null);
        Event alert = f.server.evaluateAlerts().raised().get(0);
        f.clock.advance(Duration.ofSeconds(5));
        Event acked = f.server.acknowledgeAlert(alert.id(), "olivia");
        assertEquals("olivia", acked.acknowledgedBy());
        assertEquals(f.clock.instant(), f.server.alert(alert.id()).acknowledgedAt());
        assertTrue(f.server.alert(alert.id()).active(), "acknowledged alerts stay active");
        ConfigServerException twice = assertThrows(ConfigServerException.class,
                () -> f.server.acknowledgeAlert(alert.id(), "oscar"));
        assertEquals(ConfigServerException.Kind.CONFLICT, twice.kind());
        assertTrue(twice.getMessage().contains("by 'olivia'"), twice.getMessage());
        assertEquals(ConfigServerException.Kind.NOT_FOUND,
                assertThrows(ConfigServerException.class, () -> f.server.acknowledgeAlert(999, "oscar")).kind());
        List<AuditLog.Entry> audit = f.server.recentAudit(3);
        assertEquals(List.of("oscar alert 999 refused: no alert 999", "oscar alert " + alert.id()
                        + " refused: alert " + alert.id() + " was acknowledged already by 'olivia' at " + acked.acknowledgedAt(),
                "olivia alert " + alert.id() + " ok"),
                audit.stream().map(e -> e.actor() + " " + e.target() + " " + e.outcome()).toList());
        assertTrue(audit.stream().allMatch(e -> e.action().equals("alert.acknowledge")));
    }

    @Test
    void outOfOrderHeartbeatsDoNotOverwriteNewerFigures() throws Exception {
        Instant t = f.clock.instant();
        assertTrue(f.server.heartbeat(new Heartbeat("ps-1", t, 10, 50.0, null, null, List.of(disk("d", 7, false)))));
        f.clock.advance(Duration.ofSeconds(30));
        assertFalse(f.server.heartbeat(new Heartbeat("ps-1", t.minusSeconds(10), 99, 5.0, null, null, List.of())),
                "an older heartbeat arriving late is dropped");
        var latest = f.server.latestHeartbeat("ps-1");
        assertEquals(50.0, latest.heartbeat().spoolFreePercent());
        assertEquals(List.of(disk("d", 7, false)), latest.heartbeat().disks());
        assertEquals(f.clock.instant(), f.server.component("ps-1").lastHeartbeat(), "but it counts as a sign of life");
        assertTrue(f.server.heartbeat(new Heartbeat("ps-1", t, 11, 40.0, null, null, List.of())),
                "the same time again replaces (a resend)");
        assertEquals(List.of(), f.server.latestHeartbeat("ps-1").heartbeat().disks(), "disks no longer reported go");
    }

    @Test
    void oldEventsArePrunedButActiveAlertsStay() throws Exception {
        beat("ps-1", 10.0);
        beat("a-1", null, disk("d", 0, true));
        f.server.evaluateAlerts();
        beat("a-1", null, disk("d", 0, false));
        assertEquals(1, f.server.evaluateAlerts().cleared().size());
        assertEquals(3, f.server.events(0, 50).total(), "spool and resync alerts raised, resync cleared");
        f.clock.advance(Duration.ofDays(91));
        beat("ps-1", 10.0);
        beat("a-1", null);
        Alerts.Outcome o = f.server.evaluateAlerts();
        assertEquals(2, o.pruned(), "the cleared resync alert and its clearing event");
        assertEquals(List.of(AlertRules.SPOOL_LOW), active().stream().map(Event::kind).toList());
    }
}
