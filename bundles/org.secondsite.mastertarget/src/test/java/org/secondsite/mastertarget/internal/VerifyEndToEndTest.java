package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.agent.internal.ResyncFigures;
import org.secondsite.agent.internal.VerifyReport;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;
import org.secondsite.testkit.TestData;

/**
 * Online verification end to end (agent, process server, master target over TLS, file storage):
 * the replica is corrupted behind the master target's back, a verification reports exactly the
 * corrupted regions and changes nothing, the repair makes the replica's SHA-256 equal the source's,
 * and workload writes during a verification cause no false mismatch.
 */
class VerifyEndToEndTest {
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

    /** Overwrites the given 4 KiB blocks of the replica file directly, behind the master target's back. */
    private static void corrupt(Path replica, TreeSet<Long> blocks, long seed) throws Exception {
        Random r = new Random(seed);
        try (FileChannel ch = FileChannel.open(replica, StandardOpenOption.WRITE)) {
            for (long b : blocks) {
                byte[] data = new byte[BLOCK];
                r.nextBytes(data);
                DiskFiles.writeFully(ch, b * BLOCK, ByteBuffer.wrap(data));
            }
            ch.force(false);
        }
    }

    /** Random blocks in [fromBlock, toBlock), some in runs of adjacent ones, plus {@code fromBlock} and {@code toBlock - 1}. */
    private static TreeSet<Long> someBlocks(int count, long fromBlock, long toBlock, long seed) {
        Random r = new Random(seed);
        TreeSet<Long> blocks = new TreeSet<>(List.of(fromBlock, toBlock - 1));
        while (blocks.size() < count) {
            long b = fromBlock + r.nextInt((int) (toBlock - fromBlock - 4));
            int run = 1 + r.nextInt(3);
            for (int i = 0; i < run; i++) {
                blocks.add(b + i);
            }
        }
        return blocks;
    }

    /** The blocks as merged regions, as a verification reports them. */
    private static List<VerifyReport.Region> regions(TreeSet<Long> blocks) {
        VerifyReport.Regions r = new VerifyReport.Regions();
        for (long b : blocks) {
            r.add(b * BLOCK, BLOCK);
        }
        return r.list();
    }

    /** Starts a verification (or repair) and waits for its report. */
    private static VerifyReport run(Pipeline p, VerifyReport.Mode mode) throws Exception {
        VerifyReport before = p.agent.verifyReport(Pipeline.DISK).orElse(null);
        // a resync shows DONE a moment before its job has ended: until then a verification is refused
        await().atMost(BUDGET).pollInterval(Duration.ofMillis(10)).until(() -> refusal(p, mode) == null);
        await().atMost(BUDGET).pollInterval(Duration.ofMillis(20)).until(() ->
                p.agent.verifyReport(Pipeline.DISK).filter(r -> r != before).isPresent());
        VerifyReport r = p.agent.verifyReport(Pipeline.DISK).orElseThrow();
        assertEquals(mode, r.mode());
        return r;
    }

    /** Starts a verification: null, or the message of the refusal while a resync's job ends. */
    private static String refusal(Pipeline p, VerifyReport.Mode mode) throws Exception {
        try {
            p.agent.verify(Pipeline.DISK, mode);
            return null;
        } catch (IllegalStateException e) {
            if (e.getMessage().startsWith("a resync of disk " + Pipeline.DISK + " is running")) {
                return e.getMessage();
            }
            throw e;
        }
    }

    private static void awaitInitial(Pipeline p) {
        await().atMost(BUDGET).pollInterval(Duration.ofMillis(20)).until(() -> p.agent.resyncProgress(Pipeline.DISK)
                .filter(r -> r.phase() == ResyncProgress.Phase.DONE || r.phase() == ResyncProgress.Phase.FAILED)
                .isPresent());
        ResyncProgress r = p.agent.resyncProgress(Pipeline.DISK).orElseThrow();
        assertEquals(ResyncProgress.Phase.DONE, r.phase(), r.message());
    }

