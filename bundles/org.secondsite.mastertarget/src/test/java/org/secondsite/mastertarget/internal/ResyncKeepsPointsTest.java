package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.model.TagKind;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;
import org.secondsite.testkit.TestData;

/**
 * The last consistent point stays recoverable while a resync runs and after it: the resync's
 * writes to the replica go through the same journaled apply as any batch, and the agent cuts no
 * checkpoint while the replica is inconsistent.
 */
class ResyncKeepsPointsTest {
    static final int SIZE = 16 << 20;
    static final Duration BUDGET = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void aPointTakenBeforeAResyncStillMaterialisesExactlyDuringAndAfterIt() throws Exception {
        Path src = dir.resolve("source.img");
        Files.write(src, TestData.mixed(SIZE, 41));
        try (Pipeline p = new Pipeline(dir); SourceDisk disk = new SourceDisk(src)) {
            p.startMt().startPs().startAgent(o -> o.withCheckpointInterval(Duration.ofMillis(100)));
            p.agent.protect(Pipeline.DISK, Pipeline.group(), SIZE);
            p.agent.attachSource(Pipeline.DISK, disk);
            awaitResync(p, "initial replication");
            await().atMost(BUDGET).until(() -> p.agent.isDrained(Pipeline.DISK)
                    && p.mt.lastApplied(Pipeline.DISK) == p.agent.disks().get(0).lastSequence());
            String before = Pipeline.sha256(src);

            ConsistencyTag tag = new ConsistencyTag(UUID.randomUUID(), "before-resync", TagKind.BOOKMARK, Instant.now());
            assertTrue(p.agent.insertTag(Pipeline.group(), tag).ok());
            RecoveryPoint point = await().atMost(BUDGET).until(() -> p.mt.points(Optional.empty()).stream()
                    .filter(x -> x.tag().filter("before-resync"::equals).isPresent()).findFirst(), Optional::isPresent)
                    .orElseThrow();
            assertEquals(before, viewSha256(p, point));

            // The source changes behind the agent's back (restored from a backup, say): a resync sends the
            // differences, overwriting replica blocks the point still needs.
            scribble(src, 300, 43);
            String after = Pipeline.sha256(src);
            assertNotEquals(before, after);
            p.agent.requestResync(Pipeline.DISK, "test: source restored");
            await().atMost(BUDGET).pollInterval(Duration.ofMillis(5)).until(() -> p.agent.resyncProgress(Pipeline.DISK)
                    .filter(r -> r.reason().equals("test: source restored")).isPresent());
            // While it runs: no newer crash-consistent point appears than the replica can honour, and ours holds.
            assertEquals(before, viewSha256(p, point));
            awaitResync(p, "test: source restored");
            await().atMost(BUDGET).until(() -> p.agent.isDrained(Pipeline.DISK)
                    && p.mt.lastApplied(Pipeline.DISK) == p.agent.disks().get(0).lastSequence());

            assertEquals(after, p.replicaSha256());
            assertEquals(before, viewSha256(p, point), "the point before the resync is intact after it");
            List<RecoveryPoint> points = p.mt.points(Optional.empty());
            RecoveryPoint newest = points.get(points.size() - 1);
            assertTrue(!newest.time().isBefore(point.time()));
            // The newest point (the resync's closing bookmark or a checkpoint after it) holds the new content.
            await().atMost(BUDGET).until(() -> {
                List<RecoveryPoint> all = p.mt.points(Optional.empty());
                return viewSha256(p, all.get(all.size() - 1)).equals(after);
            });
        }
    }

    private static void awaitResync(Pipeline p, String reason) {
        await().atMost(BUDGET).pollInterval(Duration.ofMillis(20)).until(() -> p.agent.resyncProgress(Pipeline.DISK)
                .filter(r -> r.reason().equals(reason) && (r.phase() == ResyncProgress.Phase.DONE
                        || r.phase() == ResyncProgress.Phase.FAILED)).isPresent());
        ResyncProgress r = p.agent.resyncProgress(Pipeline.DISK).orElseThrow();
        assertEquals(ResyncProgress.Phase.DONE, r.phase(), r.message());
    }

    private static void scribble(Path file, int blocks, long seed) throws Exception {
        Random r = new Random(seed);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (int i = 0; i < blocks; i++) {
                byte[] data = new byte[4096];
                r.nextBytes(data);
                DiskFiles.writeFully(ch, (long) r.nextInt(SIZE / 4096) * 4096, ByteBuffer.wrap(data));
            }
            ch.force(false);
        }
    }

    private static String viewSha256(Pipeline p, RecoveryPoint point) throws Exception {
        try (BlockDevice view = p.mt.openView(point.id(), Pipeline.DISK)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            for (long off = 0; off < view.size(); off += buf.capacity()) {
                buf.clear();
                view.read(off, buf);
                md.update(buf.array(), 0, buf.position());
            }
            return HexFormat.of().formatHex(md.digest());
        }
    }
}
