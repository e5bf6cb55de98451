package org.secondsite.capture.nbd.internal;

import org.secondsite.nbd.internal.NbdTestClient;

import org.secondsite.nbd.NbdProtocol;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.secondsite.nbd.NbdProtocol.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;

/**
 * A protected disk that turns read-only or vanishes for real, underneath a running export: an immutable
 * file ({@code chattr +i}), a block device set read-only ({@code blockdev --setro}), an ext4 file system
 * that remounts itself read-only after an error, and a FUSE file whose server dies. Each test checks the
 * client's NBD error, {@code problem()}, that the export stays up and keeps what it tracked, and where the
 * kernel lets the disk recover, that the problem clears and the replica equals the source.
 *
 * <p>Needs root and the tools; skipped with the reason otherwise. Mounts, loop devices, flags and
 * processes are released in {@code finally}.
 */
class FailingSourceKernelTest {
    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;

    private static NbdTestClient client(CaptureSession s) throws IOException {
        URI uri = URI.create(s.endpoint());
        return NbdTestClient.open(new InetSocketAddress(uri.getHost(), uri.getPort()), s.disk().value());
    }

    private static int command(NbdTestClient c, int type, long offset, long length) throws IOException {
        c.request(0, type, 5, offset, length);
        NbdTestClient.Reply r = c.readReply();
        assertEquals(5, r.handle());
        if (type == CMD_READ && r.error() == 0) {
            c.in.readFully(new byte[(int) length]);
        }
        return r.error();
    }

    private static void assertReplayEquals(byte[] source, ReplayingSink sink) {
        assertEquals(TestDisk.sha256(source), TestDisk.sha256(sink.image()), "change stream replayed vs source (SHA-256)");
    }

    @Test
    void anImmutableSourceFileRefusesWritesWithEpermUntilTheFlagIsCleared() throws Exception {
        Tools.assumeRoot("chattr +i");
        Tools.assumeTool("chattr");
        Path file = dir.resolve("disk0.img");
        byte[] initial = TestDisk.random(21, SIZE);
        Files.write(file, initial);
        byte[] a = TestDisk.random(22, 4096);
        byte[] b = TestDisk.random(23, 65536);
        ReplayingSink sink = new ReplayingSink(initial, true);
        try (CaptureSession s = new NbdCaptureDriver().start(new CaptureSpec(DiskId.of("disk0"), file, Map.of()), sink);
                NbdTestClient c = client(s)) {
            assertEquals(0, c.writeSync(0, a));
            Assumptions.assumeTrue(Tools.runQuietly(30, "chattr", "+i", file.toString()) == 0,
                    "chattr +i is not supported on the file system of " + file);
            try {
                assertEquals(EPERM, c.writeSync(1 << 20, b));
                assertEquals(EPERM, command(c, CMD_WRITE_ZEROES, 2 << 20, 1 << 20));
                assertArrayEquals(a, c.readSync(0, 4096), "reads go on");
                assertEquals("source " + file + " turned read-only (Operation not permitted): writes are refused",
                        s.problem());
                assertEquals(ChangeRecord.write(0, ByteBuffer.wrap(a)), sink.records().get(0), "tracked before: kept");
                assertReplayEquals(Files.readAllBytes(file), sink);
            } finally {
                Tools.runQuietly(30, "chattr", "-i", file.toString());
            }
            assertEquals(0, c.writeSync(1 << 20, b));
            assertEquals("", s.problem());
            assertEquals(0, command(c, CMD_FLUSH, 0, 0));
        }
        byte[] expected = initial.clone();
        System.arraycopy(a, 0, expected, 0, a.length);
        System.arraycopy(b, 0, expected, 1 << 20, b.length);
        byte[] content = Files.readAllBytes(file);
        assertArrayEquals(expected, content);
        assertReplayEquals(content, sink);
    }

