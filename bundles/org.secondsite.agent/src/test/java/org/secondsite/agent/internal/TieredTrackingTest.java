package org.secondsite.agent.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.replication.Tracking;
import org.secondsite.api.transport.TransportSecurity;

/** Memory, change cache and bitmap mode against a process server that goes away and returns. */
class TieredTrackingTest {
    static final DiskId DISK = DiskId.of("web01:disk0");
    static final int DISK_SIZE = 16 << 20;
    static final int REGION = 64 << 10;
    static final Duration BUDGET = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    static Agent agent(Path dataDir, FakeProcessServer ps, UnaryOperator<TrackingOptions> tracking) throws Exception {
        AgentOptions o = AgentOptions.defaults(new InetSocketAddress("127.0.0.1", 9), dataDir)
                .withBatching(256 << 10, Duration.ofMillis(20)).withBufferBytes(1 << 20)
                .withBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .withTracking(tracking.apply(TrackingOptions.defaults().withRegionBytes(REGION)
                        .withSpillBytes(2 << 20).withClearDelay(Duration.ofMillis(50))));
        TransportSecurity sec = new TransportSecurity(SSLContext.getDefault(), id -> true);
        // the fake process server has no master target to hash: these disks start equal to their (empty) replicas
        return new Agent(o, ResyncOptions.defaults().withoutInitialReplication(), () -> "agent-1", name -> ps,
                () -> sec, name -> null, Clock.systemUTC());
    }

    /** Random writes applied to the source first and then accepted (the order a live replay tolerates). */
    static final class Writer {
        final byte[] source;
        final Random random;
        final Set<Long> regions = new LinkedHashSet<>();
        long written;

        Writer(byte[] source, long seed) {
            this.source = source;
            this.random = new Random(seed);
        }

        void write(Agent.DiskStream sink, int maxLen, int areaBytes) throws IOException {
            int len = 1 + random.nextInt(maxLen);
            int off = random.nextInt(areaBytes - len);
            byte[] data = new byte[len];
            random.nextBytes(data);
            synchronized (source) {
                System.arraycopy(data, 0, source, off, len);
            }
            sink.accept(ChangeRecord.write(off, ByteBuffer.wrap(data)));
            for (long r = off / REGION; r <= (off + len - 1) / REGION; r++) {
                regions.add(r);
            }
            written += len;
        }
    }

    static DiskReplicationStatus status(Agent a) {
        return a.disks().get(0);
    }

    static void awaitReplicated(Agent a, FakeProcessServer ps) {
        await().atMost(BUDGET).until(() -> a.isDrained(DISK) && status(a).lastSequence() > 0
                && ps.durable(DISK) == status(a).lastSequence()
                && (status(a).resync() == null || status(a).resync().phase() == ResyncProgress.Phase.DONE));
    }

