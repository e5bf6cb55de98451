package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.PointKind;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.mastertarget.internal.retention.PointDetail;
import org.secondsite.mastertarget.internal.retention.RetentionSettings;
import org.secondsite.mastertarget.internal.retention.RetentionStatus;
import org.secondsite.mastertarget.internal.retention.UnknownPointException;

/**
 * Batches with tags through the master target's real receiver and applier (a process server
 * spoken by hand over TLS, file storage): every tag shared by both disks of the group becomes
 * a point, and every point's view equals the source at that tag, also while replication goes
 * on, after a restart, and for a tag completed across a restart.
 */
class RecoveryPointsEndToEndTest {
    static final Duration BUDGET = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    static Pipeline pipeline(Path dir) throws Exception {
        Pipeline p = new Pipeline(dir);
        p.mtTweak = o -> o.withRetention(new RetentionSettings(Duration.ofDays(36500), 1L << 30), 4L << 20);
        return p;
    }

    static FakeProcessServer connect(Pipeline p) throws IOException {
        FakeProcessServer ps = new FakeProcessServer(p.tls, p.mtAddress, p.psSecurity, (d, s) -> { });
        for (DiskId d : CheckpointPlan.DISKS) {
            ps.diskInfo(d, CheckpointPlan.GROUP, CheckpointPlan.DISK_BYTES);
        }
        return ps;
    }

    static void send(FakeProcessServer ps, CheckpointPlan plan, int disk, long from, long to) throws IOException {
        for (long s = from; s <= to; s++) {
            ps.send(plan.batch(disk, s));
        }
    }

    static void awaitAcked(FakeProcessServer ps, int disk, long seq) {
        DiskId d = CheckpointPlan.DISKS.get(disk);
        await().atMost(BUDGET).until(() -> {
            assertEquals(null, ps.failure(), "the master target ended the connection");
            return ps.acked.getOrDefault(d, 0L) >= seq;
        });
    }

    static byte[] readAll(BlockDevice d) throws IOException {
        byte[] out = new byte[(int) d.size()];
        ByteBuffer b = ByteBuffer.wrap(out);
        int piece = 1;
        while (b.hasRemaining()) { // uneven pieces cross the view's range borders
            int n = Math.min(b.remaining(), piece);
            d.read(b.position(), b.slice().limit(n));
            b.position(b.position() + n);
            piece = piece * 13 % 300_007 + 1;
        }
        return out;
    }

    /** Every listed point's view of both disks equals the plan's content at the point's sequence. */
    static int checkAllPoints(MasterTarget mt, CheckpointPlan plan) throws Exception {
        List<RecoveryPoint> points = mt.points(Optional.of(CheckpointPlan.GROUP));
        for (int disk = 0; disk < 2; disk++) {
            DiskId d = CheckpointPlan.DISKS.get(disk);
            TreeSet<Long> seqs = new TreeSet<>();
            for (RecoveryPoint rp : points) {
                seqs.add(mt.point(rp.id()).sequences().get(d));
            }
            Map<Long, String> want = plan.hashesAfter(disk, seqs);
            for (RecoveryPoint rp : points) {
                long seq = mt.point(rp.id()).sequences().get(d);
                try (BlockDevice v = mt.openView(rp.id(), d)) {
                    assertEquals(want.get(seq), CheckpointPlan.sha256(readAll(v)),
                            "view of " + d + " at point " + rp.id() + " (seq " + seq + ")");
                }
            }
        }
        return points.size();
    }

