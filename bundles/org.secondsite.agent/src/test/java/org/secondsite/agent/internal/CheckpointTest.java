package org.secondsite.agent.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

/** Checkpoint tags: one id per group, one moment for all its disks, none for an idle group. */
class CheckpointTest {
    static final DiskId A = DiskId.of("db01:disk0");
    static final DiskId B = DiskId.of("db01:disk1");
    static final DiskId C = DiskId.of("web01:disk0");
    static final GroupId APP = GroupId.of("app");
    static final GroupId IDLE = GroupId.of("idle");
    static final Duration BUDGET = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** An agent with no process server (batches stay in memory) and the given checkpoint interval. */
    static Agent agent(Path dataDir, Duration checkpoints) throws Exception {
        AgentOptions o = AgentOptions.defaults(new InetSocketAddress("127.0.0.1", 9), dataDir)
                .withBatching(64 << 10, Duration.ofMillis(20)).withCheckpointInterval(checkpoints);
        return new Agent(o, ResyncOptions.defaults().withoutInitialReplication(), () -> "agent-1", name -> null,
                () -> null, name -> null, Clock.systemUTC());
    }

    /**
     * One writer alternates between the two disks of a group, each write carrying a counter; a write
     * is issued only after the previous one was acknowledged. A cut is consistent iff the counters
     * before a checkpoint on both disks together are exactly 0..k: a non-atomic cut would let
     * write n+1 (disk B) in before the tag while write n (disk A) falls after it.
     */
    @Test
    void checkpointsOfATwoDiskGroupShareAnIdAndCutBothStreamsAtOneMoment() throws Exception {
        try (Agent agent = agent(dir, Duration.ofMillis(100))) {
            ChangeSink a = agent.protect(A, APP, 64 << 20);
            ChangeSink b = agent.protect(B, APP, 64 << 20);
            agent.protect(C, IDLE, 1 << 20);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            long[] issued = {0};
            Thread writer = new Thread(() -> {
                try {
                    for (long n = 0; !stop.get(); n++) {
                        ByteBuffer data = ByteBuffer.allocate(512).putLong(0, n);
                        (n % 2 == 0 ? a : b).accept(ChangeRecord.write((n / 2 % 4096) * 512, data));
                        issued[0] = n + 1;
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            writer.start();
            try {
                await().atMost(BUDGET).until(() -> checkpoints(agent.pendingBatches(A)).size() >= 8
                        || failed.get() != null);
            } finally {
                stop.set(true);
                writer.join();
            }
            assertEquals(null, failed.get());

            Map<UUID, Long> cutA = cuts(agent.pendingBatches(A));
            Map<UUID, Long> cutB = cuts(agent.pendingBatches(B));
            assertTrue(cutA.size() >= 8, "checkpoints on A: " + cutA.size());
            assertEquals(cutA.keySet(), cutB.keySet(), "both disks carry the same checkpoint ids, in the same order");
            assertEquals(new ArrayList<>(cutA.keySet()), new ArrayList<>(cutB.keySet()));
            Map<UUID, ConsistencyTag> tagsA = checkpoints(agent.pendingBatches(A));
            Map<UUID, ConsistencyTag> tagsB = checkpoints(agent.pendingBatches(B));
            for (UUID id : cutA.keySet()) {
                assertEquals(tagsA.get(id), tagsB.get(id), "one tag (id, name, kind, time) on both disks");
                assertEquals(TagKind.CHECKPOINT, tagsA.get(id).kind());
            }
            // the cut property, checked per checkpoint on the counters of both disks' records before it
            List<DeltaBatch> batchesA = agent.pendingBatches(A);
            List<DeltaBatch> batchesB = agent.pendingBatches(B);
            for (UUID id : cutA.keySet()) {
                TreeSet<Long> before = new TreeSet<>();
                before.addAll(countersUpTo(batchesA, id));
                before.addAll(countersUpTo(batchesB, id));
                long k = before.isEmpty() ? -1 : before.last();
                assertEquals(k + 1, before.size(), "checkpoint " + id + ": the writes before it on both disks are "
                        + "not a prefix of the write order: " + gaps(before));
            }
            assertTrue(checkpoints(agent.pendingBatches(C)).isEmpty(), "the idle group got no checkpoint");
            assertTrue(issued[0] > 16);
        }
    }

    @Test
    void anIdleGroupGetsNoCheckpointAndAWrittenOneGetsOneOnEveryDisk() throws Exception {
        try (Agent agent = agent(dir, Duration.ZERO)) {
            ChangeSink a = agent.protect(A, APP, 1 << 20);
            agent.protect(B, APP, 1 << 20);
            agent.protect(C, IDLE, 1 << 20);
            assertEquals(0, agent.checkpoint(), "no write yet: no checkpoint");
            a.accept(ChangeRecord.write(0, ByteBuffer.allocate(4096)));
            assertEquals(1, agent.checkpoint(), "group app was written");
            assertEquals(0, agent.checkpoint(), "idle since");
            assertEquals(1, checkpoints(agent.pendingBatches(A)).size());
            assertEquals(checkpoints(agent.pendingBatches(A)), checkpoints(agent.pendingBatches(B)),
                    "the disk of the group that was not written carries the same checkpoint");
            assertTrue(agent.pendingBatches(C).isEmpty());
            DeltaBatch onB = agent.pendingBatches(B).get(0);
            assertTrue(onB.records().isEmpty(), "a tag-only batch on the unwritten disk");
            assertEquals(Agent.CHECKPOINT_NAME, onB.tags().get(0).name());
        }
    }

    /** A policy change: checkpoints start, change pace and stop while the disk stays protected. */
    @Test
    void theCheckpointIntervalChangesLiveWithoutReprotecting() throws Exception {
        try (Agent agent = agent(dir, Duration.ZERO)) {
            ChangeSink a = agent.protect(A, APP, 1 << 20);
            agent.protect(B, APP, 1 << 20);
            a.accept(ChangeRecord.write(0, ByteBuffer.allocate(4096)));
            assertEquals(Duration.ZERO, agent.checkpointInterval());
            agent.checkpointInterval(Duration.ofMillis(100));
            assertEquals(Duration.ofMillis(100), agent.checkpointInterval());
            await("a checkpoint at the new interval").atMost(BUDGET)
                    .until(() -> checkpoints(agent.pendingBatches(A)).size() == 1);
            agent.checkpointInterval(Duration.ZERO);
            int taken = checkpoints(agent.pendingBatches(A)).size();
            a.accept(ChangeRecord.write(4096, ByteBuffer.allocate(4096)));
            assertEquals(1, agent.checkpoint(), "a manual checkpoint still works: the written group gets one");
            assertEquals(taken + 1, checkpoints(agent.pendingBatches(A)).size(), "none taken by a schedule");
            assertThrows(IllegalArgumentException.class, () -> agent.checkpointInterval(Duration.ofMillis(50)));
            assertEquals(Duration.ZERO, agent.checkpointInterval(), "a refused interval changes nothing");
        }
    }

    @Test
    void checkpointIntervalOutsideItsRangeIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.checkpoint(99));
        assertTrue(e.getMessage().contains("checkpointMillis must be 100..3600000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Settings.checkpoint(3_600_001));
        assertTrue(e.getMessage().contains("was 3600001"), e.getMessage());
        assertEquals(Duration.ofMillis(100), Settings.checkpoint(100));
        assertThrows(IllegalArgumentException.class, () -> AgentOptions.defaults(new InetSocketAddress("h", 1), dir)
                .withCheckpointInterval(Duration.ofMillis(50)));
    }

    @Test
    void aGroupTagIsRefusedForAnUnknownGroupAndInsertedOnEveryDiskOfAKnownOne() throws Exception {
        try (Agent agent = agent(dir, Duration.ZERO)) {
            agent.protect(A, APP, 1 << 20);
            agent.protect(B, APP, 1 << 20);
            ConsistencyTag t = new ConsistencyTag(UUID.randomUUID(), "t", TagKind.BOOKMARK, java.time.Instant.now());
            Agent.Insertion none = agent.insertTag(GroupId.of("nope"), t);
            assertFalse(none.ok());
            assertTrue(none.refusal().contains("group nope has no disk protected by this agent (groups here: [app])"),
                    none.refusal());
            Agent.Insertion ins = agent.insertTag(APP, t);
            assertTrue(ins.ok(), ins.refusal());
            assertEquals(List.of(A, B), ins.disks());
            assertEquals(List.of(t), agent.pendingBatches(A).get(0).tags());
            assertEquals(List.of(t), agent.pendingBatches(B).get(0).tags());
        }
    }

    static Map<UUID, ConsistencyTag> checkpoints(List<DeltaBatch> batches) {
        Map<UUID, ConsistencyTag> out = new LinkedHashMap<>();
        for (DeltaBatch b : batches) {
            for (ConsistencyTag t : b.tags()) {
                if (t.kind() == TagKind.CHECKPOINT) {
                    out.put(t.id(), t);
                }
            }
        }
        return out;
    }

    /** Checkpoint id -> number of records before it, in stream order. */
    static Map<UUID, Long> cuts(List<DeltaBatch> batches) {
        Map<UUID, Long> out = new LinkedHashMap<>();
        long records = 0;
        for (DeltaBatch b : batches) {
            records += b.records().size();
            for (ConsistencyTag t : b.tags()) {
                if (t.kind() == TagKind.CHECKPOINT) {
                    out.put(t.id(), records);
                }
            }
        }
        return out;
    }

    static List<Long> countersUpTo(List<DeltaBatch> batches, UUID tag) {
        List<Long> out = new ArrayList<>();
        for (DeltaBatch b : batches) {
            for (ChangeRecord r : b.records()) {
                out.add(r.data().getLong(0));
            }
            if (b.tags().stream().anyMatch(t -> t.id().equals(tag))) {
                return out;
            }
        }
        throw new AssertionError("tag " + tag + " not found");
    }

    private static String gaps(TreeSet<Long> s) {
        List<Long> missing = new ArrayList<>();
        long expect = 0;
        for (long v : s) {
            while (expect < v && missing.size() < 10) {
                missing.add(expect++);
            }
            expect = v + 1;
        }
        return "missing " + missing + " below " + s.last();
    }
}