    @Test
    void aBlockDeviceSetReadOnlyRefusesWritesWithEpermAndRecoversWhenSetWritable() throws Exception {
        Tools.assumeRoot("losetup and blockdev --setro");
        Tools.assumeTool("losetup");
        Tools.assumeTool("blockdev");
        Path backing = dir.resolve("backing.img");
        byte[] initial = TestDisk.random(31, SIZE);
        Files.write(backing, initial);
        byte[] a = TestDisk.random(32, 8192);
        byte[] b = TestDisk.random(33, 4096);
        String loop = Tools.run(30, "losetup", "-f", "--show", backing.toString()).trim();
        ReplayingSink sink = new ReplayingSink(initial, true);
        try {
            Path device = Path.of(loop);
            try (CaptureSession s = new NbdCaptureDriver().start(new CaptureSpec(DiskId.of("disk0"), device, Map.of()),
                    sink); NbdTestClient c = client(s)) {
                assertEquals(SIZE, c.exportSize);
                assertEquals(0, c.writeSync(4096, a));
                Tools.run(30, "blockdev", "--setro", loop);
                try {
                    assertEquals(EPERM, c.writeSync(3 << 20, b));
                    assertEquals(EPERM, c.writeSync(3 << 20, b));
                    assertArrayEquals(a, c.readSync(4096, a.length), "reads go on");
                    assertEquals("source " + loop + " turned read-only (Operation not permitted): writes are refused",
                            s.problem());
                    // The export stays up for new clients too.
                    try (NbdTestClient other = client(s)) {
                        assertEquals(EPERM, other.writeSync(0, b));
                    }
                } finally {
                    Tools.runQuietly(30, "blockdev", "--setrw", loop);
                }
                assertEquals(0, c.writeSync(3 << 20, b));
                assertEquals(0, command(c, CMD_FLUSH, 0, 0));
                assertEquals("", s.problem());
                assertEquals(ChangeRecord.write(4096, ByteBuffer.wrap(a)), sink.records().get(0), "tracked before: kept");
            }
            byte[] expected = initial.clone();
            System.arraycopy(a, 0, expected, 4096, a.length);
            System.arraycopy(b, 0, expected, 3 << 20, b.length);
            byte[] content = readDevice(device);
            assertArrayEquals(expected, content);
            assertReplayEquals(content, sink);
        } finally {
            Tools.runQuietly(30, "blockdev", "--setrw", loop);
            Tools.runQuietly(30, "losetup", "-d", loop);
        }
    }

