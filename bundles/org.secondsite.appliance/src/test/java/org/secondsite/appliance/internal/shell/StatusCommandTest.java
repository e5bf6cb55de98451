package org.secondsite.appliance.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class StatusCommandTest {
    @Test
    void uptimeIsReadable() {
        assertEquals("00h 00m 05s", StatusCommand.formatUptime(Duration.ofSeconds(5)));
        assertEquals("01h 02m 03s", StatusCommand.formatUptime(Duration.ofSeconds(3723)));
        assertEquals("2d 00h 00m 01s", StatusCommand.formatUptime(Duration.ofDays(2).plusSeconds(1)));
        assertEquals("00h 00m 00s", StatusCommand.formatUptime(Duration.ofSeconds(-3)));
    }

    @Test
    void runningResyncsAreListedWithProgressAndFinishedOnesAreNot() {
        java.time.Instant t0 = java.time.Instant.parse("2026-11-27T10:00:00Z");
        var running = new org.secondsite.api.replication.ResyncProgress(
                org.secondsite.api.replication.ResyncProgress.Phase.COMPARING, "initial replication", 1L << 30,
                1L << 29, 3L << 20, t0, t0.plusSeconds(10), "");
        var done = new org.secondsite.api.replication.ResyncProgress(
                org.secondsite.api.replication.ResyncProgress.Phase.DONE, "initial replication", 1L << 30, 1L << 30,
                0, t0, t0.plusSeconds(20), "");
        var a = new org.secondsite.api.replication.DiskReplicationStatus(org.secondsite.api.model.DiskId.of("d0"),
                org.secondsite.api.replication.ReplicationMonitor.Stage.AGENT, "replicating", "", 1, 1, 0, null, null, 0, 0,
                null, running);
        var b = new org.secondsite.api.replication.DiskReplicationStatus(org.secondsite.api.model.DiskId.of("d1"),
                org.secondsite.api.replication.ReplicationMonitor.Stage.AGENT, "replicating", "", 1, 1, 0, null, null, 0, 0,
                null, done);
        java.util.List<String> lines = StatusCommand.resyncLines(java.util.List.of(a, b));
        assertEquals(1, lines.size(), lines.toString());
        org.junit.jupiter.api.Assertions.assertTrue(lines.get(0).startsWith("d0 (initial replication): "), lines.get(0));
        org.junit.jupiter.api.Assertions.assertTrue(lines.get(0).contains("50.0%"), lines.get(0));
        org.junit.jupiter.api.Assertions.assertTrue(lines.get(0).contains("ETA"), lines.get(0));
    }
}
