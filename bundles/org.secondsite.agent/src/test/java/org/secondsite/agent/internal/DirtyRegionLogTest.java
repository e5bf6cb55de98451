package org.secondsite.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The dirty-region log's format and its file: round trips, and no dirty region lost to corruption. */
class DirtyRegionLogTest {
    static final String DISK = "web01:disk0";

    @TempDir
    Path dir;

    /** Geometry and a set of dirty byte ranges on it. */
    record Case(long diskBytes, int regionBytes, List<long[]> ranges) {
        RegionSet set() {
            RegionSet s = new RegionSet(DirtyRegionLog.regions(diskBytes, regionBytes));
            for (long[] r : ranges) {
                s.add(r[0] / regionBytes, (r[1] + regionBytes - 1) / regionBytes);
            }
            return s;
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Integer> region = Arbitraries.of(4096, 8192, 65536, 1 << 20);
        Arbitrary<Long> disk = Arbitraries.longs().between(1, 3L << 30);
        return Combinators.combine(disk, region).flatAs((d, r) ->
                Arbitraries.longs().between(0, d - 1).list().ofMaxSize(40).map(starts -> {
                    List<long[]> ranges = new ArrayList<>();
                    for (long s : starts) {
                        ranges.add(new long[] {s, Math.min(d, s + 1 + (s % (3L * r)))});
                    }
                    return new Case(d, r, ranges);
                }));
    }

    static final String BOOT = "boot-1";

    private static RegionSet decode(ByteBuffer file, Case c, String bootNow, List<String> notes) {
        RegionSet out = new RegionSet(DirtyRegionLog.regions(c.diskBytes, c.regionBytes));
        DirtyRegionLog.decode(file, DISK, c.diskBytes, c.regionBytes, bootNow, out, notes);
        return out;
    }

    private static ByteBuffer encode(RegionSet s, Case c, int state) {
        return DirtyRegionLog.encode(s, DISK, c.diskBytes, c.regionBytes, state, BOOT);
    }

    private static boolean covers(RegionSet big, RegionSet small) {
        for (long r = small.nextSet(0); r >= 0; r = small.nextSet(r + 1)) {
            if (!big.contains(r)) {
                return false;
            }
        }
        return true;
    }

    @Property(tries = 200)
    void encodeDecodeRoundTrips(@ForAll("cases") Case c, @ForAll boolean clean) {
        RegionSet s = c.set();
        List<String> notes = new ArrayList<>();
        // closed cleanly (any boot), or running and read in the same boot (the agent was killed): exact
        RegionSet back = decode(encode(s, c, clean ? DirtyRegionLog.CLEAN : DirtyRegionLog.RUNNING), c,
                clean ? "boot-2" : BOOT, notes);
        assertEquals(s, back);
        assertEquals(List.of(), notes);
    }

    @Property(tries = 200)
    void afterAMachineCrashLostRegionMarksAreCoveredByTheirForcedChunks(@ForAll("cases") Case c,
                                                                        @ForAll long dropSeed) {
        RegionSet s = c.set();
        // the region pages on disk are an older state (marks written but not forced were lost): any subset
        RegionSet older = s.copy();
        java.util.Random drop = new java.util.Random(dropSeed);
        for (long r = s.nextSet(0); r >= 0; r = s.nextSet(r + 1)) {
            if (drop.nextBoolean()) {
                older.remove(r, r + 1);
            }
        }
        ByteBuffer forced = encode(s, c, DirtyRegionLog.RUNNING); // header and chunk pages: forced
        ByteBuffer stale = encode(older, c, DirtyRegionLog.RUNNING);
        DirtyRegionLog.Geometry g = DirtyRegionLog.Geometry.of(c.diskBytes, c.regionBytes);
        int regionsAt = (int) (DirtyRegionLog.PAGE * g.regionPage(0));
        forced.put(regionsAt, stale, regionsAt, forced.limit() - regionsAt);
        List<String> notes = new ArrayList<>();
        RegionSet back = decode(forced, c, "boot-2", notes);
        assertTrue(covers(back, s), () -> "lost dirty regions after a machine crash: " + s + ", read " + back);
        if (!s.isEmpty()) {
            assertTrue(notes.get(0).contains("machine restarted"), notes.toString());
        }
    }

