package org.secondsite.mastertarget.internal.recovery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.PointKind;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.model.TagKind;
import org.secondsite.capture.nbd.internal.NbdCaptureDriver;
import org.secondsite.mastertarget.internal.recovery.Recovery.ExportInfo;
import org.secondsite.mastertarget.internal.recovery.Recovery.Mode;

/**
 * Point-in-time recovery proven with a real file system (issue 5, items 5 and 6). A disk is
 * protected through the NBD capture and used by the kernel's ext4 (nbdfuse + loop device); the
 * agent, process server and master target replicate it over TLS with a checkpoint every 200 ms.
 *
 * <ol>
 * <li>Application-consistent: files written and fsynced, {@code sync}, the file system frozen
 * ({@code fsfreeze}), an APPLICATION tag inserted, thawed; then files overwritten, deleted and
 * added. The tag's point exported read-only and attached through nbdfuse + a read-only loop
 * device passes {@code e2fsck -fn} and holds exactly the files of the tag, with their hashes.</li>
 * <li>Crash-consistent: a writer creates and fsyncs files without pause; three CHECKPOINT points
 * listed mid-write are exported in turn for test failover (writable scratch overlay):
 * {@code e2fsck -fy} replays the journal and exits with 0 or 1 (nothing left uncorrected),
 * {@code e2fsck -fn} is then clean, every file whose fsync returned before the point's time has its
 * hash, and the copy takes writes. Replication goes on meanwhile; discarding an export deletes its
 * scratch file and leaves the replica unchanged.</li>
 * </ol>
 *
 * <p>Needs root, {@code /dev/fuse} and the tools; skipped with the reason otherwise.
 */
class PointInTimeFilesystemTest {
    static final DiskId DISK = DiskId.of("fs01:disk0");
    static final GroupId GROUP = GroupId.of("fs01");
    static final int SIZE = 128 << 20;
    /** Crash-consistent points checked, each after ten more files. */
    static final int ROUNDS = 3;

    @TempDir
    Path dir;

    record Written(String path, String sha256, Instant synced) {
    }

