package org.secondsite.mastertarget.internal.recovery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.model.TagKind;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.mastertarget.internal.recovery.Recovery.CopyInfo;
import org.secondsite.mastertarget.internal.recovery.Recovery.ExportInfo;
import org.secondsite.mastertarget.internal.recovery.Recovery.Mode;
import org.secondsite.mastertarget.internal.retention.RetentionSettings;
import org.secondsite.mastertarget.internal.retention.UnknownPointException;

/**
 * {@link Recovery} on a master target fed by the real pipeline (agent, process server, TLS):
 * two disks of one consistency group, points made by bookmark tags. Checks the errors of bad
 * requests, the naming of a multi-disk point's exports, that a real NBD client (nbdcopy) reads an
 * export byte for byte equal to the point's view and to the source at the tag, that a raw image
 * copy equals the view, that a test-failover export takes writes without touching the replica or
 * the point, and that an open export pins its point against pruning.
 */
class RecoveryTest {
    static final GroupId GROUP = GroupId.of("app");
    static final List<DiskId> DISKS = List.of(DiskId.of("app:disk0"), DiskId.of("app:disk1"));
    static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    Stack stack;
    final List<byte[]> models = new ArrayList<>();
    final List<ChangeSink> sinks = new ArrayList<>();
    final Random random = new Random(5);

    @BeforeEach
    void start() throws Exception {
        // checkpoints every hour: the test makes its points with bookmark tags
        stack = Stack.start(dir, o -> o.withCheckpointInterval(Duration.ofHours(1)));
        for (DiskId d : DISKS) {
            byte[] model = new byte[SIZE];
            models.add(model);
            sinks.add(stack.agent.protect(d, GROUP, SIZE));
            stack.agent.attachSource(d, source(model));
        }
    }

    @AfterEach
    void stop() throws IOException {
        if (stack != null) {
            stack.close();
        }
    }

    /** Random 4..64 KiB writes on both disks (model first, then the sink), flushed. */
    void write(int count) throws IOException {
        for (int i = 0; i < count; i++) {
            for (int disk = 0; disk < DISKS.size(); disk++) {
                byte[] data = new byte[(1 + random.nextInt(16)) << 12];
                random.nextBytes(data);
                int off = random.nextInt(SIZE - data.length);
                System.arraycopy(data, 0, models.get(disk), off, data.length);
                sinks.get(disk).accept(ChangeRecord.write(off, ByteBuffer.wrap(data)));
            }
        }
        for (ChangeSink s : sinks) {
            s.flush();
        }
    }

    /** Inserts a bookmark on both disks, waits until the master target lists its point; returns the point. */
    RecoveryPoint bookmark(String name) throws Exception {
        ConsistencyTag tag = new ConsistencyTag(UUID.randomUUID(), name, TagKind.BOOKMARK, Instant.now());
        // refused (nothing inserted) while the initial replication still compares the disks
        await("bookmark " + name + " accepted").atMost(Stack.BUDGET).pollInterval(Duration.ofMillis(50))
                .until(() -> stack.agent.insertTag(GROUP, tag).ok());
        return await("point " + name + " listed").atMost(Stack.BUDGET).pollInterval(Duration.ofMillis(20))
                .until(() -> stack.mt.points(Optional.of(GROUP)).stream()
                        .filter(p -> name.equals(p.tagName())).findFirst(), Optional::isPresent).orElseThrow();
    }