    @Property(tries = 300)
    void corruptionNeverLosesADirtyRegion(@ForAll("cases") Case c, @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where,
                                          @ForAll @IntRange(min = 1, max = 255) int flip,
                                          @ForAll @IntRange(min = 0, max = 2) int kind) {
        RegionSet s = c.set();
        ByteBuffer f = encode(s, c, DirtyRegionLog.RUNNING);
        switch (kind) {
            case 0 -> { // flip a byte anywhere
                int at = where % f.limit();
                f.put(at, (byte) (f.get(at) ^ flip));
            }
            case 1 -> f.limit(where % f.limit()); // truncated (torn extension, lost tail)
            default -> { // a page torn: its second half from the previous (all clean) content
                int pages = f.limit() / DirtyRegionLog.PAGE;
                int p = where % pages;
                for (int i = p * DirtyRegionLog.PAGE + 2048; i < (p + 1) * DirtyRegionLog.PAGE; i++) {
                    f.put(i, (byte) 0);
                }
            }
        }
        List<String> notes = new ArrayList<>();
        RegionSet back = decode(f, c, BOOT, notes);
        assertTrue(covers(back, s), () -> "lost dirty regions: wrote " + s + ", read " + back + " " + notes);
    }

    @Property(tries = 200)
    void aChangedGeometryIsConvertedCoveringEveryOldDirtyByte(@ForAll("cases") Case c,
                                                             @ForAll @IntRange(min = 0, max = 3) int newRegionIndex,
                                                             @ForAll @IntRange(min = -1, max = 1) int resize) {
        int newRegion = new int[] {4096, 16384, 65536, 4 << 20}[newRegionIndex];
        long newDisk = Math.max(1, c.diskBytes + resize * (c.diskBytes / 3));
        ByteBuffer f = encode(c.set(), c, DirtyRegionLog.CLEAN);
        RegionSet back = new RegionSet(DirtyRegionLog.regions(newDisk, newRegion));
        List<String> notes = new ArrayList<>();
        boolean rewrite = DirtyRegionLog.decode(f, DISK, newDisk, newRegion, BOOT, back, notes);
        assertTrue(rewrite || newRegion == c.regionBytes && newDisk == c.diskBytes);
        for (long[] r : c.ranges) {
            long from = Math.min(r[0], newDisk);
            long to = Math.min(r[1], newDisk);
            if (from < to) {
                assertTrue(back.containsAll(from / newRegion, (to + newRegion - 1) / newRegion),
                        () -> "bytes " + r[0] + ".." + r[1] + " lost in " + back + " " + notes);
            }
        }
    }

    @Property(tries = 200)
    void regionSetAgreesWithBitSet(@ForAll @Size(max = 60) List<@IntRange(min = 0, max = 2999) Integer> ops) {
        RegionSet s = new RegionSet(3000);
        BitSet model = new BitSet();
        for (int i = 0; i + 1 < ops.size(); i += 2) {
            int a = Math.min(ops.get(i), ops.get(i + 1));
            int b = Math.max(ops.get(i), ops.get(i + 1)) + 1;
            if ((ops.get(i) & 1) == 0) {
                assertEquals(b - a - model.get(a, b).cardinality(), s.add(a, b));
                model.set(a, b);
            } else {
                assertEquals(model.get(a, b).cardinality(), s.remove(a, b));
                model.clear(a, b);
            }
            assertEquals(model.cardinality(), s.count());
            assertEquals(model.get(a, b).cardinality() == b - a, s.containsAll(a, b));
            assertEquals(model.nextSetBit(a), (int) s.nextSet(a));
            assertEquals(Math.min(3000, model.nextClearBit(a)), (int) s.nextClear(a));
        }
    }

    private static RegionSet readFile(Path file, long diskBytes, String bootNow, List<String> notes) throws IOException {
        RegionSet onDisk = new RegionSet(DirtyRegionLog.regions(diskBytes, 65536));
        DirtyRegionLog.decode(ByteBuffer.wrap(Files.readAllBytes(file)), DISK, diskBytes, 65536, bootNow, onDisk, notes);
        return onDisk;
    }