    @Test
    void applicationAndCrashConsistentPointsOfAnExt4DiskRecoverWithTheirFiles() throws Exception {
        KernelAttachment.assumeKernelTools(List.of("nbdfuse", "fusermount3", "losetup", "mkfs.ext4", "mount",
                "umount", "e2fsck", "debugfs", "fsfreeze", "sync"));
        Path source = dir.resolve("source.img");
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        long t0 = System.nanoTime();
        try (Stack stack = Stack.start(dir, o -> o.withCheckpointInterval(Duration.ofMillis(200)))) {
            ChangeSink sink = stack.agent.protect(DISK, GROUP, SIZE);
            try (CaptureSession capture = new NbdCaptureDriver().start(
                    new CaptureSpec(DISK, source, Map.of("listen", "127.0.0.1:0")), sink)) {
                stack.agent.attachSource(DISK, capture.source());
                try (KernelAttachment src = KernelAttachment.attach(dir, "source", capture.endpoint(), false)) {
                    // no lazy initialisation: no background writes once the test stops writing
                    KernelAttachment.run(120, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                            src.loop);
                    src.mount("noatime");
                    long t1 = System.nanoTime();
                    applicationConsistent(stack, src);
                    long t2 = System.nanoTime();
                    crashConsistent(stack, src);
                    long t3 = System.nanoTime();
                    System.out.printf("PointInTimeFilesystemTest: setup %d ms, application-consistent %d ms,"
                            + " crash-consistent %d ms%n", (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
                            (t3 - t2) / 1_000_000);
                } finally {
                    stack.agent.detachSource(DISK, capture.source());
                }
            }
        }
    }

    private void applicationConsistent(Stack stack, KernelAttachment src) throws Exception {
        Random random = new Random(1);
        Map<String, byte[]> first = new LinkedHashMap<>();
        first.put("app/a.bin", bytes(random, 3 << 20));
        first.put("app/b.bin", bytes(random, (1 << 20) + 123));
        first.put("app/sub/c.bin", bytes(random, 2 << 20));
        first.put("app/sub/d.txt", "the state at the application tag\n".repeat(500).getBytes());
        first.put("app/empty", new byte[0]);
        first.put("app/zeros.bin", new byte[1 << 20]);
        for (Map.Entry<String, byte[]> e : first.entrySet()) {
            writeFile(src.mnt, e.getKey(), e.getValue());
        }
        KernelAttachment.run(60, "sync");
        await("tags accepted (initial replication done)").atMost(Stack.BUDGET).pollInterval(Duration.ofMillis(50))
                .until(() -> stack.agent.tagRefusal(GROUP).isEmpty());

        Map<String, String> atTag = new LinkedHashMap<>();
        ConsistencyTag tag = new ConsistencyTag(UUID.randomUUID(), "fs-app", TagKind.APPLICATION,
                Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        src.freeze();
        try {
            var inserted = stack.agent.insertTag(GROUP, tag);
            assertTrue(inserted.ok(), "application tag refused: " + inserted.refusal());
            for (String path : first.keySet()) { // reads are allowed while frozen
                atTag.put(path, Stack.sha256(Files.readAllBytes(src.mnt.resolve(path))));
            }
        } finally {
            src.unfreeze();
        }
        for (Map.Entry<String, byte[]> e : first.entrySet()) {
            assertEquals(Stack.sha256(e.getValue()), atTag.get(e.getKey()), "/" + e.getKey() + " at the tag");
        }

        // after the tag: overwrite, delete, add
        writeFile(src.mnt, "app/a.bin", bytes(random, 3 << 20));
        writeFile(src.mnt, "app/sub/d.txt", "changed after the tag\n".getBytes());
        Files.delete(src.mnt.resolve("app/b.bin"));
        Files.delete(src.mnt.resolve("app/sub/c.bin"));
        writeFile(src.mnt, "app/later.bin", bytes(random, 1 << 20));
        KernelAttachment.run(60, "sync");
        stack.awaitApplied(DISK); // the replica holds the changes: the point comes from the undo journal

        RecoveryPoint point = await("the application tag's point listed").atMost(Stack.BUDGET)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> stack.mt.points(Optional.of(GROUP)).stream()
                        .filter(p -> "fs-app".equals(p.tagName())).findFirst(), Optional::isPresent).orElseThrow();
        assertEquals(PointKind.APPLICATION_CONSISTENT, point.kind());
        assertEquals(tag.time(), point.time());

        List<ExportInfo> exports = stack.recovery.export("fs-app", point.id(), Optional.empty(), Mode.READ_ONLY);
        assertEquals(1, exports.size());
        try (KernelAttachment rec = KernelAttachment.attach(dir, "app-point", exports.get(0).uri(), true)) {
            KernelAttachment.Result fsck = KernelAttachment.exec(120, List.of("e2fsck", "-fn", rec.loop));
            assertEquals(0, fsck.exit(), () -> "e2fsck -fn of the application-consistent point:\n" + fsck.out());
            // e2fsprogs' own reader of the file system, then the kernel's (read-only mount, no journal replay)
            for (Map.Entry<String, String> e : atTag.entrySet()) {
                byte[] content = KernelAttachment.runBytes(60,
                        List.of("debugfs", "-R", "cat /" + e.getKey(), rec.loop));
                assertEquals(e.getValue(), Stack.sha256(content), "/" + e.getKey() + " at the point (debugfs)");
            }
            rec.mount("ro,noload");
            for (Map.Entry<String, String> e : atTag.entrySet()) {
                Path f = rec.mnt.resolve(e.getKey());
                assertTrue(Files.exists(f), "/" + e.getKey() + " missing at the point");
                assertEquals(e.getValue(), Stack.sha256(Files.readAllBytes(f)),
                        "/" + e.getKey() + " at the point (mount)");
            }
            assertFalse(Files.exists(rec.mnt.resolve("app/later.bin")), "a file made after the tag is not there");
            rec.umount();
        } finally {
            stack.recovery.discard("fs-app");
        }
        System.out.println("PointInTimeFilesystemTest: application-consistent point " + point.id() + ": e2fsck clean, "
                + atTag.size() + " files with their hashes");
    }

    private void crashConsistent(Stack stack, KernelAttachment src) throws Exception {
        List<Written> done = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Files.createDirectories(src.mnt.resolve("crash"));
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            Random random = new Random(2);
            try {
                for (int i = 0; !stop.get(); i++) {
                    String path = "crash/f-" + i + ".bin";
                    byte[] data = bytes(random, (64 << 10) + random.nextInt(448 << 10));
                    writeFile(src.mnt, path, data);
                    done.add(new Written(path, Stack.sha256(data), Instant.now()));
                    LockSupport.parkNanos(10_000_000); // a steady writer, not a flood on two shared cores
                }
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        try {
            String lastName = null;
            RecoveryPoint last = null;
            long appliedAtExport = 0;
            for (int round = 1; round <= ROUNDS; round++) {
                // a checkpoint listed after 10 * round files were fsynced, while the writer goes on
                int files = 10 * round;
                await(files + " files written").atMost(Stack.BUDGET)
                        .until(() -> done.size() >= files || writer.isDone());
                assertFalse(writer.isDone(), () -> "writer ended: " + writer.handle((v, e) -> e).join());
                Instant after = done.get(files - 1).synced();
                RecoveryPoint point = await("a checkpoint after file " + files).atMost(Stack.BUDGET)
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> stack.mt.points(Optional.of(GROUP)).stream()
                                .filter(p -> p.kind() == PointKind.CRASH_CONSISTENT && p.tagName() == null
                                        && p.time().isAfter(after)).findFirst(), Optional::isPresent)
                        .orElseThrow();
                String name = "fs-crash-" + round;
                appliedAtExport = stack.mt.lastApplied(DISK);
                List<ExportInfo> exports = stack.recovery.export(name, point.id(), Optional.empty(),
                        Mode.TEST_FAILOVER);
                Path scratch = dir.resolve("scratch").resolve(name + ".scratch");
                assertTrue(Files.exists(scratch), "scratch overlay " + scratch);
                boolean keep = round == ROUNDS;
                try {
                    checkCrashPoint(point, exports.get(0), name, done);
                    long scratchBytes = stack.recovery.exports().get(0).scratchBytes();
                    assertTrue(scratchBytes >= 4 << 20, "test-failover writes held by the scratch overlay: "
                            + scratchBytes);
                } finally {
                    if (!keep) {
                        stack.recovery.discard(name);
                    }
                }
                assertEquals(keep, Files.exists(scratch), "scratch overlay after the round " + scratch);
                lastName = name;
                last = point;
            }
            boolean discarded = false;
            try {
                // replication went on during the export
                long applied = appliedAtExport;
                await("replication going on during the export").atMost(Stack.BUDGET)
                        .until(() -> stack.mt.lastApplied(DISK) > applied);
                Instant lastTime = last.time();
                assertTrue(done.stream().anyMatch(w -> w.synced().isAfter(lastTime)), "the writer went on");
                stop.set(true);
                writer.get(60, TimeUnit.SECONDS);
                src.umount(); // nothing more is written to the source
                stack.awaitApplied(DISK);
                String replicaBefore = Stack.sha256(stack.replicaFile(DISK));
                assertEquals(Stack.sha256(dir.resolve("source.img")), replicaBefore, "replica vs source after all");
                stack.recovery.discard(lastName);
                discarded = true;
                assertFalse(Files.exists(dir.resolve("scratch").resolve(lastName + ".scratch")),
                        "the scratch overlay is deleted by discard");
                assertEquals(replicaBefore, Stack.sha256(stack.replicaFile(DISK)), "the replica after discard");
            } finally {
                if (!discarded) {
                    stack.recovery.discard(lastName);
                }
            }
        } finally {
            stop.set(true);
            try {
                writer.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                // reported by the assertions above when it matters
            }
        }
    }

    /**
     * Attaches a test-failover export of a crash-consistent point: e2fsck -fy replays the journal and
     * leaves nothing uncorrected, e2fsck -fn is then clean, every file fsynced before the point has
     * its hash, and the copy takes writes (a file of 4 MiB).
     */
    private void checkCrashPoint(RecoveryPoint point, ExportInfo export, String name, List<Written> done)
            throws Exception {
        List<Written> before = done.stream().filter(w -> w.synced().isBefore(point.time())).toList();
        try (KernelAttachment rec = KernelAttachment.attach(dir, name, export.uri(), false)) {
            KernelAttachment.Result fix = KernelAttachment.exec(120, List.of("e2fsck", "-fy", rec.loop));
            assertTrue(fix.exit() == 0 || fix.exit() == 1,
                    () -> "e2fsck -fy of crash-consistent point " + point.id() + " exited " + fix.exit() + ":\n"
                            + fix.out());
            KernelAttachment.Result check = KernelAttachment.exec(120, List.of("e2fsck", "-fn", rec.loop));
            assertEquals(0, check.exit(), () -> "e2fsck -fn after -fy:\n" + check.out());
            rec.mount("noatime");
            for (Written w : before) {
                Path f = rec.mnt.resolve(w.path());
                assertTrue(Files.exists(f), "/" + w.path() + " (fsynced before point " + point.id() + ") missing");
                assertEquals(w.sha256(), Stack.sha256(Files.readAllBytes(f)), "/" + w.path() + " at " + point.id());
            }
            writeFile(rec.mnt, "test-failover-was-here", bytes(new Random(3), 4 << 20));
            rec.umount();
            System.out.println("PointInTimeFilesystemTest: crash-consistent point " + point.id() + " (writer at "
                    + done.size() + " files): e2fsck -fy exit " + fix.exit() + ", then clean; " + before.size()
                    + " files fsynced before it with their hashes");
        }
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** Writes a file (replacing it), fsyncs it and its directory. */
    private static void writeFile(Path root, String path, byte[] data) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