    @Test
    void badRequestsAreClearErrors() throws Exception {
        write(20);
        RecoveryPoint p = bookmark("errors");
        Recovery r = stack.recovery;
        List<ExportInfo> first = r.export("dup", p.id(), Optional.of(DISKS.get(0)), Mode.READ_ONLY);
        assertEquals(1, first.size());
        assertEquals("dup", first.get(0).exportName(), "a one-disk export carries the operator's name");

        IllegalArgumentException clash = assertThrows(IllegalArgumentException.class,
                () -> r.export("dup", p.id(), Optional.empty(), Mode.TEST_FAILOVER));
        assertTrue(clash.getMessage().contains("'dup'") && clash.getMessage().contains("in use"), clash.getMessage());

        for (String bad : List.of("", "has space", "a/b", "x".repeat(65), "ünï")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> r.export(bad, p.id(), Optional.empty(), Mode.READ_ONLY), "name '" + bad + "'");
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("1-64 letters"),
                    e.getMessage());
        }
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class,
                () -> r.export(null, p.id(), Optional.empty(), Mode.READ_ONLY));
        assertTrue(nul.getMessage().contains("1-64 letters"), nul.getMessage());

        NoSuchElementException unknown = assertThrows(UnknownPointException.class,
                () -> r.export("other", "app@1-999", Optional.empty(), Mode.READ_ONLY));
        assertTrue(unknown.getMessage().contains("'app@1-999'"), unknown.getMessage());
        assertThrows(UnknownPointException.class, () -> r.copy("app@1-999", DISKS.get(0), dir.resolve("x.img")));

        DiskId stranger = DiskId.of("other:disk9");
        IllegalArgumentException notIn = assertThrows(IllegalArgumentException.class,
                () -> r.export("other", p.id(), Optional.of(stranger), Mode.READ_ONLY));
        assertTrue(notIn.getMessage().contains(stranger.toString()) && notIn.getMessage().contains(p.id()),
                notIn.getMessage());
        assertThrows(IllegalArgumentException.class, () -> r.copy(p.id(), stranger, dir.resolve("y.img")));

        IllegalArgumentException noExport = assertThrows(IllegalArgumentException.class, () -> r.discard("nothing"));
        assertTrue(noExport.getMessage().contains("'nothing'") && noExport.getMessage().contains("dup"),
                noExport.getMessage());

        Files.writeString(dir.resolve("taken.img"), "x");
        assertThrows(java.nio.file.FileAlreadyExistsException.class,
                () -> r.copy(p.id(), DISKS.get(0), dir.resolve("taken.img")));
        IllegalArgumentException noFolder = assertThrows(IllegalArgumentException.class,
                () -> r.copy(p.id(), DISKS.get(0), dir.resolve("missing").resolve("z.img")));
        assertTrue(noFolder.getMessage().contains("does not exist"), noFolder.getMessage());

        // failed requests left nothing behind: one export, one pinned view
        assertEquals(List.of("dup"), r.exports().stream().map(ExportInfo::name).toList());
        assertEquals(1, stack.mt.retention().openViews());
        r.discard("dup");
        assertEquals(List.of(), r.exports());
        assertEquals(0, stack.mt.retention().openViews());
        // the name is free again
        r.export("dup", p.id(), Optional.empty(), Mode.READ_ONLY);
        r.discard("dup");
    }

    @Test
    void aMultiDiskPointIsExportedPerDiskAndReadByNbdcopyAsItWasAtTheTag() throws Exception {
        assumeTool("nbdcopy");
        write(40);
        RecoveryPoint p = bookmark("multi");
        List<String> atTag = List.of(Stack.sha256(models.get(0)), Stack.sha256(models.get(1)));
        write(40); // the replicas move on
        for (DiskId d : DISKS) {
            stack.awaitApplied(d);
        }
        assertNotEquals(atTag.get(0), Stack.sha256(stack.replicaFile(DISKS.get(0))), "the replica moved on");

        List<ExportInfo> exports = stack.recovery.export("multi", p.id(), Optional.empty(), Mode.READ_ONLY);
        assertEquals(List.of("multi-0", "multi-1"), exports.stream().map(ExportInfo::exportName).toList());
        assertEquals(DISKS, exports.stream().map(ExportInfo::disk).toList());
        write(20); // replication goes on while exported
        for (int i = 0; i < 2; i++) {
            ExportInfo e = exports.get(i);
            assertEquals(p.id(), e.pointId());
            assertEquals(Mode.READ_ONLY, e.mode());
            Path out = dir.resolve("nbdcopy-" + i + ".img");
            run(60, "nbdcopy", e.uri(), out.toString());
            String viewHash;
            try (BlockDevice v = stack.mt.openView(p.id(), DISKS.get(i))) {
                viewHash = Stack.sha256(v);
            }
            assertEquals(viewHash, Stack.sha256(out), "nbdcopy of " + e.uri() + " vs openView");
            assertEquals(atTag.get(i), viewHash, "view of " + DISKS.get(i) + " vs the source at the tag");
        }
        // writes are refused by a read-only export
        if (onPath("qemu-io")) {
            String refused = runAnyExit(60, "qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 4096", exports.get(0).uri());
            assertTrue(refused.toLowerCase(java.util.Locale.ROOT).contains("read-only")
                    || refused.toLowerCase(java.util.Locale.ROOT).contains("permission"), refused);
        }
        stack.recovery.discard("multi");
        assertEquals(0, stack.mt.retention().openViews());
        for (DiskId d : DISKS) {
            stack.awaitApplied(d);
        }
        assertEquals(Stack.sha256(models.get(0)), Stack.sha256(stack.replicaFile(DISKS.get(0))),
                "replication went on during the export");
    }

    @Test
    void aTestFailoverExportTakesWritesOnAScratchOverlayOnly() throws Exception {
        assumeTool("qemu-io");
        assumeTool("nbdcopy");
        write(30);
        RecoveryPoint p = bookmark("tf");
        String atTag = Stack.sha256(models.get(1));
        List<ExportInfo> e = stack.recovery.export("tf", p.id(), Optional.of(DISKS.get(1)), Mode.TEST_FAILOVER);
        assertEquals(1, e.size());
        assertEquals(Mode.TEST_FAILOVER, e.get(0).mode());
        Path scratch = dir.resolve("scratch").resolve("tf.scratch");
        assertTrue(Files.exists(scratch), "scratch overlay file " + scratch);
        stack.awaitApplied(DISKS.get(1));
        String replicaBefore = Stack.sha256(stack.replicaFile(DISKS.get(1)));

        run(60, "qemu-io", "-f", "raw", "-c", "write -P 0xa5 65536 131072", "-c", "flush", e.get(0).uri());
        Path out = dir.resolve("tf.img");
        run(60, "nbdcopy", e.get(0).uri(), out.toString());
        byte[] expected = models.get(1).clone();
        java.util.Arrays.fill(expected, 65536, 65536 + 131072, (byte) 0xa5);
        assertEquals(Stack.sha256(expected), Stack.sha256(out), "test failover export = point + the client's writes");
        assertTrue(stack.recovery.exports().get(0).scratchBytes() >= 131072, stack.recovery.exports().toString());
        try (BlockDevice v = stack.mt.openView(p.id(), DISKS.get(1))) {
            assertEquals(atTag, Stack.sha256(v), "the point is untouched by test-failover writes");
        }
        assertEquals(replicaBefore, Stack.sha256(stack.replicaFile(DISKS.get(1))), "the replica is untouched");
        stack.recovery.discard("tf");
        assertFalse(Files.exists(scratch), "scratch overlay deleted by discard");
        assertEquals(replicaBefore, Stack.sha256(stack.replicaFile(DISKS.get(1))), "the replica after discard");
    }

    @Test
    void aRawImageCopyEqualsTheViewAndReportsFullProgress() throws Exception {
        write(40);
        RecoveryPoint p = bookmark("copy");
        String atTag = Stack.sha256(models.get(0));
        write(20);
        Path target = dir.resolve("copy.img");
        CopyInfo started = stack.recovery.copy(p.id(), DISKS.get(0), target);
        assertEquals(SIZE, started.totalBytes());
        assertTrue(stack.recovery.awaitCopy(started.id(), Stack.BUDGET), "copy ended in time");
        CopyInfo done = stack.recovery.copies().stream().filter(c -> c.id() == started.id()).findFirst().orElseThrow();
        assertEquals("done", done.state(), done.message());
        assertEquals(SIZE, done.doneBytes());
        assertEquals(100.0, done.percent());
        assertTrue(done.finished() != null && !done.finished().isBefore(done.started()), done.toString());
        assertEquals(SIZE, Files.size(target));
        assertFalse(Files.exists(dir.resolve("copy.img.partial")), "the partial file was renamed");
        try (BlockDevice v = stack.mt.openView(p.id(), DISKS.get(0))) {
            assertEquals(Stack.sha256(v), Stack.sha256(target), "raw image vs view (SHA-256)");
        }
        assertEquals(atTag, Stack.sha256(target), "raw image vs source at the tag");
        assertEquals(0, stack.mt.retention().openViews(), "the copy's view is closed when it ends");
    }

    @Test
    void anOpenExportPinsItsPointAgainstPruning() throws Exception {
        write(20);
        RecoveryPoint older = bookmark("older");
        write(20);
        RecoveryPoint pinned = bookmark("pinned");
        String atPinned = Stack.sha256(models.get(0));
        List<ExportInfo> e = stack.recovery.export("pin", pinned.id(), Optional.of(DISKS.get(0)), Mode.READ_ONLY);
        // both points are older than a one-second window once a second has passed
        await().pollDelay(Duration.ofMillis(1100)).atMost(Duration.ofSeconds(5))
                .until(() -> Instant.now().minusSeconds(1).isAfter(pinned.time()));
        stack.mt.retention(RetentionSettings.of(1, 64));
        // the next commits prune: the older point goes, the exported one stays
        await("the older point pruned").atMost(Stack.BUDGET).pollInterval(Duration.ofMillis(200)).until(() -> {
            write(1);
            return stack.mt.points(Optional.of(GROUP)).stream().noneMatch(x -> x.id().equals(older.id()));
        });
        write(5);
        stack.awaitApplied(DISKS.get(0));
        assertEquals(List.of(pinned.id()), stack.mt.points(Optional.of(GROUP)).stream().map(RecoveryPoint::id).toList(),
                "the exported point is pinned");
        assertThrows(UnknownPointException.class, () -> stack.mt.point(older.id()));
        if (onPath("nbdcopy")) {
            Path out = dir.resolve("pinned.img");
            run(60, "nbdcopy", e.get(0).uri(), out.toString());
            assertEquals(atPinned, Stack.sha256(out), "the pinned point still reads as it was");
        }
        stack.recovery.discard("pin");
        await("the unpinned point pruned").atMost(Stack.BUDGET).pollInterval(Duration.ofMillis(200)).until(() -> {
            write(1);
            return stack.mt.points(Optional.of(GROUP)).isEmpty();
        });
        UnknownPointException gone = assertThrows(UnknownPointException.class,
                () -> stack.recovery.export("pin", pinned.id(), Optional.empty(), Mode.READ_ONLY));
        assertTrue(gone.getMessage().contains(pinned.id()), gone.getMessage());
    }

    @Test
    void aScratchFileLeftByACrashDoesNotBlockTheNameAndIsDeleted() throws Exception {
        write(10);
        RecoveryPoint p = bookmark("stale");
        // a master target killed during a test failover leaves its scratch overlay behind
        Path scratchDir = Files.createDirectories(dir.resolve("scratch2"));
        Path stale = scratchDir.resolve("tf.scratch");
        Files.write(stale, new byte[8192]);
        Path other = Files.write(scratchDir.resolve("gone.scratch"), new byte[4096]);
        Path unrelated = Files.writeString(scratchDir.resolve("keep.txt"), "not a scratch file");
        try (Recovery r = new Recovery(stack.mt, new java.net.InetSocketAddress("127.0.0.1", 0), scratchDir,
                java.time.Clock.systemUTC())) {
            assertFalse(Files.exists(other), "a stale scratch file is deleted when recovery starts");
            assertTrue(Files.exists(unrelated), "other files are left alone");
            List<ExportInfo> e = r.export("tf", p.id(), Optional.of(DISKS.get(0)), Mode.TEST_FAILOVER);
            assertEquals(0, e.get(0).scratchBytes(), "a new, empty overlay");
            r.discard("tf");
            assertFalse(Files.exists(stale));
        }
    }

    @Test
    void closingRecoveryReleasesEveryViewAlsoOfCopiesNotStartedYet() throws Exception {
        write(20);
        RecoveryPoint p = bookmark("close");
        Recovery r = new Recovery(stack.mt, new java.net.InetSocketAddress("127.0.0.1", 0), dir.resolve("scratch3"),
                java.time.Clock.systemUTC());
        List<CopyInfo> started = new ArrayList<>();
        try {
            r.export("open", p.id(), Optional.empty(), Mode.TEST_FAILOVER);
            for (int i = 0; i < 12; i++) { // one copier thread: most of these are queued when close comes
                started.add(r.copy(p.id(), DISKS.get(i % 2), dir.resolve("c" + i + ".img")));
            }
        } finally {
            r.close();
        }
        // replication is untouched by the copies stopped under it (their reads share the replica volumes)
        write(10);
        for (int i = 0; i < 2; i++) {
            stack.awaitApplied(DISKS.get(i));
            assertEquals(Stack.sha256(models.get(i)), Stack.sha256(stack.replicaFile(DISKS.get(i))),
                    "replica of " + DISKS.get(i) + " after recovery closed");
        }
        assertEquals(0, stack.mt.retention().openViews(), "views left open (pinning their point) after close");
        for (CopyInfo c : started) {
            assertTrue(r.awaitCopy(c.id(), Stack.BUDGET), "copy " + c.id() + " ended");
        }
        for (CopyInfo c : r.copies()) {
            assertTrue(List.of("done", "cancelled").contains(c.state()), c.toString());
            assertTrue(c.state().equals("done") == Files.exists(c.target()), c.toString());
            assertFalse(Files.exists(c.target().resolveSibling(c.target().getFileName() + ".partial")), c.toString());
        }
        assertThrows(IllegalStateException.class, () -> r.export("again", p.id(), Optional.empty(), Mode.READ_ONLY));
    }

    // ------------------------------------------------------------------ helpers

    /** A read-only source disk over a model array (the agent's replays read it). */
    static BlockDevice source(byte[] model) {
        return new BlockDevice() {
            @Override
            public long size() {
                return model.length;
            }

            @Override
            public boolean isReadOnly() {
                return true;
            }

            @Override
            public void read(long offset, ByteBuffer dst) throws IOException {
                if (offset < 0 || offset + dst.remaining() > model.length) {
                    throw new EOFException("read of " + dst.remaining() + " bytes at " + offset);
                }
                dst.put(model, (int) offset, dst.remaining());
            }

            @Override
            public void write(long offset, ByteBuffer src) throws IOException {
                throw new IOException("read-only source");
            }

            @Override
            public void zero(long offset, long length) throws IOException {
                throw new IOException("read-only source");
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
    }

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                if (Files.isExecutable(Path.of(d, tool))) {
                    return true;
                }
            }
        }
        return false;
    }

    static void assumeTool(String tool) {
        Assumptions.assumeTrue(onPath(tool), tool + " is not installed (PATH=" + System.getenv("PATH")
                + "); install it (libnbd-bin / qemu-utils) to run this test");
    }

    /** Runs a command; fails unless it exits with 0 in time; returns its output. */
    static String run(long timeoutSeconds, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + out);
        return out;
    }

    /** Runs a command whatever its exit code; returns its output. */
    static String runAnyExit(long timeoutSeconds, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
            return out;
        } finally {
            p.destroyForcibly();
        }
    }
}
