package org.secondsite.mastertarget.internal.retention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.model.TagKind;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.ObjectStore;
import org.secondsite.storage.file.internal.FileStorageBackend;

/**
 * Random writes, zeros, tags, prunes (by window and by a space cap), reopens and crashes
 * (journaled and written but not committed) against a model: after every step every listed
 * point's view equals the model's content at that point, the replicas equal the committed
 * model, and a view kept open across steps stays right.
 */
class RetentionProperties {
    static final GroupId G = GroupId.of("g");
    static final DiskId[] DISKS = {DiskId.of("g:a"), DiskId.of("g:b")};
    static final int SIZE = 256 << 10;
    static final long SEGMENT = 2L * (RetentionJournal.MAX_CHUNK + RetentionJournal.FIXED + RetentionJournal.MAX_DISK_ID);
    static final Instant BASE = Instant.parse("2026-01-01T00:00:00Z");

    /** The model: a replica's content and what the apply path persists. */
    static final class World {
        final MemoryDisk[] replicas = {new MemoryDisk(SIZE), new MemoryDisk(SIZE)};
        final long[] seq = new long[2];
        Properties state = new Properties();
        final Map<String, byte[][]> expected = new HashMap<>();
        Retention r;
        final ObjectStore store;
        final RetentionSettings settings;

        World(ObjectStore store, RetentionSettings settings) throws IOException {
            this.store = store;
            this.settings = settings;
            open();
        }

        void open() throws IOException {
            r = Retention.open(store, state, d -> replicas[d.equals(DISKS[0]) ? 0 : 1], settings, SEGMENT);
            if (r.journal().discardedOnOpen()) {
                persist();
            }
        }

        void persist() throws IOException {
            Properties p = new Properties();
            p.setProperty("a.seq", Long.toString(seq[0]));
            p.setProperty("b.seq", Long.toString(seq[1]));
            r.save(p);
            // through text, as the master target's state object travels
            StringWriter w = new StringWriter();
            p.store(w, null);
            Properties q = new Properties();
            q.load(new StringReader(w.toString()));
            state = q;
        }

        /** One batch per disk, the second carrying a tag on both when tagged; committed unless crash. */
        void batch(Random rnd, boolean tagged, int step, boolean crash) throws IOException {
            List<PointCatalogue.TagSeen> seen = new ArrayList<>();
            boolean taggedUnit = false;
            ConsistencyTag tag = tagged ? new ConsistencyTag(new UUID(step, rnd.nextLong()), "t" + (step % 5),
                    rnd.nextBoolean() ? TagKind.BOOKMARK : TagKind.APPLICATION, BASE.plusSeconds(step)) : null;
            byte[][] before = {replicas[0].bytes.clone(), replicas[1].bytes.clone()};
            for (int d = 0; d < 2; d++) {
                long s = seq[d] + 1;
                int n = 1 + rnd.nextInt(4);
                long[][] recs = new long[n][];
                for (int i = 0; i < n; i++) {
                    int len = 1 + rnd.nextInt(32 << 10);
                    recs[i] = new long[] {rnd.nextInt(SIZE - len), len, rnd.nextInt(5) == 0 ? 1 : 0, rnd.nextLong()};
                }
                r.beginGroup();
                if (taggedUnit || r.journaling(G)) {
                    for (long[] rec : recs) {
                        r.journal(DISKS[d], s, rec[0], rec[1], replicas[d]);
                    }
                    r.sync();
                }
                for (long[] rec : recs) {
                    if (rec[2] == 1) {
                        replicas[d].zero(rec[0], rec[1]);
                    } else {
                        byte[] data = new byte[(int) rec[1]];
                        new Random(rec[3]).nextBytes(data);
                        replicas[d].write(rec[0], ByteBuffer.wrap(data));
                    }
                }
                seq[d] = s;
                if (tag != null) {
                    seen.add(new PointCatalogue.TagSeen(DISKS[d], G, s, tag));
                    taggedUnit = true;
                }
            }
            if (crash) {
                // journaled and written, never committed: a reopen must roll the replicas back
                seq[0]--;
                seq[1]--;
                r.journal().close();
                r = null;
                open();
                assertArrayEquals(before[0], replicas[0].bytes, "replica a rolled back to the committed state");
                assertArrayEquals(before[1], replicas[1].bytes, "replica b rolled back to the committed state");
                return;
            }
            Retention.Commit c = r.commitTags(seen, g -> Set.of(DISKS));
            persist();
            r.committed(c);
            for (PointCatalogue.Point p : c.prepared().points()) {
                expected.put(p.point().id(), new byte[][] {replicas[0].bytes.clone(), replicas[1].bytes.clone()});
            }
        }

