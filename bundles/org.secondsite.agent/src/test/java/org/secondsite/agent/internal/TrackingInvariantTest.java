package org.secondsite.agent.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;

/**
 * The promise of {@code ChangeSink.accept}: at any moment, every accepted write is either
 * acknowledged by the process server or has all its regions marked in the dirty-region log
 * <em>on disk</em> — whatever the tier, while the process server comes and goes and the log is
 * cleared behind the writes.
 */
class TrackingInvariantTest {
    static final DiskId DISK = TieredTrackingTest.DISK;
    static final int DISK_SIZE = 8 << 20;
    static final int REGION = TieredTrackingTest.REGION;

    private Path dir;

    @BeforeTry
    void makeDir() throws Exception {
        dir = Files.createTempDirectory("tracking-invariant");
    }

    @AfterTry
    void removeDir() throws Exception {
        ChangeCache.deleteAll(dir);
    }

    /** One step: a write (offset, length), or the process server going down (-1) or up (-2). */
    @Provide
    Arbitrary<List<long[]>> steps() {
        Arbitrary<long[]> write = Arbitraries.longs().between(0, DISK_SIZE - 8).flatMap(off ->
                Arbitraries.integers().between(8, 64 << 10).map(len -> new long[] {off, Math.min(len, DISK_SIZE - off)}));
        Arbitrary<long[]> link = Arbitraries.of(-1L, -2L).map(k -> new long[] {k, 0});
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(12, write), net.jqwik.api.Tuple.of(1, link))
                .list().ofMinSize(20).ofMaxSize(120);
    }

    @Property(tries = 25)
    void everyAcceptedWriteIsAcknowledgedOrDirtyOnDisk(@ForAll("steps") List<long[]> steps,
                                                       @ForAll boolean spill, @ForAll boolean shortOutage)
            throws Exception {
        FakeProcessServer ps = new FakeProcessServer();
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        ps.onApply = b -> {
            for (ChangeRecord r : b.records()) {
                if (r.kind() == ChangeKind.WRITE && r.length() >= 8) {
                    acked.add(r.data().getLong());
                }
            }
        };
        List<long[]> accepted = new ArrayList<>(); // {id, offset, length}
        try (Agent a = TieredTrackingTest.agent(dir, ps, t -> t.withSpillBytes(spill ? 1 << 20 : 0)
                .withClearDelay(Duration.ofMillis(10))
                .withBitmapAfter(shortOutage ? Duration.ofMillis(30) : Duration.ofHours(1)))) {
            Agent.DiskStream sink = (Agent.DiskStream) a.protect(DISK, null, DISK_SIZE);
            long id = 1L << 40;
            for (long[] step : steps) {
                if (step[0] == -1) {
                    ps.up(false);
                } else if (step[0] == -2) {
                    ps.up(true);
                } else {
                    int len = (int) step[1];
                    ByteBuffer data = ByteBuffer.allocate(len).putLong(0, ++id);
                    sink.accept(ChangeRecord.write(step[0], data));
                    accepted.add(new long[] {id, step[0], len});
                }
                check(a, accepted, acked);
            }
        }
    }

    private static void check(Agent a, List<long[]> accepted, Set<Long> acked) throws Exception {
        RegionSet onDisk = TieredTrackingTest.readLog(a, DISK_SIZE);
        for (long[] w : accepted) {
            long from = w[1] / REGION;
            long to = (w[1] + w[2] + REGION - 1) / REGION;
            if (!acked.contains(w[0])) {
                assertTrue(onDisk.containsAll(from, to), () -> "write " + w[0] + " at " + w[1] + "+" + w[2]
                        + " is neither acknowledged nor dirty in the log on disk: " + onDisk);
            }
        }
    }
}