    @Test
    void everyTagSharedByTheGroupIsAPointThatMaterialisesExactly() throws Exception {
        CheckpointPlan plan = new CheckpointPlan(7);
        try (Pipeline p = pipeline(dir)) {
            p.startMt();
            try (FakeProcessServer ps = connect(p)) {
                for (long s = 1; s <= 30; s++) {
                    send(ps, plan, 0, s, s);
                    send(ps, plan, 1, s, s);
                }
                awaitAcked(ps, 0, 30);
                awaitAcked(ps, 1, 30);
                List<RecoveryPoint> points = p.mt.points(Optional.empty());
                List<String> names = new ArrayList<>();
                for (RecoveryPoint rp : points) {
                    names.add(rp.tagName());
                    assertEquals(PointKind.CRASH_CONSISTENT, rp.kind());
                    assertEquals(CheckpointPlan.GROUP, rp.group());
                }
                List<String> expected = new ArrayList<>();
                for (long s = 1; s <= 30; s++) {
                    if (CheckpointPlan.tagged(s)) {
                        expected.add("cp-" + s);
                    }
                }
                assertEquals(expected, names, "one point per tag, sorted by time");
                PointDetail cp9 = p.mt.point(points.get(3).id());
                assertEquals(Map.of(CheckpointPlan.DISKS.get(0), 9L, CheckpointPlan.DISKS.get(1), 9L), cp9.sequences());
                assertEquals(11, checkAllPoints(p.mt, plan));

                // a view stays right while replication overwrites what it shows
                RecoveryPoint cp3 = points.get(1);
                DiskId d0 = CheckpointPlan.DISKS.get(0);
                try (BlockDevice open = p.mt.openView(cp3.id(), d0)) {
                    String at3 = CheckpointPlan.sha256(plan.contentAfter(0, 3));
                    assertEquals(at3, CheckpointPlan.sha256(readAll(open)));
                    // a reader reads the whole view again and again while the batches are applied
                    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                    java.util.concurrent.CompletableFuture<List<String>> reader =
                            java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                                List<String> seen = new ArrayList<>();
                                try {
                                    while (!stop.get() || seen.isEmpty()) {
                                        seen.add(CheckpointPlan.sha256(readAll(open)));
                                    }
                                } catch (Exception e) {
                                    throw new java.util.concurrent.CompletionException(e);
                                }
                                return seen;
                            });
                    for (long s = 31; s <= 45; s++) {
                        send(ps, plan, 0, s, s);
                        send(ps, plan, 1, s, s);
                    }
                    awaitAcked(ps, 0, 45);
                    awaitAcked(ps, 1, 45);
                    stop.set(true);
                    List<String> seen = reader.get(60, java.util.concurrent.TimeUnit.SECONDS);
                    for (String h : seen) {
                        assertEquals(at3, h, "a read of the open view during apply (" + seen.size() + " reads)");
                    }
                    assertEquals(at3, CheckpointPlan.sha256(readAll(open)), "the open view after 15 more batches");
                    assertTrue(open.isReadOnly());
                    IOException e = assertThrows(IOException.class, () -> open.write(0, ByteBuffer.allocate(1)));
                    assertEquals("read-only recovery point view", e.getMessage());
                    assertEquals(1, p.mt.retention().openViews());
                }
                assertEquals(0, p.mt.retention().openViews());

                // a tag completed on one disk only is pending, across a restart
                send(ps, plan, 0, 46, 48);
                awaitAcked(ps, 0, 48);
                assertEquals(16, p.mt.points(Optional.empty()).size(), "cp-48 waits for the second disk");
            }
            p.mt.close();
            p.mtAddress = new java.net.InetSocketAddress("127.0.0.1", 0);
            p.startMt();
            try (FakeProcessServer ps = connect(p)) {
                assertEquals(Map.of(CheckpointPlan.DISKS.get(0), 48L, CheckpointPlan.DISKS.get(1), 45L),
                        ps.resume(CheckpointPlan.DISKS));
                send(ps, plan, 1, 46, 48);
                awaitAcked(ps, 1, 48);
                List<RecoveryPoint> points = p.mt.points(Optional.of(CheckpointPlan.GROUP));
                assertEquals(17, points.size());
                assertEquals("cp-48", points.get(16).tagName());
                assertEquals(17, checkAllPoints(p.mt, plan));
                RetentionStatus st = p.mt.retention();
                assertEquals("cp-1", st.oldest().orElseThrow().tagName());
                assertEquals("cp-48", st.newest().orElseThrow().tagName());
                assertTrue(st.usedBytes() > 0);
                // the replica holds the newest state
                try (BlockDevice v = p.mt.openView(points.get(16).id(), CheckpointPlan.DISKS.get(1))) {
                    assertEquals(CheckpointPlan.sha256(plan.contentAfter(1, 48)), CheckpointPlan.sha256(readAll(v)));
                }
            }
        }
    }

    @Test
    void unknownPointsAndBadSettingsAreClearErrors() throws Exception {
        try (Pipeline p = pipeline(dir)) {
            p.startMt();
            try (FakeProcessServer ps = connect(p)) {
                await().atMost(BUDGET).until(() -> p.mt.disks().size() == 2);
                UnknownPointException e = assertThrows(UnknownPointException.class,
                        () -> p.mt.openView("app@1-1", CheckpointPlan.DISKS.get(0)));
                assertTrue(e.getMessage().contains("'app@1-1' is not listed"), e.getMessage());
                assertThrows(UnknownPointException.class, () -> p.mt.point("nope"));
                IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                        () -> RetentionSettings.of(0, 10240));
                assertTrue(w.getMessage().contains("window must be positive"), w.getMessage());
                IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                        () -> RetentionSettings.of(3600, 10));
                assertTrue(c.getMessage().contains("at least"), c.getMessage());
                p.mt.retention(RetentionSettings.of(3600, 64));
                assertEquals(64L << 20, p.mt.retention().settings().capBytes());
            }
        }
    }

    @Test
    void pruningDropsPointsOutsideTheWindowAndFreesTheirSegments() throws Exception {
        CheckpointPlan plan = new CheckpointPlan(11);
        try (Pipeline p = pipeline(dir)) {
            p.startMt();
            try (FakeProcessServer ps = connect(p)) {
                for (long s = 1; s <= 60; s++) {
                    send(ps, plan, 0, s, s);
                    send(ps, plan, 1, s, s);
                }
                awaitAcked(ps, 0, 60);
                awaitAcked(ps, 1, 60);
                RetentionStatus before = p.mt.retention();
                assertEquals(21, before.points());
                assertTrue(before.segments() > 1, "4 MiB segments rolled: " + before);
                String oldest = before.oldest().orElseThrow().id();
                // the plan's tags are from January 2026: a one-hour window leaves none of them
                p.mt.retention(RetentionSettings.of(3600, 64));
                send(ps, plan, 0, 61, 61); // the next commit prunes
                awaitAcked(ps, 0, 61);
                await().atMost(BUDGET).until(() -> p.mt.retention().points() == 0);
                RetentionStatus after = p.mt.retention();
                assertEquals(1, after.segments(), "only the segment being appended to is left: " + after);
                assertTrue(after.usedBytes() < before.usedBytes(), before + " -> " + after);
                UnknownPointException e = assertThrows(UnknownPointException.class, () -> p.mt.point(oldest));
                assertTrue(e.getMessage().contains("pruned"), e.getMessage());
                // replication goes on and the replicas hold the newest state
                send(ps, plan, 1, 61, 63);
                awaitAcked(ps, 1, 63);
                Path img = p.dir.resolve("storage").resolve("volumes")
                        .resolve(MasterTarget.volumeName(CheckpointPlan.DISKS.get(1)) + ".img");
                assertEquals(CheckpointPlan.sha256(plan.contentAfter(1, 63)), Pipeline.sha256(img));
            }
        }
    }
}