    @Test
    void memoryThenSpillThenBitmapAndBackEndWithTheSourcesContent() throws Exception {
        FakeProcessServer ps = new FakeProcessServer();
        ps.up(false);
        byte[] source = new byte[DISK_SIZE];
        try (Agent a = agent(dir, ps, t -> t)) {
            Agent.DiskStream sink = (Agent.DiskStream) a.protect(DISK, null, DISK_SIZE);
            a.attachSource(DISK, new ArrayDevice(source));
            Writer w = new Writer(source, 1);
            List<Tracking.Mode> seen = new ArrayList<>();
            while (w.written < 12L << 20) {
                w.write(sink, 32 << 10, DISK_SIZE);
                Tracking.Mode m = status(a).tracking().mode();
                if (seen.isEmpty() || seen.get(seen.size() - 1) != m) {
                    seen.add(m);
                }
            }
            assertEquals(List.of(Tracking.Mode.MEMORY, Tracking.Mode.SPILL, Tracking.Mode.BITMAP), seen);
            Tracking t = status(a).tracking();
            assertTrue(t.memoryBytes() <= 1 << 20, t.toString());
            assertTrue(t.spilledBytes() > 1 << 20 && t.spilledBytes() <= 2 << 20, t.toString());
            assertTrue(t.dirtyBytes() > 0, t.toString());
            assertTrue(status(a).message().contains("bitmap mode: memory and the change cache"), status(a).message());

            ps.up(true);
            for (int i = 0; i < 200; i++) { // the workload goes on while the cache drains and regions replay
                w.write(sink, 8 << 10, DISK_SIZE);
            }
            sink.flush();
            awaitReplicated(a, ps);
            DiskReplicationStatus s = status(a);
            assertEquals(Tracking.Mode.MEMORY, s.tracking().mode());
            assertEquals(0, s.tracking().dirtyBytes());
            assertEquals(0, s.tracking().spilledBytes());
            assertEquals(0, s.backlogBytes());
            assertEquals(DiskTracking.REASON_BITMAP, s.resync().reason());
            assertTrue(s.resync().sentBytes() > 0 && s.resync().sentBytes() <= (long) w.regions.size() * REGION,
                    s.resync().toString());
            assertEquals(FakeProcessServer.sha256(source), ps.replicaSha256(DISK));
        }
    }

    @Test
    void bitmapModeStartsWhenTheProcessServerStaysUnreachable() throws Exception {
        FakeProcessServer ps = new FakeProcessServer();
        ps.up(false);
        byte[] source = new byte[DISK_SIZE];
        try (Agent a = agent(dir, ps, t -> t.withBitmapAfter(Duration.ofMillis(200)))) {
            Agent.DiskStream sink = (Agent.DiskStream) a.protect(DISK, null, DISK_SIZE);
            a.attachSource(DISK, new ArrayDevice(source));
            Writer w = new Writer(source, 2);
            for (int i = 0; i < 10; i++) {
                w.write(sink, 4096, DISK_SIZE);
            }
            long memory = status(a).tracking().memoryBytes();
            assertTrue(memory > 0);
            await().atMost(BUDGET).until(() -> status(a).tracking().mode() == Tracking.Mode.BITMAP);
            assertTrue(status(a).message().contains("unreachable"), status(a).message());
            for (int i = 0; i < 50; i++) {
                w.write(sink, 4096, DISK_SIZE);
            }
            assertEquals(memory, status(a).tracking().memoryBytes(), "bitmap mode keeps no data");
            assertTrue(status(a).tracking().dirtyBytes() > 0);
            assertNull(status(a).resync(), "no replay while the process server is away");

            ps.up(true);
            awaitReplicated(a, ps);
            assertEquals(DiskTracking.REASON_BITMAP, status(a).resync().reason());
            assertEquals(FakeProcessServer.sha256(source), ps.replicaSha256(DISK));
        }
    }

    @Test
    void theLogIsOnDiskWhenAcceptReturnsAndClearedOnceAcknowledged() throws Exception {
        FakeProcessServer ps = new FakeProcessServer();
        ps.up(false);
        byte[] source = new byte[DISK_SIZE];
        try (Agent a = agent(dir, ps, t -> t)) {
            Agent.DiskStream sink = (Agent.DiskStream) a.protect(DISK, null, DISK_SIZE);
            sink.accept(ChangeRecord.write(5L * REGION + 100, ByteBuffer.wrap(new byte[REGION]))); // regions 5 and 6
            RegionSet onDisk = readLog(a);
            assertEquals(2, onDisk.count(), onDisk.toString());
            assertTrue(onDisk.containsAll(5, 7));

            long[] before = sink.tracking.counters();
            sink.accept(ChangeRecord.write(5L * REGION, ByteBuffer.wrap(new byte[512])));
            long[] after = sink.tracking.counters();
            assertEquals(before[2], after[2], "no page write for an already dirty region");
            assertEquals(before[3], after[3], "no force for an already dirty region");

            ps.up(true);
            sink.flush();
            await().atMost(BUDGET).until(() -> a.isDrained(DISK) && ps.durable(DISK) == status(a).lastSequence());
            await().atMost(BUDGET).until(() -> readLog(a).isEmpty()); // lazily, after the clear delay
            assertEquals(FakeProcessServer.sha256(source), ps.replicaSha256(DISK));
        }
    }

