package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.agent.internal.ResyncFigures;
import org.secondsite.agent.internal.ResyncOptions;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.DiskFiles;
import org.secondsite.testkit.TestData;

/**
 * The resync end to end: agent, process server and master target over TLS on loopback, file
 * storage. Each test ends with the replica's SHA-256 equal to the source file's.
 */
class ResyncEndToEndTest {
    static final int SIZE = 16 << 20;
    static final int BLOCK = 4096;
    static final Duration BUDGET = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Path source(long seed) throws Exception {
        Path src = dir.resolve("source.img");
        Files.write(src, TestData.mixed(SIZE, seed));
        return src;
    }

    /** Overwrites the given 4 KiB blocks of {@code file} with random data; returns the bytes changed. */
    private static long scribble(Path file, TreeSet<Long> blocks, long seed) throws Exception {
        Random r = new Random(seed);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (long b : blocks) {
                byte[] data = new byte[BLOCK];
                r.nextBytes(data);
                DiskFiles.writeFully(ch, b * BLOCK, ByteBuffer.wrap(data));
            }
            ch.force(false);
        }
        return blocks.size() * (long) BLOCK;
    }

    /** Random blocks, with runs of adjacent ones and the disk's first and last block. */
    private static TreeSet<Long> someBlocks(int count, long seed) {
        Random r = new Random(seed);
        TreeSet<Long> blocks = new TreeSet<>();
        blocks.add(0L);
        blocks.add(SIZE / BLOCK - 1L);
        while (blocks.size() < count) {
            long b = r.nextInt(SIZE / BLOCK - 4);
            int run = 1 + r.nextInt(3);
            for (int i = 0; i < run; i++) {
                blocks.add(b + i);
            }
        }
        return blocks;
    }

    private static ResyncProgress awaitDone(Pipeline p, String reason) {
        await().atMost(BUDGET).pollInterval(Duration.ofMillis(20)).until(() -> p.agent.resyncProgress(Pipeline.DISK)
                .filter(r -> r.reason().equals(reason) && (r.phase() == ResyncProgress.Phase.DONE
                        || r.phase() == ResyncProgress.Phase.FAILED)).isPresent());
        ResyncProgress r = p.agent.resyncProgress(Pipeline.DISK).orElseThrow();
        assertEquals(ResyncProgress.Phase.DONE, r.phase(), r.message());
        return r;
    }

    private static void awaitApplied(Pipeline p) {
        await().atMost(BUDGET).pollInterval(Duration.ofMillis(20)).until(() -> p.agent.isDrained(Pipeline.DISK)
                && p.mt.lastApplied(Pipeline.DISK) == p.agent.disks().get(0).lastSequence());
    }

    @Test
    void initialReplicationThenAResyncSendsExactlyTheDivergedBlocks() throws Exception {
        Path src = source(21);
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.startMt().startPs().startAgent(o -> o);
            p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            p.agent.attachSource(Pipeline.DISK, disk);
            ResyncProgress initial = awaitDone(p, "initial replication");
            awaitApplied(p);
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
            assertEquals(SIZE, initial.doneBytes());
            assertEquals(100.0, initial.percent());
            ResyncFigures first = p.agent.resyncFigures(Pipeline.DISK);
            assertTrue(first.dataBytesSent() > SIZE / 2 && first.dataBytesSent() <= SIZE,
                    "an empty replica gets the source's non-zero blocks: " + first);

            // the replica diverges behind the master target's back (a lost batch, a bad disk...)
            TreeSet<Long> blocks = someBlocks(57, 5);
            long changed = scribble(p.replicaPath(), blocks, 6);
            assertNotEquals(Pipeline.sha256(src), p.replicaSha256());
            p.agent.requestResync(Pipeline.DISK, "test: replica diverged");
            ResyncProgress again = awaitDone(p, "test: replica diverged");
            awaitApplied(p);
            ResyncFigures second = p.agent.resyncFigures(Pipeline.DISK);
            assertEquals(changed, second.dataBytesSent() - first.dataBytesSent(), "exactly the diverged blocks travel");
            assertEquals(changed, again.sentBytes());
            assertEquals(Pipeline.sha256(src), p.replicaSha256());

            DiskReplicationStatus status = p.agent.disks().get(0);
            assertNotNull(status.resync());
            assertEquals(ResyncProgress.Phase.DONE, status.resync().phase());
            assertTrue(status.resync().message().contains("resync complete"), status.resync().message());
        }
    }

    @Test
    void offlineSeededReplicaGetsOnlyTheDifferences() throws Exception {
        Path src = source(22);
        Path replica;
        try (Pipeline p = new Pipeline(dir)) {
            replica = p.replicaPath();
        }
        Files.createDirectories(replica.getParent());
        Files.copy(src, replica); // seeded by other means, e.g. cp from a backup
        TreeSet<Long> blocks = someBlocks(91, 7);
        long changed = scribble(src, blocks, 8); // the source moved on since the copy
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.startMt().startPs().startAgent(o -> o);
            p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            p.agent.attachSource(Pipeline.DISK, disk);
            ResyncProgress done = awaitDone(p, "initial replication");
            awaitApplied(p);
            ResyncFigures f = p.agent.resyncFigures(Pipeline.DISK);
            assertEquals(changed, f.dataBytesSent(), "only the blocks changed since the copy travel: " + f);
            assertEquals(changed, done.sentBytes());
            long chunkHashes = SIZE / ResyncOptions.defaults().chunkBytes() * 16L;
            assertTrue(f.hashBytesReceived() <= chunkHashes + blocks.size() * 16L * (ResyncOptions.defaults().chunkBytes() / BLOCK),
                    "hash traffic stays small: " + f.hashBytesReceived() + " bytes");
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
        }
    }

    @Test
    void writesDuringTheResyncConverge() throws Exception {
        Path src = source(23);
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.resyncOptions = p.resyncOptions.withLevels(64 << 10, 4096, 1 << 20);
            p.startMt().startPs().startAgent(o -> o.withBatching(1 << 20, Duration.ofMillis(20)).withBufferBytes(4 << 20));
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            disk.holdFrom(SIZE / 2); // the resync stops half way while the workload writes
            p.agent.attachSource(Pipeline.DISK, disk);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong writes = new AtomicLong();
            byte[] pool = TestData.mixed(1 << 20, 24);
            Thread writer = new Thread(() -> {
                Random r = new Random(25);
                try {
                    while (!stop.get()) {
                        // a workload the link keeps up with: it pauses while 8 MiB wait to be sent (the agent
                        // would otherwise spill and leave these writes' regions to a replay, never pacing them)
                        while (!stop.get() && p.agent.disks().get(0).backlogBytes() > 8 << 20) {
                            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                        }
                        int len = 1 + r.nextInt(r.nextBoolean() ? BLOCK : 32 << 10);
                        long off = r.nextInt(SIZE - len);
                        byte[] data = new byte[len];
                        System.arraycopy(pool, r.nextInt(pool.length - len), data, 0, len);
                        disk.write(sink, off, data);
                        writes.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "workload");
            writer.start();
            await().atMost(BUDGET).until(() -> disk.heldReads.get() > 0 && writes.get() > 1000);
            disk.release();
            awaitDone(p, "initial replication");
            long atDone = writes.get();
            await().atMost(BUDGET).until(() -> writes.get() > atDone + 300); // and writes go on after it
            stop.set(true);
            writer.join();
            sink.flush();
            awaitApplied(p);
            assertEquals(Pipeline.sha256(src), p.replicaSha256(), "replica of " + writes.get() + " writes");
        }
    }

    @Test
    void aWorkloadWriteRacingAnAppendIsComparedAgainLater() throws Exception {
        Path src = source(28);
        Path replica;
        try (Pipeline p = new Pipeline(dir)) {
            replica = p.replicaPath();
        }
        Files.createDirectories(replica.getParent());
        Files.copy(src, replica);
        long block = 1000;
        long changed = scribble(src, new TreeSet<>(java.util.List.of(block)), 29);
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.resyncOptions = p.resyncOptions.withRetry(Duration.ofSeconds(30), Duration.ofMillis(20), Duration.ofMillis(200));
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            // the first read covering the block hashes its segment; the second reads its differing chunk to send it
            disk.holdNthReadCovering(block * BLOCK + 100, 2);
            p.agent.attachSource(Pipeline.DISK, disk);
            await().atMost(BUDGET).until(() -> disk.heldReads.get() > 0);
            disk.write(sink, block * BLOCK + 100, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}); // the workload writes meanwhile
            disk.release();
            ResyncProgress done = awaitDone(p, "initial replication");
            awaitApplied(p);
            ResyncFigures f = p.agent.resyncFigures(Pipeline.DISK);
            assertTrue(f.appendsRefused() >= 1, "the racing write refused the append: " + f);
            assertEquals(changed, done.sentBytes(), "the block travels once, when compared again");
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
        }
    }

    @Test
    void masterTargetRestartMidResyncConverges() throws Exception {
        Path src = source(26);
        Path replica;
        try (Pipeline p = new Pipeline(dir)) {
            replica = p.replicaPath();
        }
        Files.createDirectories(replica.getParent());
        Files.copy(src, replica);
        TreeSet<Long> blocks = new TreeSet<>();
        for (long b = 3; b < SIZE / BLOCK; b += 19) {
            blocks.add(b);
        }
        long changed = scribble(src, blocks, 27);
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.resyncOptions = p.resyncOptions.withLevels(64 << 10, 4096, 1 << 20)
                    .withRetry(Duration.ofSeconds(30), Duration.ofMillis(50), Duration.ofMillis(500));
            p.startMt().startPs().startAgent(o -> o);
            p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            disk.holdFrom(SIZE / 2);
            p.agent.attachSource(Pipeline.DISK, disk);
            await().atMost(BUDGET).until(() -> disk.heldReads.get() > 0
                    && p.agent.resyncProgress(Pipeline.DISK).orElseThrow().doneBytes() > 0);
            ResyncProgress mid = p.agent.resyncProgress(Pipeline.DISK).orElseThrow();
            assertEquals(ResyncProgress.Phase.COMPARING, mid.phase());
            assertTrue(mid.doneBytes() < SIZE, "stopped mid-way: " + mid);
            p.mt.close();
            disk.release(); // queries now meet a process server without master target: RETRY
            await().atMost(BUDGET).until(() -> p.agent.resyncFigures(Pipeline.DISK).retries() > 0
                    && p.agent.resyncProgress(Pipeline.DISK).orElseThrow().message().contains("retrying"));
            p.startMt();
            ResyncProgress done = awaitDone(p, "initial replication");
            awaitApplied(p);
            assertEquals(changed, done.sentBytes());
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
        }
    }
}