    @Test
    void marksAreInTheFileAtOnceOnlyNewChunksAreForcedAndDirtyRegionsCostNothing() throws IOException {
        Path file = dir.resolve("d.drl");
        long diskBytes = 1L << 30; // 16384 regions of 64 KiB, 16 chunks of 64 MiB
        try (DirtyRegionLog log = DirtyRegionLog.open(file, DISK, diskBytes, 65536, BOOT)) {
            assertEquals(64L << 20, log.chunkBytes());
            long[] c0 = log.counters();
            assertTrue(log.mark(3, 5), "a new chunk: to be forced");
            log.awaitForced();
            long[] c1 = log.counters();
            assertEquals(c0[0] + 2, c1[0], "one region page and one chunk page written");
            assertEquals(c0[1] + 1, c1[1], "one force");

            assertFalse(log.mark(900, 901), "a new region in a dirty chunk: written, not forced");
            log.awaitForced();
            long[] c2 = log.counters();
            assertEquals(c1[0] + 1, c2[0]);
            assertEquals(c1[1], c2[1], "no force for a region of a chunk already dirty");

            assertFalse(log.mark(3, 4));
            log.awaitForced();
            assertEquals(c2[0], log.counters()[0], "no write for a dirty region");
            assertEquals(c2[1], log.counters()[1], "no force for a dirty region");

            // the file, read while the log is open, has every mark (the agent was killed now: same boot)
            List<String> notes = new ArrayList<>();
            RegionSet onDisk = readFile(file, diskBytes, BOOT, notes);
            assertEquals(3, onDisk.count(), onDisk.toString());
            assertTrue(onDisk.containsAll(3, 5) && onDisk.contains(900));
            assertEquals(List.of(), notes);
            // the machine crashed now: the forced chunk covers every mark, written or not
            RegionSet afterCrash = readFile(file, diskBytes, "boot-2", new ArrayList<>());
            assertEquals(1024, afterCrash.count(), "the one dirty chunk, 64 MiB");
            assertTrue(afterCrash.containsAll(0, 1024));

            RegionSet clear = new RegionSet(onDisk.size());
            clear.add(3, 4);
            assertEquals(1, log.clear(clear));
        }
        try (DirtyRegionLog again = DirtyRegionLog.open(file, DISK, diskBytes, 65536, "boot-2")) {
            RegionSet s = again.snapshot();
            assertEquals(2, s.count(), "closed cleanly: exact, even in another boot");
            assertTrue(s.contains(4) && s.contains(900));
            assertEquals(List.of(), again.notes());
            RegionSet all = new RegionSet(s.size());
            all.add(0, s.size());
            again.clear(all);
            assertEquals(0, readFile(file, diskBytes, "boot-3", new ArrayList<>()).count(), "chunks cleared too");
        }
    }

    @Test
    void oneForceCoversEveryMarkWrittenBeforeItWhoeverWaits() throws Exception {
        long diskBytes = 1L << 30;
        try (DirtyRegionLog log = DirtyRegionLog.open(dir.resolve("g.drl"), DISK, diskBytes, 65536, BOOT)) {
            long forces = log.counters()[1];
            for (int chunk = 0; chunk < 8; chunk++) {
                assertTrue(log.mark(chunk * 1024L + 7, chunk * 1024L + 8)); // eight writers' new chunks
            }
            List<Thread> waiters = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int i = 0; i < 8; i++) {
                Thread t = new Thread(() -> {
                    try {
                        log.awaitForced();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                waiters.add(t);
                t.start();
            }
            for (Thread t : waiters) {
                t.join();
            }
            assertEquals(List.of(), failures);
            assertEquals(forces + 1, log.counters()[1], "eight waiters, one force (group commit)");
        }
    }

    @Test
    void aLogOfAnotherDiskOrWithABadHeaderMakesEveryRegionDirty() throws IOException {
        Path file = dir.resolve("d.drl");
        long diskBytes = 10L << 20;
        try (DirtyRegionLog log = DirtyRegionLog.open(file, "other:disk", diskBytes, 65536, BOOT)) {
            log.mark(0, 1);
            log.awaitForced();
        }
        try (DirtyRegionLog log = DirtyRegionLog.open(file, DISK, diskBytes, 65536, BOOT)) {
            assertEquals(160, log.snapshot().count());
            assertTrue(log.notes().get(0).contains("belongs to disk 'other:disk'"), log.notes().toString());
        }
        try (DirtyRegionLog log = DirtyRegionLog.open(file, DISK, diskBytes, 65536, BOOT)) {
            assertEquals(160, log.snapshot().count(), "the repaired log was rewritten with every region dirty");
            assertEquals(List.of(), log.notes());
        }
        Files.write(file, new byte[] {1, 2, 3});
        try (DirtyRegionLog log = DirtyRegionLog.open(file, DISK, diskBytes, 65536, BOOT)) {
            assertEquals(160, log.snapshot().count());
            assertTrue(log.notes().get(0).contains("shorter than its 4096-byte header"), log.notes().toString());
        }
    }

    @Test
    void badGeometryIsRefusedWithAClearMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DirtyRegionLog.open(dir.resolve("x.drl"), DISK, 1 << 20, 3000, BOOT));
        assertTrue(e.getMessage().contains("power of two from 4096"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TrackingOptions(65536, -1,
                TrackingOptions.DEFAULT_BITMAP_AFTER, TrackingOptions.DEFAULT_CLEAR_DELAY));
        IllegalArgumentException spill = assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.defaults(new java.net.InetSocketAddress("127.0.0.1", 1), dir)
                        .withTracking(TrackingOptions.defaults().withSpillBytes(1000)));
        assertTrue(spill.getMessage().contains("spillBytes (1000) must be 0"), spill.getMessage());
        IllegalArgumentException clear = assertThrows(IllegalArgumentException.class,
                () -> Settings.tracking(65536, 0, 300, 5));
        assertTrue(clear.getMessage().contains("dirtyClearMillis must be >= 10"), clear.getMessage());
    }
}
