package org.secondsite.capture.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.DiskId;

/**
 * A real kernel file system on the capture export, through clients nobody here wrote: {@code nbdfuse}
 * turns the export into a file (over four connections, multi-conn), a loop device turns that file
 * into a block device, and the kernel's ext4 (mkfs, mount, writes with fsync, umount) uses it. The
 * replica built from the captured change stream must then equal the source byte for byte, pass
 * {@code e2fsck -fn}, and hold the files written, with their hashes.
 *
 * <p>Needs root, {@code /dev/fuse} and the tools; skipped with the reason otherwise. Every mount,
 * loop device and FUSE process is released in {@code finally}, also when the test fails.
 */
class KernelFilesystemTest {
    private static final int SIZE = 256 << 20;
    private static final Duration STEP = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void ext4MadeWrittenAndUnmountedThroughNbdfuseAndALoopDeviceIsReplicatedExactly() throws Exception {
        Tools.assumeRoot("attaching a loop device and mounting ext4");
        for (String tool : List.of("nbdfuse", "fusermount3", "losetup", "mkfs.ext4", "mount", "umount", "e2fsck",
                "debugfs")) {
            Tools.assumeTool(tool);
        }
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing: FUSE is not available here");

        Path source = dir.resolve("disk0.img");
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(SIZE); // sparse: reads as zeros, like the sink's starting image
        }
        Path fuseDir = Files.createDirectory(dir.resolve("fuse"));
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Path pidFile = dir.resolve("nbdfuse.pid");
        Path fuseLog = dir.resolve("nbdfuse.log");
        Map<String, byte[]> tree = tree();

        ReplayingSink sink = new ReplayingSink(SIZE, false);
        Process nbdfuse = null;
        String loop = null;
        String attached = null;
        try (CaptureSession session = new NbdCaptureDriver().start(
                new CaptureSpec(DiskId.of("disk0"), source, Map.of()), sink)) {
            try {
                nbdfuse = new ProcessBuilder("nbdfuse", "-P", pidFile.toString(), fuseDir.toString(), session.endpoint())
                        .redirectErrorStream(true).redirectOutput(fuseLog.toFile()).start();
                Process p = nbdfuse;
                // nbdfuse writes its pid file once the FUSE file system is mounted.
                Awaitility.await("nbdfuse to mount " + fuseDir).atMost(STEP)
                        .until(() -> Files.exists(pidFile) || !p.isAlive());
                assertTrue(p.isAlive(), () -> "nbdfuse ended: " + log(fuseLog));
                Path nbdFile = fuseDir.resolve("nbd");
                assertEquals(SIZE, Files.size(nbdFile), "size of " + nbdFile);

                loop = attachLoop(nbdFile);
                attached = loop + " (" + Files.readString(Path.of("/sys/block", Path.of(loop).getFileName().toString(),
                        "loop", "dio")).trim().replace("1", "direct I/O").replace("0", "buffered I/O") + ")";
                Tools.run(60, "mkfs.ext4", "-q", "-F", loop);
                Tools.run(30, "mount", "-t", "ext4", loop, mnt.toString());
                write(mnt, tree);
                Tools.run(60, "umount", mnt.toString());
                String detached = loop;
                Tools.run(30, "losetup", "-d", detached);
                Awaitility.await(detached + " to let go of " + nbdFile).atMost(STEP)
                        .until(() -> !Files.exists(backingFileAttribute(detached)));
                loop = null;
                Tools.run(30, "fusermount3", "-u", fuseDir.toString());
                assertTrue(p.waitFor(STEP.toSeconds(), TimeUnit.SECONDS), "nbdfuse to end after fusermount3 -u");
                assertEquals(0, p.exitValue(), () -> "nbdfuse exit status: " + log(fuseLog));
                nbdfuse = null;
            } finally {
                cleanUp(mnt, loop, fuseDir, nbdfuse);
            }
            Map<String, Long> stats = session.statistics();
            System.out.println("ext4 through nbdfuse and " + attached + ": " + stats);
            assertTrue(stats.get("connectionsTotal") >= 1 && stats.get("writes") > 0 && stats.get("flushes") > 0,
                    stats.toString());
            assertEquals(0L, stats.get("ioErrors"), stats.toString());
            assertEquals(0L, stats.get("internalErrors"), stats.toString());
            assertEquals("", session.problem());
        }