    private static void awaitApplied(Pipeline p) {
        await().atMost(BUDGET).pollInterval(Duration.ofMillis(20)).until(() -> p.agent.isDrained(Pipeline.DISK)
                && p.mt.lastApplied(Pipeline.DISK) == p.agent.disks().get(0).lastSequence());
    }

    @Test
    void verifyReportsExactlyTheCorruptedRegionsAndChangesNothingThenTheRepairFixesThem() throws Exception {
        Path src = source(41);
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.startMt().startPs().startAgent(o -> o);
            p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            p.agent.attachSource(Pipeline.DISK, disk);
            awaitInitial(p);
            awaitApplied(p);
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
            assertTrue(run(p, VerifyReport.Mode.VERIFY).clean(), "a replica equal to its source verifies clean");

            TreeSet<Long> blocks = someBlocks(37, 0, SIZE / BLOCK, 42);
            corrupt(p.replicaPath(), blocks, 43);
            String corrupted = p.replicaSha256();
            assertNotEquals(Pipeline.sha256(src), corrupted);
            ResyncFigures before = p.agent.resyncFigures(Pipeline.DISK);
            long sequence = p.agent.disks().get(0).lastSequence();

            VerifyReport r = run(p, VerifyReport.Mode.VERIFY);
            assertEquals(VerifyReport.Outcome.COMPLETED, r.outcome(), r.reason());
            assertEquals(regions(blocks), r.mismatched(), "exactly the corrupted blocks, merged");
            assertEquals(blocks.size() * (long) BLOCK, r.mismatchBytes());
            assertEquals(List.of(), r.skipped());
            assertEquals(SIZE, r.bytesCompared());
            assertEquals(0, r.repairedBytes());
            assertEquals(corrupted, p.replicaSha256(), "a verification leaves the replica as it is");
            assertEquals(before.dataBytesSent(), p.agent.resyncFigures(Pipeline.DISK).dataBytesSent(), "nothing sent");
            assertEquals(sequence, p.agent.disks().get(0).lastSequence(), "no batch sealed: nothing was written");
            ResyncProgress shown = p.agent.disks().get(0).resync();
            assertEquals("verification", shown.reason());
            assertEquals(ResyncProgress.Phase.DONE, shown.phase());
            assertTrue(shown.message().startsWith("verified: " + r.mismatchCount() + " mismatched region(s)"),
                    shown.message());

            VerifyReport repair = run(p, VerifyReport.Mode.REPAIR);
            assertEquals(VerifyReport.Outcome.COMPLETED, repair.outcome(), repair.reason());
            assertEquals(r.mismatched(), repair.mismatched());
            assertEquals(r.mismatchBytes(), repair.repairedBytes(), "only the mismatched blocks travel");
            awaitApplied(p);
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
            assertTrue(run(p, VerifyReport.Mode.VERIFY).clean(), "clean after the repair");
        }
    }

    @Test
    void verifyAndRepairInOnePass() throws Exception {
        Path src = source(44);
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.startMt().startPs().startAgent(o -> o);
            p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            p.agent.attachSource(Pipeline.DISK, disk);
            awaitInitial(p);
            awaitApplied(p);
            TreeSet<Long> blocks = someBlocks(23, 0, SIZE / BLOCK, 45);
            corrupt(p.replicaPath(), blocks, 46);

            VerifyReport r = run(p, VerifyReport.Mode.VERIFY_AND_REPAIR);
            assertEquals(VerifyReport.Outcome.COMPLETED, r.outcome(), r.reason());
            assertEquals(regions(blocks), r.mismatched());
            assertEquals(SIZE, r.bytesCompared());
            assertEquals(r.mismatchBytes(), r.repairedBytes());
            awaitApplied(p);
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
        }
    }

    @Test
    void writesDuringTheVerificationCauseNoFalseMismatch() throws Exception {
        Path src = source(47);
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.resyncOptions = p.resyncOptions.withLevels(64 << 10, 4096, 1 << 20)
                    .withRetry(Duration.ofSeconds(30), Duration.ofMillis(20), Duration.ofMillis(200));
            p.startMt().startPs().startAgent(o -> o.withBatching(1 << 20, Duration.ofMillis(20)).withBufferBytes(8 << 20));
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            p.agent.attachSource(Pipeline.DISK, disk);
            awaitInitial(p);
            awaitApplied(p);
            // the workload writes the first half; the second half of the replica is corrupted
            TreeSet<Long> blocks = someBlocks(29, SIZE / BLOCK / 2, SIZE / BLOCK, 48);
            corrupt(p.replicaPath(), blocks, 49);

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong writes = new AtomicLong();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            byte[] pool = TestData.mixed(1 << 20, 50);
            Thread writer = new Thread(() -> {
                Random r = new Random(51);
                try {
                    while (!stop.get()) {
                        while (!stop.get() && p.agent.disks().get(0).backlogBytes() > 2 << 20) {
                            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // paced by the link
                        }
                        int len = 1 + r.nextInt(r.nextBoolean() ? BLOCK : 32 << 10);
                        long off = r.nextInt(SIZE / 2 - len);
                        byte[] data = new byte[len];
                        System.arraycopy(pool, r.nextInt(pool.length - len), data, 0, len);
                        disk.write(sink, off, data);
                        writes.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "workload");
            writer.start();
            try {
                await().atMost(BUDGET).until(() -> writes.get() > 200);
                long atStart = writes.get();
                long rechecksBefore = p.agent.resyncFigures(Pipeline.DISK).appendsRefused();
                VerifyReport r = run(p, VerifyReport.Mode.VERIFY);
                long rechecks = p.agent.resyncFigures(Pipeline.DISK).appendsRefused() - rechecksBefore;
                assertTrue(writes.get() > atStart + 50, "the workload wrote during the verification: "
                        + (writes.get() - atStart));
                assertEquals(VerifyReport.Outcome.COMPLETED, r.outcome(), r.reason());
                assertEquals(regions(blocks), r.mismatched(), "only the corrupted blocks, none the workload wrote ("
                        + rechecks + " written ranges compared again, skipped " + r.skipped() + ")");
                for (VerifyReport.Region s : r.skipped()) {
                    assertTrue(s.end() <= SIZE / 2, "skipped only where the workload writes: " + s);
                }
                VerifyReport repair = run(p, VerifyReport.Mode.REPAIR);
                assertEquals(VerifyReport.Outcome.COMPLETED, repair.outcome(), repair.reason());
                assertEquals(r.mismatchBytes(), repair.repairedBytes());
            } finally {
                stop.set(true);
                writer.join();
            }
            assertEquals(null, failed.get());
            sink.flush();
            awaitApplied(p);
            assertEquals(Pipeline.sha256(src), p.replicaSha256(), "replica of " + writes.get() + " writes");
        }
    }

    @Test
    void aRegionWrittenAtEveryComparisonIsSkippedThenJudgedOnceTheWritesStop() throws Exception {
        Path src = source(53);
        long hot = 2000; // a corrupted block the workload writes (8 bytes of it) at every read of it
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.resyncOptions = p.resyncOptions.withRetry(Duration.ofSeconds(30), Duration.ofMillis(20), Duration.ofMillis(100));
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            WritingOnRead source = new WritingOnRead(disk, sink, hot * BLOCK + 100);
            p.agent.attachSource(Pipeline.DISK, source);
            awaitInitial(p);
            awaitApplied(p);
            TreeSet<Long> blocks = someBlocks(17, 0, SIZE / BLOCK, 54);
            blocks.removeAll(List.of(hot - 1, hot, hot + 1));
            TreeSet<Long> all = new TreeSet<>(blocks);
            all.add(hot);
            corrupt(p.replicaPath(), all, 55);

            source.armed = true; // every read covering the hot block, from now on, first writes it
            VerifyReport r = run(p, VerifyReport.Mode.VERIFY);
            source.armed = false;
            assertEquals(VerifyReport.Outcome.COMPLETED, r.outcome(), r.reason());
            assertEquals(List.of(new VerifyReport.Region(hot * BLOCK, BLOCK)), r.skipped(),
                    "written at each of the comparisons: skipped");
            assertEquals(regions(blocks), r.mismatched(), "the hot block is not reported as a mismatch");
            assertTrue(source.writes.get() > 8, "compared again after each write: " + source.writes.get() + " writes");

            sink.flush();
            awaitApplied(p);
            VerifyReport quiet = run(p, VerifyReport.Mode.VERIFY); // the writes stopped: now it is judged
            assertEquals(regions(all), quiet.mismatched());
            assertEquals(List.of(), quiet.skipped());
            VerifyReport repair = run(p, VerifyReport.Mode.REPAIR);
            assertEquals(VerifyReport.Outcome.COMPLETED, repair.outcome(), repair.reason());
            awaitApplied(p);
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
        }
    }

    /** A source that, while armed, applies a small workload write at {@code at} before each read covering it. */
    private static final class WritingOnRead implements BlockDevice {
        final SourceDisk inner;
        final ChangeSink sink;
        final long at;
        final AtomicLong writes = new AtomicLong();
        volatile boolean armed;

        WritingOnRead(SourceDisk inner, ChangeSink sink, long at) {
            this.inner = inner;
            this.sink = sink;
            this.at = at;
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            if (armed && offset <= at && at < offset + dst.remaining()) {
                long n = writes.incrementAndGet();
                inner.write(sink, at, new byte[] {(byte) n, (byte) (n >> 8), 1, 2, 3, 4, 5, 6});
            }
            inner.read(offset, dst);
        }

        @Override
        public void write(long offset, ByteBuffer src) throws java.io.IOException {
            throw new java.io.IOException("the source is written through SourceDisk.write(sink, ...)");
        }

        @Override
        public void zero(long offset, long length) throws java.io.IOException {
            throw new java.io.IOException("read-only source");
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean isReadOnly() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aReplicaOwingAResyncIsRefused() throws Exception {
        Path src = source(52);
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.startMt().startPs().startAgent(o -> o);
            p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            p.agent.attachSource(Pipeline.DISK, new Failing(disk));
            await().atMost(BUDGET).pollInterval(Duration.ofMillis(20)).until(() -> p.agent.resyncProgress(Pipeline.DISK)
                    .filter(r -> r.phase() == ResyncProgress.Phase.FAILED).isPresent());
            // the failed resync shows FAILED a moment before its job has ended
            await().atMost(BUDGET).pollInterval(Duration.ofMillis(10)).until(() -> !assertThrows(
                    IllegalStateException.class, () -> p.agent.verify(Pipeline.DISK, VerifyReport.Mode.VERIFY))
                    .getMessage().startsWith("a resync of disk web01:disk0 is running"));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> p.agent.verify(Pipeline.DISK, VerifyReport.Mode.VERIFY));
            assertEquals("the replica of disk web01:disk0 is not consistent: a resync is owed (initial replication); "
                    + "verify it once the resync is done (dr:resync web01:disk0 runs it again)", e.getMessage());

            p.agent.attachSource(Pipeline.DISK, disk);
            p.agent.requestResync(Pipeline.DISK, "test: source readable again");
            await().atMost(BUDGET).pollInterval(Duration.ofMillis(20)).until(() -> p.agent.resyncProgress(Pipeline.DISK)
                    .filter(r -> r.reason().equals("test: source readable again")
                            && r.phase() == ResyncProgress.Phase.DONE).isPresent());
            awaitApplied(p);
            assertTrue(run(p, VerifyReport.Mode.VERIFY).clean());
            assertEquals(Pipeline.sha256(src), p.replicaSha256());
        }
    }

    /** A source whose reads fail (a disk gone bad). */
    private record Failing(BlockDevice inner) implements BlockDevice {
        @Override
        public long size() throws IOException {
            return inner.size();
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            throw new IOException("test: the source cannot be read at " + offset);
        }

        @Override
        public void write(long offset, ByteBuffer src) throws java.io.IOException {
            throw new java.io.IOException("read-only source");
        }

        @Override
        public void zero(long offset, long length) throws java.io.IOException {
            throw new java.io.IOException("read-only source");
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean isReadOnly() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
