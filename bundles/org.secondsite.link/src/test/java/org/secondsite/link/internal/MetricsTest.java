package org.secondsite.link.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.replication.ResyncProgress;

class MetricsTest {
    private static final Instant T0 = Instant.parse("2030-01-01T12:00:00Z");

    private static ReplicationMonitor monitor(ReplicationMonitor.Stage stage, DiskReplicationStatus status) {
        FakeMonitor m = new FakeMonitor(stage);
        m.disks = List.of(status);
        return m;
    }

    private static DiskReplicationStatus status(String disk, ReplicationMonitor.Stage stage, String state,
                                                long backlog, Instant oldest, long bytesOut) {
        return new DiskReplicationStatus(DiskId.of(disk), stage, state, "", 1, 1, backlog, oldest, null, 0, bytesOut);
    }

    @Test
    void statesTakeTheHeartbeatsForm() {
        assertEquals("replicating", Metrics.state("replicating"));
        assertEquals("holding", Metrics.state("holding: unknown compressor zstd"));
        assertEquals("spool-full", Metrics.state("spool-full"));
        assertEquals("receiver-full", Metrics.state("Receiver Full"));
        assertEquals("s-42", Metrics.state("42"));
        assertEquals("unknown", Metrics.state(""));
        assertEquals("unknown", Metrics.state("::"));
        String longState = Metrics.state("a".repeat(20) + "-" + "b".repeat(20));
        assertTrue(longState.length() <= 32 && longState.matches("[a-z][a-z0-9-]*[a-z0-9]"), longState);
    }

    @Test
    void rpoBacklogAndThroughputPerDisk() {
        Metrics m = new Metrics();
        FakeMonitor agent = new FakeMonitor(ReplicationMonitor.Stage.AGENT);
        agent.disks = List.of(status("web01:disk0", ReplicationMonitor.Stage.AGENT, "replicating", 100,
                T0.minusSeconds(12), 5_000));
        Metrics.Figures first = m.collect(List.of(agent), T0);
        assertEquals(100, first.backlogBytes());
        Metrics.Disk d = first.disks().get(0);
        assertEquals(12, d.rpoSeconds());
        assertEquals(0, d.throughputBytesPerSecond(), "no previous sample");

        agent.disks = List.of(status("web01:disk0", ReplicationMonitor.Stage.AGENT, "replicating", 0, null,
                5_000 + 20_000_000));
        Metrics.Disk next = m.collect(List.of(agent), T0.plusSeconds(10)).disks().get(0);
        assertEquals(2_000_000, next.throughputBytesPerSecond());
        assertEquals(0, next.rpoSeconds(), "nothing pending");

        agent.disks = List.of(status("web01:disk0", ReplicationMonitor.Stage.AGENT, "replicating", 0, null, 10));
        assertEquals(0, m.collect(List.of(agent), T0.plusSeconds(20)).disks().get(0).throughputBytesPerSecond(),
                "a restarted stage counts from zero again: no negative throughput");
    }

    @Test
    void aDiskSeenByTwoStagesIsSentOnce() {
        FakeMonitor agent = new FakeMonitor(ReplicationMonitor.Stage.AGENT);
        FakeMonitor ps = new FakeMonitor(ReplicationMonitor.Stage.PROCESS_SERVER);
        ps.disks = List.of(status("web01:disk0", ReplicationMonitor.Stage.PROCESS_SERVER, "disconnected", 300,
                T0.minusSeconds(40), 0));
        agent.disks = List.of(status("web01:disk0", ReplicationMonitor.Stage.AGENT, "replicating", 100,
                T0.minusSeconds(5), 0), status("db:disk1", ReplicationMonitor.Stage.AGENT, "replicating", 0, null, 0));
        Metrics.Figures f = new Metrics().collect(List.of(ps, agent), T0);
        assertEquals(400, f.backlogBytes());
        assertEquals(List.of("db:disk1", "web01:disk0"), f.disks().stream().map(Metrics.Disk::diskId).toList());
        Metrics.Disk web = f.disks().get(1);
        assertEquals("replicating", web.state(), "the agent's state: the earliest stage");
        assertEquals(40, web.rpoSeconds(), "the largest RPO");
        assertEquals(400, web.backlogBytes());
    }