        byte[] image = sink.image();
        assertEquals(sha256(source), TestDisk.sha256(image),
                "replica built from the change stream vs source disk (SHA-256)");
        Path replica = dir.resolve("replica.img");
        Files.write(replica, image);
        image = null;
        String fsck = Tools.run(60, "e2fsck", "-fn", replica.toString());
        assertTrue(fsck.contains("clean") || fsck.contains("files"), fsck);
        for (Map.Entry<String, byte[]> e : tree.entrySet()) {
            Path out = dir.resolve("dumped-" + e.getKey().replace('/', '_'));
            Tools.run(30, "debugfs", "-R", "dump /" + e.getKey() + " " + out, replica.toString());
            assertTrue(Files.exists(out), "debugfs found no /" + e.getKey() + " in the replica");
            assertEquals(TestDisk.sha256(e.getValue()), TestDisk.sha256(Files.readAllBytes(out)),
                    "/" + e.getKey() + " in the replica (SHA-256)");
        }
    }

    /** A few MiB in several files and directories: random data, a text file, an empty file. */
    private static Map<String, byte[]> tree() {
        Map<String, byte[]> t = new LinkedHashMap<>();
        t.put("data/a.bin", TestDisk.random(1, 3 << 20));
        t.put("data/b.bin", TestDisk.random(2, (1 << 20) + 123));
        t.put("data/sub/c.bin", TestDisk.random(3, 5 << 20));
        t.put("data/sub/empty", new byte[0]);
        t.put("notes.txt", "written through nbdfuse, a loop device and ext4\n".repeat(300)
                .getBytes(StandardCharsets.UTF_8));
        t.put("zeros.bin", new byte[2 << 20]);
        return t;
    }

    /** Writes each file and fsyncs it and its directory. */
    private static void write(Path root, Map<String, byte[]> tree) throws IOException {
        for (Map.Entry<String, byte[]> e : tree.entrySet()) {
            Path file = root.resolve(e.getKey());
            Files.createDirectories(file.getParent());
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(e.getValue());
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

    /** Attaches {@code file} to a free loop device, with direct I/O when the kernel takes it. */
    private static String attachLoop(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("losetup", "-f", "--show", "--direct-io=on", file.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "losetup --direct-io=on timed out");
        String dev = out.lines().filter(l -> l.startsWith("/dev/loop")).findFirst().orElse(null);
        if (dev != null) {
            if (!out.equals(dev)) {
                System.out.println("losetup --direct-io=on: " + out);
            }
            return dev; // a warning that direct I/O could not be enabled still attaches the device
        }
        System.out.println("losetup --direct-io=on refused (" + out + "); attaching with buffered I/O");
        return Tools.run(30, "losetup", "-f", "--show", file.toString()).trim();
    }

    private static Path backingFileAttribute(String loopDevice) {
        return Path.of("/sys/block", Path.of(loopDevice).getFileName().toString(), "loop", "backing_file");
    }

    /** Releases whatever is still held, innermost first; never throws. */
    private static void cleanUp(Path mnt, String loop, Path fuseDir, Process nbdfuse) throws IOException {
        if (Tools.isMountPoint(mnt) && Tools.runQuietly(30, "umount", mnt.toString()) != 0) {
            Tools.runQuietly(30, "umount", "-l", mnt.toString());
        }
        if (loop != null) {
            Tools.runQuietly(30, "losetup", "-d", loop);
        }
        if (Tools.isMountPoint(fuseDir) && Tools.runQuietly(30, "fusermount3", "-u", fuseDir.toString()) != 0) {
            Tools.runQuietly(30, "fusermount3", "-u", "-z", fuseDir.toString());
        }
        if (nbdfuse != null) {
            nbdfuse.destroy();
            try {
                if (!nbdfuse.waitFor(10, TimeUnit.SECONDS)) {
                    nbdfuse.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String log(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
