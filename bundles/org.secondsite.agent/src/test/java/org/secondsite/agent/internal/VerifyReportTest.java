package org.secondsite.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.BitSet;
import java.util.List;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import org.junit.jupiter.api.Test;
import org.secondsite.agent.internal.VerifyReport.Region;
import org.secondsite.agent.internal.VerifyReport.Regions;
import org.secondsite.api.model.DiskId;

/** Region merging and the verification report. */
class VerifyReportTest {
    private static final DiskId DISK = DiskId.of("web01:disk0");

    @Test
    void overlappingAndAdjacentRegionsMerge() {
        Regions r = new Regions()
                .add(8192, 4096)      // [8192, 12288)
                .add(0, 4096)         // [0, 4096)
                .add(4096, 4096)      // adjacent: [0, 8192) joins [8192, 12288)
                .add(20480, 4096)
                .add(22000, 10000)    // overlaps [20480, 24576): [20480, 32000)
                .add(40000, 0);       // empty: nothing
        assertEquals(List.of(new Region(0, 12288), new Region(20480, 11520)), r.list());
        assertEquals(12288 + 11520, Regions.bytes(r.list()));
        r.add(0, 40000); // swallows everything
        assertEquals(List.of(new Region(0, 40000)), r.list());
    }

    @Test
    void removingCutsRegions() {
        Regions r = new Regions().add(0, 100).add(200, 100);
        r.remove(50, 10);   // splits the first
        r.remove(250, 100); // cuts the tail of the second
        r.remove(90, 115);  // removes [90, 100) and [200, 205)
        assertEquals(List.of(new Region(0, 50), new Region(60, 30), new Region(205, 45)), r.list());
        r.remove(0, 1000);
        assertTrue(r.isEmpty());
    }

    /** The merged list covers exactly the bytes a bit set of the same adds and removes covers, in disjoint, non-adjacent ranges. */
    @Property(tries = 300)
    void mergingMatchesAByteModel(@ForAll @Size(max = 40) List<@IntRange(min = 0, max = 4095) Integer> starts,
                                  @ForAll @Size(max = 40) List<@IntRange(min = 0, max = 300) Integer> lengths,
                                  @ForAll @Size(max = 40) List<Boolean> removes) {
        Regions r = new Regions();
        BitSet model = new BitSet();
        int n = Math.min(starts.size(), Math.min(lengths.size(), removes.size()));
        for (int i = 0; i < n; i++) {
            int from = starts.get(i);
            int len = lengths.get(i);
            if (removes.get(i)) {
                r.remove(from, len);
                model.clear(from, from + len);
            } else {
                r.add(from, len);
                model.set(from, from + len);
            }
        }
        BitSet got = new BitSet();
        long previousEnd = -1;
        for (Region x : r.list()) {
            assertTrue(x.offset() > previousEnd, "disjoint, ascending and not adjacent: " + r.list());
            previousEnd = x.end();
            got.set((int) x.offset(), (int) x.end());
        }
        assertEquals(model, got);
        assertEquals(model.cardinality(), Regions.bytes(r.list()));
    }

    @Test
    void theReportCountsAndDescribes() {
        VerifyReport r = new VerifyReport(DISK, VerifyReport.Mode.VERIFY, VerifyReport.Outcome.COMPLETED, "", 1 << 20,
                List.of(new Region(0, 4096), new Region(65536, 8192)), List.of(new Region(131072, 4096)), 0,
                Instant.parse("2026-11-27T18:00:00Z"), Duration.ofMillis(1234));
        assertEquals(2, r.mismatchCount());
        assertEquals(12288, r.mismatchBytes());
        assertEquals(4096, r.skippedBytes());
        assertFalse(r.clean());
        String text = r.describe(1);
        assertTrue(text.startsWith("Verification of web01:disk0: completed after 1234 ms; 1048576 bytes compared"),
                text);
        assertTrue(text.contains("Mismatched regions: 2 (12288 bytes)"), text);
        assertTrue(text.contains("  offset 0 length 4096\n  ... and 1 more"), text);
        assertTrue(text.contains("Skipped, written during the whole pass: 1 (4096 bytes)"), text);
        assertFalse(text.contains("Repaired"), "a compare-only verification repairs nothing: " + text);

        VerifyReport clean = new VerifyReport(DISK, VerifyReport.Mode.VERIFY, VerifyReport.Outcome.COMPLETED, "", 10,
                List.of(), List.of(), 0, Instant.EPOCH, Duration.ZERO);
        assertTrue(clean.clean());
        VerifyReport cancelled = new VerifyReport(DISK, VerifyReport.Mode.VERIFY_AND_REPAIR,
                VerifyReport.Outcome.CANCELLED, "a resync was requested", 10, List.of(), List.of(), 0, Instant.EPOCH,
                Duration.ZERO);
        assertFalse(cancelled.clean());
        assertTrue(cancelled.describe(5).contains("cancelled (a resync was requested)"), cancelled.describe(5));
    }

    @Test
    void badFiguresAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VerifyReport(DISK,
                VerifyReport.Mode.VERIFY, VerifyReport.Outcome.FAILED, "", 0, List.of(), List.of(), 0, Instant.EPOCH,
                Duration.ZERO));
        assertTrue(e.getMessage().contains("a reason is given if and only if"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Region(-1, 10));
        assertThrows(IllegalArgumentException.class, () -> new Region(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Regions().add(-5, 10));
    }
}