    @Test
    void resyncRequiredWhenTheStateSaysSoOrTheAgentsResyncFailed() {
        DiskReplicationStatus named = status("a:b", ReplicationMonitor.Stage.MASTER_TARGET, "resync-required", 0, null, 0);
        assertTrue(Metrics.resyncRequired(named));
        ResyncProgress failed = new ResyncProgress(ResyncProgress.Phase.FAILED, "initial replication", 10, 5, 5, T0, T0,
                "source unreadable");
        DiskReplicationStatus agent = new DiskReplicationStatus(DiskId.of("a:b"), ReplicationMonitor.Stage.AGENT,
                "replicating", "", 1, 1, 0, null, null, 0, 0, null, failed);
        assertTrue(Metrics.resyncRequired(agent));
        ResyncProgress running = new ResyncProgress(ResyncProgress.Phase.COMPARING, "initial replication", 10, 5, 5,
                T0, T0, "");
        assertFalse(Metrics.resyncRequired(new DiskReplicationStatus(DiskId.of("a:b"), ReplicationMonitor.Stage.AGENT,
                "replicating", "", 1, 1, 0, null, null, 0, 0, null, running)), "a running resync is not owed");
    }

    @Test
    void aProcessServersSpoolFreeShareIsReportedAndNothingWithoutASpool() {
        Metrics.Figures f = new Metrics().collect(List.of(), T0);
        assertEquals(null, f.withSpool(List.of()).spoolFreePercent(), "no process server here");
        org.secondsite.api.replication.SpoolMonitor spool = new org.secondsite.api.replication.SpoolMonitor() {
            @Override
            public long capacityBytes() {
                return 3L << 30;
            }

            @Override
            public long freeBytes() {
                return 1L << 30;
            }
        };
        assertEquals(33.3, f.withSpool(List.of(spool)).spoolFreePercent());
        String body = new String(HeartbeatBody.encode("ps-1", T0, 0, null, f.withSpool(List.of(spool))),
                java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(body.contains("\"spoolFreePercent\":33.3"), body);
    }

    @Test
    void aRunningResyncIsReportedAsResyncingWithItsPercentage() {
        ResyncProgress running = new ResyncProgress(ResyncProgress.Phase.COMPARING, "initial replication", 1000, 425,
                5, T0, T0, "");
        ReplicationMonitor agent = monitor(ReplicationMonitor.Stage.AGENT, new DiskReplicationStatus(DiskId.of("a:b"),
                ReplicationMonitor.Stage.AGENT, "replicating", "", 1, 1, 0, null, null, 0, 0, null, running));
        Metrics.Disk d = new Metrics().collect(List.of(agent), T0).disks().get(0);
        assertEquals("resyncing", d.state());
        assertEquals(42, d.resyncPercent());
        ResyncProgress done = new ResyncProgress(ResyncProgress.Phase.DONE, "initial replication", 1000, 1000, 5, T0,
                T0, "");
        ReplicationMonitor after = monitor(ReplicationMonitor.Stage.AGENT, new DiskReplicationStatus(DiskId.of("a:b"),
                ReplicationMonitor.Stage.AGENT, "replicating", "", 1, 1, 0, null, null, 0, 0, null, done));
        Metrics.Disk d2 = new Metrics().collect(List.of(after), T0).disks().get(0);
        assertEquals("replicating", d2.state());
        assertEquals(null, d2.resyncPercent());
    }

    @Test
    void aFailingMonitorIsSkippedAndDisksAreCapped() {
        ReplicationMonitor broken = new ReplicationMonitor() {
            @Override
            public Stage stage() {
                return Stage.PROCESS_SERVER;
            }

            @Override
            public List<DiskReplicationStatus> disks() {
                throw new IllegalStateException("closed");
            }
        };
        FakeMonitor agent = new FakeMonitor(ReplicationMonitor.Stage.AGENT);
        List<DiskReplicationStatus> many = new ArrayList<>();
        for (int i = 0; i < Metrics.MAX_DISKS + 3; i++) {
            many.add(status(String.format("m:d%04d", i), ReplicationMonitor.Stage.AGENT, "replicating", 1, null, 0));
        }
        agent.disks = many;
        Metrics.Figures f = new Metrics().collect(List.of(broken, agent), T0);
        assertEquals(Metrics.MAX_DISKS, f.disks().size());
        assertEquals(3, f.omittedDisks());
        assertEquals(Metrics.MAX_DISKS + 3, f.backlogBytes(), "the backlog counts every disk");
    }
}