        void checkAllPoints() throws IOException {
            List<RecoveryPoint> points = r.points(java.util.Optional.empty());
            for (RecoveryPoint p : points) {
                byte[][] want = expected.get(p.id());
                for (int d = 0; d < 2; d++) {
                    try (PointView v = r.openView(p.id(), DISKS[d], replicas[d], SIZE)) {
                        assertArrayEquals(want[d], MemoryDisk.readAll(v), "view of " + DISKS[d] + " at " + p.id());
                    }
                }
            }
            // the oldest listed point is the oldest made and not dropped: listed points are a suffix
            List<String> made = expected.keySet().stream()
                    .sorted(Comparator.comparingLong(id -> Long.parseLong(id.substring(id.lastIndexOf('-') + 1))))
                    .toList();
            List<String> listed = points.stream().map(RecoveryPoint::id)
                    .sorted(Comparator.comparingLong(id -> Long.parseLong(id.substring(id.lastIndexOf('-') + 1))))
                    .toList();
            assertEquals(made.subList(made.size() - listed.size(), made.size()), listed, "points drop oldest first");
        }
    }

    @Property(tries = 20)
    void everyListedPointMaterialisesThroughWritesPrunesReopensAndCrashes(@ForAll long seed,
            @ForAll @IntRange(min = 20, max = 70) int steps, @ForAll @IntRange(min = 10, max = 200) int windowSeconds)
            throws Exception {
        Path dir = Files.createTempDirectory("retention-prop");
        try {
            ObjectStore store = new FileStorageBackend(dir).objects(RetentionJournal.NAMESPACE);
            World w = new World(store, new RetentionSettings(Duration.ofSeconds(windowSeconds), 64L << 20));
            Random rnd = new Random(seed);
            PointView live = null;
            String liveId = null;
            int liveDisk = 0;
            for (int step = 1; step <= steps; step++) {
                int op = rnd.nextInt(100);
                if (op < 70) {
                    w.batch(rnd, rnd.nextInt(3) == 0, step, false);
                } else if (op < 80) {
                    long used = w.r.journal().usedBytes();
                    long cap = used == 0 ? 0 : used / 2 + rnd.nextLong(used / 2 + 1);
                    Retention.PrunePlan plan = w.r.planPrune(BASE.plusSeconds(step), cap);
                    w.persist();
                    w.r.deleteSegments(plan);
                } else if (op < 88) {
                    if (live != null) {
                        live.close();
                        live = null;
                    }
                    w.r.close();
                    w.open();
                } else if (op < 94 && w.r.journaling(G)) {
                    // (before a group's first point its writes are not journaled: the process server's
                    // resend repairs a crash then, and no point can be harmed)
                    if (live != null) {
                        live.close();
                        live = null;
                    }
                    w.batch(rnd, rnd.nextBoolean(), step, true);
                } else if (live == null) {
                    List<RecoveryPoint> points = w.r.points(java.util.Optional.empty());
                    if (!points.isEmpty()) {
                        liveId = points.get(rnd.nextInt(points.size())).id();
                        liveDisk = rnd.nextInt(2);
                        live = w.r.openView(liveId, DISKS[liveDisk], w.replicas[liveDisk], SIZE);
                    }
                }
                w.checkAllPoints();
                if (live != null) {
                    String id = liveId;
                    assertTrue(w.r.points(java.util.Optional.empty()).stream().anyMatch(p -> p.id().equals(id)),
                            "a point with an open view is never pruned");
                    assertArrayEquals(w.expected.get(liveId)[liveDisk], MemoryDisk.readAll(live), "open view " + liveId);
                }
            }
            if (live != null) {
                live.close();
            }
            w.r.close();
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