    @Test
    void aFileSystemThatRemountsItselfReadOnlyAfterAnErrorGetsEpermForWritesAndKeepsTracking() throws Exception {
        Tools.assumeRoot("mounting a loop-backed ext4");
        for (String tool : List.of("mkfs.ext4", "mount", "umount", "findmnt")) {
            Tools.assumeTool(tool);
        }
        Path image = dir.resolve("fs.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64 << 20);
        }
        Tools.run(60, "mkfs.ext4", "-q", "-F", image.toString());
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Tools.run(30, "mount", "-o", "loop,errors=remount-ro", image.toString(), mnt.toString());
        try {
            Path file = mnt.resolve("disk0.img");
            byte[] initial = TestDisk.random(41, SIZE);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(initial));
                ch.force(true);
            }
            String dev = Path.of(Tools.run(30, "findmnt", "-n", "-o", "SOURCE", mnt.toString()).trim()).getFileName()
                    .toString();
            Path trigger = Path.of("/sys/fs/ext4", dev, "trigger_fs_error");
            Assumptions.assumeTrue(Files.exists(trigger), trigger + " is missing: this kernel cannot inject an ext4 error");
            byte[] a = TestDisk.random(42, 4096);
            ReplayingSink sink = new ReplayingSink(initial, true);
            try (CaptureSession s = new NbdCaptureDriver().start(new CaptureSpec(DiskId.of("disk0"), file, Map.of()),
                    sink); NbdTestClient c = client(s)) {
                assertEquals(0, c.writeSync(0, a));
                assertEquals(0, command(c, CMD_FLUSH, 0, 0));
                Files.writeString(trigger, "injected by FailingSourceKernelTest\n");
                // The kernel marks the mount "emergency_ro" (older kernels: "ro"); either way new files are refused.
                Awaitility.await("ext4 on " + dev + " to turn read-only").atMost(Duration.ofSeconds(10))
                        .until(() -> refusesNewFiles(mnt));

                assertEquals(EPERM, c.writeSync(1 << 20, TestDisk.random(43, 4096)));
                assertEquals(EIO, command(c, CMD_FLUSH, 0, 0), "a flush of a read-only file system");
                assertArrayEquals(a, c.readSync(0, 4096), "reads go on");
                assertEquals(0, command(c, CMD_READ, 5 << 20, 65536), "uncached reads too");
                assertEquals("source " + file + " turned read-only (Read-only file system): writes are refused; source "
                        + file + " refuses access (Read-only file system): flushes fail", s.problem());
                try (NbdTestClient other = client(s)) {
                    assertEquals(EPERM, other.writeSync(8192, a), "the export stays up");
                }
                assertEquals(ChangeRecord.write(0, ByteBuffer.wrap(a)), sink.records().get(0), "tracked before: kept");
                assertReplayEquals(Files.readAllBytes(file), sink);
            }
        } finally {
            if (Tools.isMountPoint(mnt) && Tools.runQuietly(30, "umount", mnt.toString()) != 0) {
                Tools.runQuietly(30, "umount", "-l", mnt.toString());
            }
        }
    }

    @Test
    void aSourceWhoseFuseServerDiesFailsWithEioWhileTheExportStaysUpAndKeepsWhatItTracked() throws Exception {
        Tools.assumeRoot("mounting FUSE");
        Tools.assumeTool("nbdfuse");
        Tools.assumeTool("fusermount3");
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing: FUSE is not available here");
        // backing.img <- inner export <- nbdfuse <- fuse/nbd, the source of the export under test
        Path backing = dir.resolve("backing.img");
        byte[] initial = TestDisk.random(51, SIZE);
        Files.write(backing, initial);
        Path fuseDir = Files.createDirectory(dir.resolve("fuse"));
        Path pidFile = dir.resolve("nbdfuse.pid");
        byte[] a = TestDisk.random(52, 4096);
        byte[] b = TestDisk.random(53, 4096);
        Process nbdfuse = null;
        try (CaptureSession inner = new NbdCaptureDriver().start(new CaptureSpec(DiskId.of("backing"), backing, Map.of()),
                new ReplayingSink(initial, false))) {
            try {
                nbdfuse = new ProcessBuilder("nbdfuse", "-P", pidFile.toString(), fuseDir.toString(), inner.endpoint())
                        .redirectErrorStream(true).redirectOutput(dir.resolve("nbdfuse.log").toFile()).start();
                Process p = nbdfuse;
                Awaitility.await("nbdfuse to mount " + fuseDir).atMost(Duration.ofSeconds(30))
                        .until(() -> Files.exists(pidFile) || !p.isAlive());
                assertTrue(p.isAlive(), "nbdfuse ended early");
                Path source = fuseDir.resolve("nbd");
                ReplayingSink sink = new ReplayingSink(initial, true);
                try (CaptureSession s = new NbdCaptureDriver().start(new CaptureSpec(DiskId.of("disk0"), source, Map.of()),
                        sink); NbdTestClient c = client(s)) {
                    assertEquals(0, c.writeSync(0, a));
                    assertEquals(0, command(c, CMD_FLUSH, 0, 0));
                    assertEquals("", s.problem());

                    p.destroyForcibly();
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "nbdfuse killed");

                    assertEquals(EIO, c.writeSync(2 << 20, b));
                    assertEquals(EIO, command(c, CMD_READ, 6 << 20, 65536), "an uncached read");
                    String problem = s.problem();
                    assertTrue(problem.startsWith("source " + source + " vanished (Transport endpoint is not connected): "
                            + "reads and writes fail; " + b.length + " bytes of refused writes are in the change "
                            + "stream but could not be read back"), problem);
                    try (NbdTestClient other = client(s)) {
                        assertEquals(EIO, other.writeSync(8192, a), "the export stays up");
                    }
                    List<ChangeRecord> records = sink.records();
                    assertEquals(ChangeRecord.write(0, ByteBuffer.wrap(a)), records.get(0), "tracked before: kept");
                    assertEquals(ChangeRecord.write(2 << 20, ByteBuffer.wrap(b)), records.get(1), "refused: tracked");
                }
                // What was accepted before the disk vanished reached it, through nbdfuse and the inner export.
                byte[] expected = initial.clone();
                System.arraycopy(a, 0, expected, 0, a.length);
                assertArrayEquals(expected, Files.readAllBytes(backing));
            } finally {
                if (Tools.isMountPoint(fuseDir) && Tools.runQuietly(30, "fusermount3", "-u", fuseDir.toString()) != 0) {
                    Tools.runQuietly(30, "fusermount3", "-u", "-z", fuseDir.toString());
                }
                if (nbdfuse != null) {
                    nbdfuse.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    private static boolean refusesNewFiles(Path dir) {
        try {
            Files.delete(Files.createTempFile(dir, "probe", ".tmp"));
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static byte[] readDevice(Path device) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            while (b.hasRemaining()) {
                if (ch.read(b, b.position()) < 0) {
                    throw new IOException(device + " ended after " + b.position() + " bytes");
                }
            }
        }
        return Arrays.copyOf(b.array(), SIZE);
    }
}
