package org.secondsite.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor.Stage;

/** A disk whose source fails shows it in its status, with every figure of the stream kept; it clears by itself. */
class SourceProblemStatusTest {
    @Test
    void aSourceProblemBecomesTheDisksStateAndClearsWhenTheSourceRecovers() {
        DiskId d0 = DiskId.of("d0");
        DiskId d1 = DiskId.of("d1");
        Instant t = Instant.parse("2026-11-27T10:00:00Z");
        DiskReplicationStatus s0 = new DiskReplicationStatus(d0, Stage.AGENT, "replicating", "", 7, 5, 4096, t, null, 10, 8);
        DiskReplicationStatus s1 = new DiskReplicationStatus(d1, Stage.AGENT, "replicating", "", 3, 3, 0, null, null, 1, 1);
        AtomicReference<String> problem = new AtomicReference<>("source /dev/sdb vanished (No such device)");
        Map<DiskId, Supplier<String>> problems = Map.of(d0, problem::get);

        List<DiskReplicationStatus> out = AgentComponent.withSourceProblems(List.of(s0, s1), problems);
        assertEquals(AgentComponent.SOURCE_FAILED, out.get(0).state());
        assertTrue(out.get(0).message().startsWith("source /dev/sdb vanished"), out.get(0).message());
        assertTrue(out.get(0).message().contains("changes stay tracked"), out.get(0).message());
        assertEquals(7, out.get(0).lastSequence());
        assertEquals(5, out.get(0).acknowledgedSequence());
        assertEquals(4096, out.get(0).backlogBytes());
        assertEquals(t, out.get(0).oldestPendingWrite());
        assertSame(s1, out.get(1), "a healthy disk is untouched");

        problem.set("");
        assertSame(s0, AgentComponent.withSourceProblems(List.of(s0, s1), problems).get(0), "recovered");
    }
}
