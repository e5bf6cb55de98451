package org.secondsite.processserver.internal.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {

    private static final long SEGMENT = 64 * 1024;

    @TempDir
    Path dir;

    private SpoolOptions options(long maxBytes) {
        return new SpoolOptions(dir, SEGMENT, maxBytes, 1024 * 1024);
    }

    /** Deterministic payload of a key, so content can be checked after any reopen. */
    static byte[] payload(String disk, long sequence, int size) {
        byte[] b = new byte[size];
        new Random(disk.hashCode() * 31L + sequence).nextBytes(b);
        return b;
    }

    static int sizeOf(long sequence) {
        return (int) (100 + (sequence * 7919) % 9000);
    }

    private static List<SpoolEntry> readAll(Spool spool, long from) throws IOException {
        List<SpoolEntry> out = new ArrayList<>();
        try (Spool.Reader r = spool.reader(from)) {
            for (SpoolEntry e; (e = r.next()) != null;) {
                out.add(e);
            }
        }
        return out;
    }

    private static List<Path> segmentFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".spool")).sorted().toList();
        }
    }

    private static byte[] sha256(List<SpoolEntry> entries) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (SpoolEntry e : entries) {
            md.update(e.diskId().getBytes());
            md.update(ByteBuffer.allocate(8).putLong(0, e.sequence()));
            md.update(e.payload().duplicate());
        }
        return md.digest();
    }

    @Test
    void appendNoWaitIsInvisibleUntilDurableAndSharesFsyncs() throws Exception {
        List<byte[]> written = new ArrayList<>();
        long end = 0;
        long flushesBefore;
        try (Spool spool = Spool.open(options(1L << 30))) {
            flushesBefore = spool.flushCount();
            ByteBuffer reused = ByteBuffer.allocate(16 * 1024);
            for (long seq = 1; seq <= 20; seq++) {
                byte[] p = payload("d", seq, sizeOf(seq));
                written.add(p);
                reused.clear().put(p).flip();
                long next = spool.appendNoWait("d", seq, seq, reused);
                assertTrue(next > end, "end positions grow");
                end = next;
                reused.clear().put(new byte[reused.capacity()]); // the spool copied the entry already
            }
            assertTrue(readAll(spool, 0).isEmpty(), "entries not yet awaited are not durable, so not readable");
            assertEquals(0, spool.release("d", 20), "entries not durable cannot be released");
            spool.awaitDurable(end);
            assertEquals(flushesBefore + 1, spool.flushCount(), "twenty queued entries share one fsync");
            assertEquals(end, spool.durablePosition());
            spool.awaitDurable(end); // already durable: returns at once
            assertEquals(flushesBefore + 1, spool.flushCount());
            assertThrows(IllegalArgumentException.class, () -> spool.appendNoWait("d", 20, 0, ByteBuffer.allocate(1)));
        }
        try (Spool spool = Spool.open(options(1L << 30))) {
            List<SpoolEntry> back = readAll(spool, 0);
            assertEquals(20, back.size());
            for (int i = 0; i < 20; i++) {
                assertEquals(i + 1, back.get(i).sequence());
                byte[] got = new byte[back.get(i).payload().remaining()];
                back.get(i).payload().duplicate().get(got);
                assertArrayEquals(written.get(i), got);
            }
        }
    }

    @Test
    void entriesReadBackInOrderAcrossSegmentsAndAfterReopen() throws Exception {
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            long lastEnd = 0;
            for (long seq = 1; seq <= 120; seq++) {
                String disk = seq % 3 == 0 ? "vm1-disk1" : "vm1-disk0";
                byte[] data = payload(disk, seq, sizeOf(seq));
                ByteBuffer buf = ByteBuffer.allocateDirect(data.length + 4).put(new byte[2]).put(data);
                buf.flip().position(2).limit(2 + data.length);
                long pos = spool.append(disk, seq, 1000 + seq, buf);
                assertEquals(2, buf.position(), "append leaves the caller's buffer alone");
                assertTrue(pos >= lastEnd);
                lastEnd = pos;
                expected.update(disk.getBytes());
                expected.update(ByteBuffer.allocate(8).putLong(0, seq));
                expected.update(data);
            }
            assertTrue(segmentFiles(dir).size() > 5, "small segments roll over");
            List<SpoolEntry> all = readAll(spool, 0);
            assertEquals(120, all.size());
            for (int i = 1; i < all.size(); i++) {
                assertEquals(all.get(i - 1).nextPosition(), all.get(i).position());
                assertEquals(all.get(i - 1).sequence() + 1, all.get(i).sequence());
            }
            assertEquals(1001, all.get(0).timestamp());
            assertEquals(sizeOf(1), all.get(0).payload().remaining());
            assertArrayEquals(expected.digest(), sha256(all));
            SpoolFigures f = spool.figures();
            assertEquals(120, f.entryCount());
            assertEquals(1001, f.oldestTimestamp());
            assertEquals(f.diskBytes(), f.backlogBytes());
            assertEquals(segmentFiles(dir).stream().mapToLong(p -> p.toFile().length()).sum(), f.diskBytes());
        }
        try (Spool again = Spool.open(options(64 * SEGMENT))) {
            List<SpoolEntry> all = readAll(again, 0);
            assertEquals(120, all.size());
            assertEquals(120, again.lastSequence("vm1-disk1").orElseThrow());
            assertEquals(119, again.lastSequence("vm1-disk0").orElseThrow());
            assertEquals(120, again.figures().entryCount());
            again.append("vm1-disk0", 121, 2000, ByteBuffer.wrap(payload("vm1-disk0", 121, 10)));
            assertEquals(121, readAll(again, 0).size());
        }
    }

    @Test
    void tornLastEntryIsDroppedAndEverythingBeforeItRecovered() throws Exception {
        long tornAt;
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            for (long seq = 1; seq <= 8; seq++) {
                spool.append("d", seq, seq, ByteBuffer.wrap(payload("d", seq, 2000)));
            }
            tornAt = spool.append("d", 9, 9, ByteBuffer.wrap(payload("d", 9, 2000)));
        }
        Path last = segmentFiles(dir).get(segmentFiles(dir).size() - 1);
        long base = Long.parseLong(last.getFileName().toString().substring(0, 20));
        try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
            ch.truncate(tornAt - base + 700); // the last entry is only partly on disk
        }
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            List<SpoolEntry> all = readAll(spool, 0);
            assertEquals(8, all.size(), "all complete entries, not the torn one");
            for (SpoolEntry e : all) {
                assertArrayEquals(payload("d", e.sequence(), 2000), bytes(e.payload()));
            }
            assertEquals(tornAt - base, Files.size(last), "torn tail truncated");
            assertEquals(8, spool.lastSequence("d").orElseThrow());
            spool.append("d", 9, 9, ByteBuffer.wrap(payload("d", 9, 2000)));
            assertEquals(9, readAll(spool, 0).size());
        }
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            assertEquals(9, readAll(spool, 0).size(), "appends after a recovery are durable too");
        }
    }

    @Test
    void zeroFilledTailIsTreatedAsTorn() throws Exception {
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            for (long seq = 1; seq <= 3; seq++) {
                spool.append("d", seq, seq, ByteBuffer.wrap(payload("d", seq, 500)));
            }
        }
        Path last = segmentFiles(dir).get(0);
        long size = Files.size(last);
        Files.write(last, new byte[4096], StandardOpenOption.APPEND); // size grew, data never landed
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            assertEquals(3, readAll(spool, 0).size());
            assertEquals(size, Files.size(last));
        }
    }

    @Test
    void corruptedMiddleEntryIsReportedNotSkipped() throws Exception {
        List<Long> positions = new ArrayList<>();
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            for (long seq = 1; seq <= 10; seq++) {
                positions.add(spool.append("d", seq, seq, ByteBuffer.wrap(payload("d", seq, 1000))));
            }
        }
        assertEquals(1, segmentFiles(dir).size());
        flipByte(segmentFiles(dir).get(0), positions.get(3) + 100); // inside entry 4's payload
        SpoolCorruptedException e = assertThrows(SpoolCorruptedException.class,
                () -> Spool.open(options(64 * SEGMENT)));
        assertTrue(e.getMessage().contains("an entry failing its CRC32C check at offset " + positions.get(3)),
                e.getMessage());
        assertTrue(e.getMessage().contains("the spool is corrupted, not torn"), e.getMessage());
    }

    @Test
    void corruptionInASealedSegmentIsReported() throws Exception {
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            for (long seq = 1; seq <= 40; seq++) {
                spool.append("d", seq, seq, ByteBuffer.wrap(payload("d", seq, 5000)));
            }
        }
        List<Path> files = segmentFiles(dir);
        assertTrue(files.size() >= 3);
        flipByte(files.get(0), Files.size(files.get(0)) - 10); // the sealed segment's last entry
        SpoolCorruptedException e = assertThrows(SpoolCorruptedException.class,
                () -> Spool.open(options(64 * SEGMENT)));
        assertTrue(e.getMessage().contains("sealed segment"), e.getMessage());
    }

    @Test
    void corruptionIsDetectedWhenReading() throws Exception {
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            long pos = spool.append("d", 1, 1, ByteBuffer.wrap(payload("d", 1, 1000)));
            flipByte(segmentFiles(dir).get(0), pos + 500);
            SpoolCorruptedException e = assertThrows(SpoolCorruptedException.class, () -> readAll(spool, 0));
            assertTrue(e.getMessage().contains("fails its CRC32C check on read"), e.getMessage());
        }
    }

    @Test
    void releasedSegmentsAreDeletedAndFiguresFollow() throws Exception {
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            // disk a fills the first segments alone, then a and b interleave
            for (long seq = 1; seq <= 30; seq++) {
                spool.append("a", seq, 100 + seq, ByteBuffer.wrap(payload("a", seq, 4000)));
            }
            for (long seq = 1; seq <= 30; seq++) {
                spool.append("b", seq, 50 + seq, ByteBuffer.wrap(payload("b", seq, 4000)));
                spool.append("a", 30 + seq, 130 + seq, ByteBuffer.wrap(payload("a", 30 + seq, 4000)));
            }
            int filesBefore = segmentFiles(dir).size();
            SpoolFigures before = spool.figures();
            assertEquals(90, before.entryCount());
            assertEquals(51, before.oldestTimestamp(), "b's first entry is the oldest by timestamp");

            assertEquals(30, spool.release("a", 30));
            SpoolFigures after = spool.figures();
            assertEquals(60, after.entryCount());
            assertTrue(segmentFiles(dir).size() < filesBefore, "segments holding only released entries deleted");
            assertEquals(segmentFiles(dir).size(), after.segmentCount());
            assertEquals(segmentFiles(dir).stream().mapToLong(p -> p.toFile().length()).sum(), after.diskBytes());
            assertTrue(after.diskBytes() < before.diskBytes());

            List<SpoolEntry> rest = readAll(spool, spool.firstUnreleasedPosition());
            assertEquals(60, rest.size());
            assertEquals("b", rest.get(0).diskId());
            assertArrayEquals(sha256(rest), sha256(readAll(spool, 0)),
                    "reading from a deleted region skips to what is left, released entries skipped");

            assertEquals(10, spool.release("b", 10));
            List<SpoolEntry> fewer = readAll(spool, spool.firstUnreleasedPosition());
            assertEquals(50, fewer.size(), "released entries are skipped by readers");
            assertEquals(0, spool.release("b", 10), "releasing again is a no-op");
            assertEquals(0, spool.release("unknown", 99));

            spool.release("a", Long.MAX_VALUE);
            spool.release("b", Long.MAX_VALUE);
            SpoolFigures empty = spool.figures();
            assertEquals(0, empty.entryCount());
            assertEquals(0, empty.backlogBytes());
            assertFalse(empty.hasBacklog());
            assertEquals(0, empty.diskBytes());
            assertEquals(List.of(), segmentFiles(dir), "every segment, the active one included, is gone");

            long pos = spool.append("a", 61, 200, ByteBuffer.wrap(payload("a", 61, 100)));
            assertEquals(empty.durablePosition(), pos, "positions keep growing after everything was deleted");
            assertEquals(1, readAll(spool, spool.firstUnreleasedPosition()).size());
        }
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            List<SpoolEntry> all = readAll(spool, spool.firstUnreleasedPosition());
            assertEquals(1, all.size());
            assertEquals(61, all.get(0).sequence());
        }
    }

    @Test
    void fullSpoolRefusesWithItsStateAndResumesAfterRelease() throws Exception {
        try (Spool spool = Spool.open(options(3 * SEGMENT))) {
            long seq = 0;
            SpoolFullException full = null;
            while (full == null) {
                try {
                    spool.append("d", ++seq, seq, ByteBuffer.wrap(payload("d", seq, 8000)));
                } catch (SpoolFullException e) {
                    full = e;
                }
            }
            long accepted = seq - 1;
            SpoolFigures f = full.figures();
            assertEquals(accepted, f.entryCount());
            assertTrue(f.diskBytes() + full.entryBytes() > f.maxBytes());
            assertEquals(3 * SEGMENT, f.maxBytes());
            assertTrue(full.getMessage().startsWith("spool is full: " + f.diskBytes() + " of " + (3 * SEGMENT)
                    + " bytes used"), full.getMessage());
            assertEquals(accepted, spool.figures().entryCount(), "nothing was written");
            assertThrows(SpoolFullException.class,
                    () -> spool.append("d", accepted + 1, 0, ByteBuffer.wrap(payload("d", accepted + 1, 8000))));

            spool.release("d", accepted / 2); // frees the first segment(s)
            spool.append("d", accepted + 1, 0, ByteBuffer.wrap(payload("d", accepted + 1, 8000)));
            List<SpoolEntry> left = readAll(spool, spool.firstUnreleasedPosition());
            assertEquals(accepted + 1, left.get(left.size() - 1).sequence());
        }
    }

    @Test
    void concurrentAppendersAreAllDurableAndInOrderPerKeyWithSharedFsyncs() throws Exception {
        int threads = 8;
        int perThread = 150;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (Spool spool = Spool.open(new SpoolOptions(dir, 256 * 1024, 1L << 30, 1024 * 1024))) {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String disk = "disk-" + t;
                all.add(CompletableFuture.runAsync(() -> {
                    try {
                        for (long seq = 1; seq <= perThread; seq++) {
                            spool.append(disk, seq, seq, ByteBuffer.wrap(payload(disk, seq, sizeOf(seq))));
                        }
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, pool));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture<?>[]::new)).get(60, TimeUnit.SECONDS);
            long appends = (long) threads * perThread;
            assertTrue(spool.flushCount() < appends,
                    "group commit: " + spool.flushCount() + " fsyncs for " + appends + " appends");
            assertEquals(spool.durablePosition(), spool.figures().diskBytes());
        } finally {
            pool.shutdownNow();
        }
        // every append returned, so everything must be there after a reopen
        try (Spool spool = Spool.open(new SpoolOptions(dir, 256 * 1024, 1L << 30, 1024 * 1024))) {
            Map<String, Long> lastSeq = new HashMap<>();
            int count = 0;
            for (SpoolEntry e : readAll(spool, 0)) {
                long previous = lastSeq.getOrDefault(e.diskId(), 0L);
                assertEquals(previous + 1, e.sequence(), "in order per key for " + e.diskId());
                lastSeq.put(e.diskId(), e.sequence());
                assertArrayEquals(payload(e.diskId(), e.sequence(), sizeOf(e.sequence())), bytes(e.payload()));
                count++;
            }
            assertEquals(threads * perThread, count);
        }
    }

    @Test
    void invalidAppendsAreRefusedClearly() throws Exception {
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            spool.append("d", 5, 0, ByteBuffer.allocate(1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> spool.append("d", 5, 0, ByteBuffer.allocate(1)));
            assertEquals("sequence 5 for disk 'd' is not above the last spooled sequence 5", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> spool.append("d", 6, 0, ByteBuffer.allocate(1024 * 1024 + 1)));
            assertEquals("entry payload of 1048577 bytes for disk 'd' exceeds the spool's maxEntrySize of 1048576"
                    + " bytes", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> spool.append("x".repeat(256), 1, 0,
                    ByteBuffer.allocate(1)));
            assertThrows(IllegalArgumentException.class, () -> spool.append("", 1, 0, ByteBuffer.allocate(1)));
            assertThrows(IllegalArgumentException.class, () -> spool.reader(3).next(), "not an entry start");
        }
        assertThrows(IllegalArgumentException.class, () -> new SpoolOptions(dir, 100, 1000, 10));
        assertThrows(IllegalArgumentException.class, () -> new SpoolOptions(dir, SEGMENT, SEGMENT - 1, 10));
    }

    @Test
    void readerWaitsForNewDataAndEmptyPayloadsWork() throws Exception {
        try (Spool spool = Spool.open(options(64 * SEGMENT))) {
            Spool.Reader reader = spool.reader(0);
            assertNull(reader.next());
            assertFalse(spool.awaitData(0, 1, TimeUnit.MILLISECONDS));
            CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    return spool.awaitData(0, 30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            spool.append("d", 1, 7, ByteBuffer.allocate(0));
            assertTrue(waiter.get(30, TimeUnit.SECONDS));
            SpoolEntry e = reader.next();
            assertEquals(0, e.payload().remaining());
            assertEquals(7, e.timestamp());
            assertNull(reader.next());
            assertEquals(e.nextPosition(), reader.position());
            reader.close();
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void aReaderReusingItsBufferGivesEachEntryIntactUntilTheNext() throws Exception {
        try (Spool spool = Spool.open(options(1L << 30))) {
            for (long seq = 1; seq <= 40; seq++) {
                spool.append("d", seq, seq, ByteBuffer.wrap(payload("d", seq, sizeOf(seq) * (seq % 5 == 0 ? 7 : 1))));
            }
            try (Spool.Reader r = spool.reader(0).reuseBuffer()) {
                long seq = 1;
                for (SpoolEntry e; (e = r.next()) != null; seq++) {
                    byte[] got = new byte[e.payload().remaining()];
                    e.payload().duplicate().get(got);
                    assertArrayEquals(payload("d", seq, sizeOf(seq) * (seq % 5 == 0 ? 7 : 1)), got, "entry " + seq);
                }
                assertEquals(41, seq);
            }
        }
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).rewind();
            ch.write(one, offset);
        }
    }
}
