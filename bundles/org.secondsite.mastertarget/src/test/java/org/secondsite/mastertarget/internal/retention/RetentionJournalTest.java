package org.secondsite.mastertarget.internal.retention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.ObjectStore;
import org.secondsite.storage.file.internal.FileStorageBackend;

/** The journal's format, index rebuild, rollback of uncommitted entries and corrupt tails. */
class RetentionJournalTest {
    static final DiskId A = DiskId.of("web01:disk0");
    static final long SEGMENT = 4L << 20;

    @TempDir
    Path dir;

    private ObjectStore store() throws Exception {
        return new FileStorageBackend(dir.resolve("storage")).objects(RetentionJournal.NAMESPACE);
    }

    private Path segmentFile(long seg) {
        return dir.resolve("storage").resolve("objects").resolve(RetentionJournal.NAMESPACE)
                .resolve(RetentionJournal.PREFIX + String.format("%016d", seg));
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void entriesRoundTripAndTheIndexIsRebuiltFromHeaders() throws Exception {
        MemoryDisk disk = new MemoryDisk(8 << 20);
        byte[] content = random(8 << 20, 1);
        System.arraycopy(content, 0, disk.bytes, 0, 6 << 20); // the last 2 MiB read as zeros
        RetentionJournal.Position end;
        try (RetentionJournal j = RetentionJournal.open(store(), SEGMENT, RetentionJournal.Position.START, Map.of(),
                d -> disk)) {
            j.journal(A, 2, 100, (4 << 20) + 5000, disk); // 5 entries (1 MiB pieces), crosses a segment border
            j.journal(A, 3, 7L << 20, 4096, disk); // zeros: no data stored
            j.journal(A, 5, 5, 10, disk);
            j.sync();
            end = j.end();
            j.committed(end);
            assertEquals(7, j.entriesAfter(A, 0).size());
            assertEquals(2, j.entriesAfter(A, 2).size());
            assertTrue(j.entriesAfter(A, 3).get(0).offset() == 5);
        }
        try (RetentionJournal j = RetentionJournal.open(store(), SEGMENT, end, Map.of(), d -> disk)) {
            assertFalse(j.discardedOnOpen());
            List<RetentionJournal.Entry> all = j.entriesAfter(A, 0);
            assertEquals(7, all.size());
            assertEquals(2, j.segments().size(), "4 MiB + 5000 bytes of data in 4 MiB segments roll once: " + j.segments());
            long covered = 0;
            for (RetentionJournal.Entry e : all.subList(0, 5)) {
                assertEquals(2, e.sequence());
                ByteBuffer b = ByteBuffer.allocate(e.length());
                j.readData(e, 0, b);
                byte[] want = java.util.Arrays.copyOfRange(content, (int) e.offset(), (int) e.end());
                assertArrayEquals(want, b.array(), "entry " + e);
                covered += e.length();
            }
            assertEquals((4 << 20) + 5000, covered);
            RetentionJournal.Entry zero = all.get(5);
            assertTrue(zero.wasZero());
            ByteBuffer z = ByteBuffer.allocate(4096);
            j.readData(zero, 0, z);
            assertArrayEquals(new byte[4096], z.array());
            ByteBuffer small = ByteBuffer.allocate(10);
            j.readData(all.get(6), 0, small);
            assertArrayEquals(java.util.Arrays.copyOfRange(content, 5, 15), small.array());
        }
    }

    @Test
    void uncommittedEntriesAreRolledBackNewestFirstAndDiscarded() throws Exception {
        MemoryDisk disk = new MemoryDisk(1 << 20);
        byte[] c0 = random(1 << 20, 2);
        System.arraycopy(c0, 0, disk.bytes, 0, c0.length);
        RetentionJournal.Position committed;
        try (RetentionJournal j = RetentionJournal.open(store(), SEGMENT, RetentionJournal.Position.START, Map.of(),
                d -> disk)) {
            j.journal(A, 1, 1000, 5000, disk);
            j.sync();
            committed = j.end();
            j.committed(committed);
            // batch 2 (committed above), then batches 3 and 4 applied but never committed
            disk.write(1000, ByteBuffer.wrap(random(5000, 3)));
            byte[] atCommit = disk.bytes.clone();
            j.journal(A, 3, 0, 4000, disk);
            j.sync();
            disk.write(0, ByteBuffer.wrap(random(4000, 4)));
            j.journal(A, 4, 2000, 6000, disk);
            j.sync();
            disk.zero(2000, 6000);
            assertFalse(java.util.Arrays.equals(atCommit, disk.bytes));
            // a crash here: reopen with the committed end
            try (RetentionJournal k = RetentionJournal.open(store(), SEGMENT, committed, Map.of(), d -> disk)) {
                assertTrue(k.discardedOnOpen());
                assertEquals(2, k.rolledBackEntries());
                assertArrayEquals(atCommit, disk.bytes, "the replica is back at the committed state");
                assertEquals(1, k.entriesAfter(A, 0).size(), "only the committed entry is indexed");
                assertEquals(Map.of(committed.segment(), committed.offset()), k.cuts());
                // appending goes on in a new segment; a reopen with the cut ignores the discarded tail
                k.journal(A, 5, 0, 10, disk);
                k.sync();
                RetentionJournal.Position end = k.end();
                assertTrue(end.segment() > committed.segment());
                k.committed(end);
                Map<Long, Long> cuts = k.cuts();
                k.close();
                try (RetentionJournal l = RetentionJournal.open(store(), SEGMENT, end, cuts, d -> disk)) {
                    assertFalse(l.discardedOnOpen());
                    assertEquals(List.of(1L, 5L), l.entriesAfter(A, 0).stream().map(RetentionJournal.Entry::sequence)
                            .toList());
                    assertArrayEquals(atCommit, disk.bytes);
                }
            }
        }
    }

    @Test
    void aCorruptOrTruncatedTailIsIgnored() throws Exception {
        MemoryDisk disk = new MemoryDisk(1 << 20);
        System.arraycopy(random(1 << 20, 5), 0, disk.bytes, 0, 1 << 20);
        RetentionJournal.Position committed;
        long seg;
        try (RetentionJournal j = RetentionJournal.open(store(), SEGMENT, RetentionJournal.Position.START, Map.of(),
                d -> disk)) {
            j.journal(A, 1, 0, 100, disk);
            j.journal(A, 2, 200, 100, disk);
            j.sync();
            committed = j.end();
            j.committed(committed);
            j.journal(A, 3, 400, 100, disk); // synced, but its replica write never happened
            j.journal(A, 4, 600, 100, disk);
            j.sync();
            seg = j.currentSegment();
        }
        byte[] before = disk.bytes.clone();
        // flip a data byte of entry 3: its checksum fails; entry 4 behind it is not trusted either
        try (RandomAccessFile f = new RandomAccessFile(segmentFile(seg).toFile(), "rw")) {
            long at = committed.offset() + RetentionJournal.FIXED + A.value().length() + 50;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
        try (RetentionJournal j = RetentionJournal.open(store(), SEGMENT, committed, Map.of(), d -> disk)) {
            assertEquals(0, j.rolledBackEntries(), "nothing past a bad checksum is rolled back");
            assertEquals(2, j.entriesAfter(A, 0).size());
            assertArrayEquals(before, disk.bytes);
        }
        // a tail cut in the middle of a header: ignored as well
        Path seg2;
        RetentionJournal.Position c2;
        try (RetentionJournal j = RetentionJournal.open(store(), SEGMENT, committed, Map.of(seg, committed.offset()),
                d -> disk)) {
            j.journal(A, 3, 400, 100, disk);
            j.sync();
            c2 = j.end();
            j.committed(c2);
            j.journal(A, 4, 600, 100, disk);
            j.sync();
            seg2 = segmentFile(j.currentSegment());
        }
        try (RandomAccessFile f = new RandomAccessFile(seg2.toFile(), "rw")) {
            f.setLength(c2.offset() + 12);
        }
        try (RetentionJournal j = RetentionJournal.open(store(), SEGMENT, c2, Map.of(seg, committed.offset()),
                d -> disk)) {
            assertEquals(0, j.rolledBackEntries());
            assertEquals(List.of(1L, 2L, 3L), j.entriesAfter(A, 0).stream().map(RetentionJournal.Entry::sequence)
                    .toList());
            assertArrayEquals(before, disk.bytes);
        }
    }
}
