package org.secondsite.capture.scan.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureDriver;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;

class ScanCaptureTest {
    private static final int KIB4 = 4096;

    @TempDir
    Path dir;

    private final Random random = new Random(42);
    private final List<ScanCaptureSession> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws IOException {
        for (ScanCaptureSession s : open) {
            s.close();
        }
    }

    private Path disk(String name, long size) throws IOException {
        Path p = dir.resolve(name);
        byte[] b = new byte[Math.toIntExact(size)];
        random.nextBytes(b);
        Files.write(p, b);
        return p;
    }

    private ScanCaptureSession start(Path source, CollectingSink sink, String... options) throws IOException {
        Map<String, String> opts = new HashMap<>();
        opts.put("interval", "PT1H"); // tests scan on demand
        for (int i = 0; i < options.length; i += 2) {
            opts.put(options[i], options[i + 1]);
        }
        CaptureDriver driver = new ScanCaptureDriver();
        ScanCaptureSession s = (ScanCaptureSession) driver.start(new CaptureSpec(DiskId.of("web01:disk0"), source, opts), sink);
        open.add(s);
        return s;
    }

    /** Inverts the byte at {@code offset}. */
    private static void touch(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) ~b.get(0)).rewind();
            ch.write(b, offset);
        }
    }

    private static void writeRandom(Path file, long offset, int length, Random r) throws IOException {
        byte[] b = new byte[length];
        r.nextBytes(b);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(b), offset);
        }
    }

    private static List<long[]> ranges(List<ChangeRecord> records) {
        List<long[]> out = new ArrayList<>();
        for (ChangeRecord r : records) {
            out.add(new long[] {r.offset(), r.length()});
        }
        return out;
    }

    private static void assertRanges(List<ChangeRecord> records, long[]... expected) {
        List<long[]> got = ranges(records);
        assertEquals(expected.length, got.size(), () -> "records " + records);
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], got.get(i), "record " + i + " of " + records);
        }
    }

    /** Every record is a WRITE whose data equals the file's bytes at its range. */
    private static void assertDataMatches(List<ChangeRecord> records, Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (ChangeRecord r : records) {
                assertEquals(ChangeKind.WRITE, r.kind(), r.toString());
                ByteBuffer actual = ByteBuffer.allocate(r.length());
                ch.read(actual, r.offset());
                assertEquals(actual.flip(), r.data(), "data of " + r);
            }
        }
    }

    @Test
    void baselineEmitsNothing() throws IOException {
        Path src = disk("a.img", 64 * KIB4 + 1000);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "blockSize", "4096");
        assertEquals(List.of(), sink.records());
        assertEquals(1, sink.flushes());
        Map<String, Long> st = s.statistics();
        assertEquals(1, st.get("scans"));
        assertEquals(64 * KIB4 + 1000, st.get("scannedBytes"));
        assertEquals(0, st.get("changedBlocks"));
        assertEquals(0, st.get("emittedBytes"));
        assertEquals(0, st.get("errors"));
        assertTrue(st.get("nanosPerGiB") > 0, st.toString());
        assertTrue(st.keySet().containsAll(List.of("scans", "scannedBytes", "changedBlocks", "emittedBytes",
                "lastScanMillis", "nanosPerGiB", "errors")), st.toString());
        // nothing changed: a later scan emits nothing either
        Map<String, Long> again = s.scanNow();
        assertEquals(List.of(), sink.records());
        assertEquals(2, again.get("scans"));
    }

    @Test
    void exactlyTheChangedBlocksAreEmittedAndReplayMatches() throws IOException {
        long size = 64 * KIB4 + 1000; // 64 full blocks and a partial 65th
        Path src = disk("a.img", size);
        Path replica = dir.resolve("replica.img");
        Files.copy(src, replica);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "blockSize", "4096");

        touch(src, 0);                  // first block
        touch(src, 10 * KIB4 + 4095);   // an isolated block, its last byte
        writeRandom(src, 20 * KIB4 + 100, 2 * KIB4 + 200, random); // blocks 20, 21, 22 (adjacent)
        touch(src, 30 * KIB4 + 7);      // another isolated block
        touch(src, 63 * KIB4);          // last full block
        touch(src, size - 1);           // the partial last block: adjacent to 63, so coalesced
        Map<String, Long> st = s.scanNow();

        List<ChangeRecord> records = sink.records();
        assertRanges(records,
                new long[] {0, KIB4},
                new long[] {10 * KIB4, KIB4},
                new long[] {20 * KIB4, 3 * KIB4},
                new long[] {30 * KIB4, KIB4},
                new long[] {63 * KIB4, KIB4 + 1000});
        assertDataMatches(records, src);
        assertEquals(8, st.get("changedBlocks"));
        assertEquals(7 * KIB4 + 1000, st.get("emittedBytes"));
        assertEquals(2, sink.flushes());

        CollectingSink.replay(records, replica);
        assertEquals(CollectingSink.sha256(src), CollectingSink.sha256(replica));

        // rewriting a block with the bytes it already holds is no change
        byte[] same = new byte[KIB4];
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.read(ByteBuffer.wrap(same), 5 * KIB4);
            ch.write(ByteBuffer.wrap(same), 5 * KIB4);
        }
        sink.drain();
        s.scanNow();
        assertEquals(List.of(), sink.records());
    }

    @Test
    void adjacentChangedBlocksAreCoalescedUpTo4MiB() throws IOException {
        int bs = 65536;
        Path src = disk("a.img", 16L << 20);
        Path replica = dir.resolve("replica.img");
        Files.copy(src, replica);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink);
        writeRandom(src, 3L * bs, 100 * bs, random); // 6.25 MiB of adjacent blocks
        writeRandom(src, 200L * bs, 10, random);     // and one apart
        s.scanNow();
        List<ChangeRecord> records = sink.records();
        assertRanges(records,
                new long[] {3L * bs, 4 << 20},
                new long[] {3L * bs + (4 << 20), 36 * bs},
                new long[] {200L * bs, bs});
        assertDataMatches(records, src);
        CollectingSink.replay(records, replica);
        assertEquals(CollectingSink.sha256(src), CollectingSink.sha256(replica));
    }

    @Test
    void grownSourceEmitsTheNewBlocks() throws IOException {
        long size = 10 * KIB4 + 100;
        Path src = disk("a.img", size);
        Path replica = dir.resolve("replica.img");
        Files.copy(src, replica);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "blockSize", "4096");
        writeRandom(src, size, 3 * KIB4, random); // the partial block fills up and three more start
        Map<String, Long> st = s.scanNow();
        List<ChangeRecord> records = sink.records();
        assertRanges(records, new long[] {10 * KIB4, 3 * KIB4 + 100});
        assertDataMatches(records, src);
        assertEquals(size + 3 * KIB4, st.get("sizeBytes"));
        assertEquals(0, st.get("errors"));
        CollectingSink.replay(records, replica);
        assertEquals(CollectingSink.sha256(src), CollectingSink.sha256(replica));
        // and the grown part is in the table now
        sink.drain();
        s.scanNow();
        assertEquals(List.of(), sink.records());
    }

    @Test
    void shrunkSourceIsAnErrorAndScanningGoesOnOverTheShorterSize() throws IOException {
        Path src = disk("a.img", 20 * KIB4);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "blockSize", "4096");
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.WRITE)) {
            ch.truncate(12 * KIB4 + 10);
        }
        Map<String, Long> st = s.scanNow();
        assertEquals(1, st.get("errors"));
        assertEquals(12 * KIB4 + 10, st.get("sizeBytes"));
        // the now partial last block has other content than before
        assertRanges(sink.records(), new long[] {12 * KIB4, 10});
        assertDataMatches(sink.records(), src);
        sink.drain();
        touch(src, 3 * KIB4);
        st = s.scanNow();
        assertRanges(sink.records(), new long[] {3 * KIB4, KIB4});
        assertEquals(1, st.get("errors"), "the size did not change again");
    }

    @Test
    void initialFullEmitsEveryBlock() throws IOException {
        Path src = disk("a.img", 5L * 65536 + 77);
        Path replica = dir.resolve("replica.img");
        Files.createFile(replica);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "initialFull", "true");
        assertRanges(sink.records(), new long[] {0, 5L * 65536 + 77});
        assertEquals(6, s.statistics().get("changedBlocks"));
        CollectingSink.replay(sink.records(), replica);
        assertEquals(CollectingSink.sha256(src), CollectingSink.sha256(replica));
    }

    @Test
    void persistedStateLetsARestartEmitOnlyWhatChangedWhileStopped() throws IOException {
        Path src = disk("a.img", 40 * KIB4 + 5);
        Path state = dir.resolve("state");
        Path replica = dir.resolve("replica.img");
        Files.copy(src, replica);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "blockSize", "4096", "stateDir", state.toString());
        touch(src, 2 * KIB4);
        s.scanNow();
        assertRanges(sink.records(), new long[] {2 * KIB4, KIB4});
        s.close();
        assertTrue(Files.isRegularFile(state.resolve("web01:disk0.scanstate")));
        assertTrue(!Files.exists(state.resolve("web01:disk0.scanstate.tmp")), "no temp file left");

        touch(src, 7 * KIB4);  // while stopped
        touch(src, 40 * KIB4); // the partial last block
        CollectingSink sink2 = new CollectingSink();
        ScanCaptureSession s2 = start(src, sink2, "blockSize", "4096", "stateDir", state.toString());
        assertRanges(sink2.records(), new long[] {7 * KIB4, KIB4}, new long[] {40 * KIB4, 5});
        assertDataMatches(sink2.records(), src);
        assertEquals(0, s2.statistics().get("errors"));
        List<ChangeRecord> all = new ArrayList<>(sink.records());
        all.addAll(sink2.records());
        CollectingSink.replay(all, replica);
        assertEquals(CollectingSink.sha256(src), CollectingSink.sha256(replica));

        // a restart with nothing changed emits nothing
        s2.close();
        CollectingSink sink3 = new CollectingSink();
        start(src, sink3, "blockSize", "4096", "stateDir", state.toString());
        assertEquals(List.of(), sink3.records());
    }

    @Test
    void unusableStateMarksTheWholeDiskDirtyOnce() throws IOException {
        long size = (70L << 20) + 3; // more than one 64 MiB dirty record
        Path src = dir.resolve("sparse.img");
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1}), size - 1);
        }
        Path state = dir.resolve("state");
        start(src, new CollectingSink(), "stateDir", state.toString()).close();
        Path file = state.resolve("web01:disk0.scanstate");
        byte[] bytes = Files.readAllBytes(file);
        bytes[StateFile.HEADER + 3] ^= 1; // a table word: the CRC no longer matches
        Files.write(file, bytes);

        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "stateDir", state.toString());
        List<ChangeRecord> records = sink.records();
        assertRanges(records, new long[] {0, 64 << 20}, new long[] {64 << 20, (6 << 20) + 3});
        assertTrue(records.stream().allMatch(r -> r.kind() == ChangeKind.DIRTY), records.toString());
        assertEquals(1, s.statistics().get("errors"));
        assertEquals(size, s.statistics().get("dirtyBytes"));
        sink.drain();
        s.scanNow();
        assertEquals(List.of(), sink.records(), "the new baseline is in place");
        s.close();

        // a state written with another block size is not used either
        CollectingSink sink2 = new CollectingSink();
        start(src, sink2, "stateDir", state.toString(), "blockSize", "4096");
        assertTrue(sink2.records().stream().allMatch(r -> r.kind() == ChangeKind.DIRTY) && !sink2.records().isEmpty());
    }

    @Test
    void sha256HashFindsTheSameChanges() throws IOException {
        Path src = disk("a.img", 30 * KIB4);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "blockSize", "4096", "hash", "sha256");
        touch(src, 4 * KIB4 + 9);
        touch(src, 29 * KIB4);
        s.scanNow();
        assertRanges(sink.records(), new long[] {4 * KIB4, KIB4}, new long[] {29 * KIB4, KIB4});
        assertDataMatches(sink.records(), src);
    }

    @Test
    void aRefusedRecordIsRetriedByTheNextScan() throws IOException {
        Path src = disk("a.img", 30 * KIB4);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "blockSize", "4096");
        touch(src, 4 * KIB4);
        touch(src, 20 * KIB4);
        sink.failNextAccept(new IOException("spill cache full"));
        IOException e = assertThrows(IOException.class, s::scanNow);
        assertEquals("spill cache full", e.getMessage());
        assertEquals(1, s.statistics().get("errors"));
        assertEquals(List.of(), sink.records());
        s.scanNow();
        assertRanges(sink.records(), new long[] {4 * KIB4, KIB4}, new long[] {20 * KIB4, KIB4});
    }

    @Test
    void periodicScansRunOnTheirOwnAndCloseStopsThem() throws IOException {
        Path src = disk("a.img", 8 * KIB4);
        CollectingSink sink = new CollectingSink();
        ScanCaptureSession s = start(src, sink, "blockSize", "4096", "interval", "1");
        touch(src, KIB4);
        await().atMost(Duration.ofSeconds(30)).until(() -> !sink.records().isEmpty());
        assertRanges(sink.records(), new long[] {KIB4, KIB4});
        s.close();
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("scan-capture-web01:disk0") && t.isAlive()), "scan thread ended");
        long scans = s.statistics().get("scans");
        assertThrows(IllegalStateException.class, s::scanNow);
        assertEquals(scans, s.statistics().get("scans"));
    }

    @Test
    void sourceIsReadOnlyAndThereIsNoEndpoint() throws IOException {
        Path src = disk("a.img", 3 * KIB4 + 1);
        ScanCaptureSession s = start(src, new CollectingSink());
        assertEquals("", s.endpoint());
        assertEquals(DiskId.of("web01:disk0"), s.disk());
        assertTrue(s.source().isReadOnly());
        assertEquals(3 * KIB4 + 1, s.source().size());
        ByteBuffer got = ByteBuffer.allocate(100);
        s.source().read(KIB4, got);
        ByteBuffer want = ByteBuffer.wrap(Files.readAllBytes(src), KIB4, 100);
        assertEquals(want, got.flip());
        assertThrows(IOException.class, () -> s.source().write(0, ByteBuffer.allocate(1)));
        assertThrows(java.io.EOFException.class, () -> s.source().read(3 * KIB4, ByteBuffer.allocate(2)));
    }

    @Test
    void startErrors() throws IOException {
        Path src = disk("a.img", KIB4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> start(src, new CollectingSink(), "intervall", "5"));
        assertTrue(e.getMessage().contains("'intervall'"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> start(dir.resolve("missing.img"), new CollectingSink()));
        assertEquals("scan", new ScanCaptureDriver().name());
    }

    @Test
    void costPerScannedGiBIsReported() throws IOException {
        Path src = dir.resolve("big.img");
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1 << 20);
            for (int i = 0; i < 64; i++) {
                random.nextBytes(b.array());
                b.clear();
                ch.write(b);
            }
        }
        for (String hash : new String[] {"xxh64", "sha256"}) {
            ScanCaptureSession s = start(src, new CollectingSink(), "hash", hash);
            Map<String, Long> st = s.scanNow();
            assertEquals(64L << 20, st.get("sizeBytes"));
            assertTrue(st.get("nanosPerGiB") > 0);
            System.out.printf("scan cost, %s, 64 MiB page-cached file: %.3f s per GiB (%d ms)%n", hash,
                    st.get("nanosPerGiB") / 1e9, st.get("lastScanMillis"));
        }
    }
}