    static RegionSet readLog(Agent a) throws IOException {
        return readLog(a, DISK_SIZE);
    }

    /** The log as the file holds it now, read while the agent runs. */
    static RegionSet readLog(Agent a, long diskSize) throws IOException {
        Path file = a.tracker().logFile(DISK);
        RegionSet s = new RegionSet(DirtyRegionLog.regions(diskSize, REGION));
        List<String> notes = new ArrayList<>();
        DirtyRegionLog.decode(ByteBuffer.wrap(Files.readAllBytes(file)), DISK.value(), diskSize, REGION,
                DirtyRegionLog.currentBootId(), s, notes);
        assertEquals(List.of(), notes, "the log file is intact");
        return s;
    }

    @Test
    void aRestartReplaysExactlyTheRegionsLeftDirtyAndACleanStopNone() throws Exception {
        FakeProcessServer ps = new FakeProcessServer();
        ps.up(false);
        byte[] source = new byte[DISK_SIZE];
        Writer w = new Writer(source, 3);
        try (Agent a = agent(dir, ps, t -> t)) {
            Agent.DiskStream sink = (Agent.DiskStream) a.protect(DISK, null, DISK_SIZE);
            for (int i = 0; i < 40; i++) {
                w.write(sink, 16 << 10, 4 << 20); // the first 4 MiB only
            }
        } // stopped with nothing acknowledged: the log keeps every region written
        ps.up(true);
        try (Agent b = agent(dir, ps, t -> t)) {
            b.protect(DISK, null, DISK_SIZE);
            ResyncProgress waiting = status(b).resync();
            assertNotNull(waiting);
            assertEquals(ResyncProgress.Phase.REPLAYING, waiting.phase());
            assertEquals(DiskTracking.REASON_RESTART, waiting.reason());
            assertTrue(waiting.message().contains("waiting for the source"), waiting.message());
            assertEquals((long) w.regions.size() * REGION, waiting.totalBytes());

            b.attachSource(DISK, new ArrayDevice(source));
            awaitReplicated(b, ps);
            ResyncProgress done = status(b).resync();
            assertEquals(ResyncProgress.Phase.DONE, done.phase());
            assertEquals((long) w.regions.size() * REGION, done.sentBytes(), "exactly the dirty regions");
            assertEquals(FakeProcessServer.sha256(source), ps.replicaSha256(DISK));
        } // drained: a clean stop clears the log
        try (Agent c = agent(dir, ps, t -> t)) {
            c.protect(DISK, null, DISK_SIZE);
            assertNull(status(c).resync(), "nothing to replay after a clean stop of a drained disk");
            assertTrue(readLog(c).isEmpty());
        }
    }

    @Test
    void dirtyRecordsAndRequestedRangesAreReadFromTheSource() throws Exception {
        FakeProcessServer ps = new FakeProcessServer();
        byte[] source = new byte[DISK_SIZE];
        new Random(4).nextBytes(source);
        try (Agent a = agent(dir, ps, t -> t)) {
            Agent.DiskStream sink = (Agent.DiskStream) a.protect(DISK, null, DISK_SIZE);
            a.attachSource(DISK, new ArrayDevice(source));
            sink.accept(ChangeRecord.dirty(0, DISK_SIZE / 2)); // what the scan driver reports without data
            sink.markForReplay(DISK_SIZE / 2, DISK_SIZE / 2); // what the resync engine asks for
            sink.flush();
            awaitReplicated(a, ps);
            assertEquals(DISK_SIZE, sink.tracking.counters()[0], "every byte read once from the source");
            assertEquals(FakeProcessServer.sha256(source), ps.replicaSha256(DISK));
        }
    }
}
