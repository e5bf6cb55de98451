package org.secondsite.capture.scan.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;

/** {@code problem()} of a scan capture: a deleted or replaced source file, and a source that cannot be read. */
class ScanProblemTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    private ScanCaptureSession start(Path source, CollectingSink sink) throws IOException {
        return (ScanCaptureSession) new ScanCaptureDriver().start(new CaptureSpec(DiskId.of("disk0"), source,
                Map.of("interval", "PT1H", "blockSize", "4096")), sink);
    }

    private static void write(Path file, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
            ch.force(false);
        }
    }

    @Test
    void aDeletedOrReplacedSourceFileIsReportedUntilThePathNamesItAgain() throws IOException {
        Path file = dir.resolve("disk0.img");
        Files.write(file, new byte[SIZE]);
        Path keep = dir.resolve("keep.img");
        Files.createLink(keep, file);
        CollectingSink sink = new CollectingSink();
        try (ScanCaptureSession s = start(file, sink)) {
            assertEquals("", s.problem());
            Files.delete(file);
            assertEquals("source file " + file + " was deleted; scans still read the deleted file and miss changes to "
                    + "any new file at that path", s.problem());
            Files.write(file, new byte[SIZE]);
            assertEquals("source " + file + " was replaced by another file; scans still read the one opened at start "
                    + "and miss changes to the new one", s.problem());
            Files.delete(file);
            Files.createLink(file, keep);
            assertEquals("", s.problem());
            // Still scanning the same file: a change through the path is found.
            write(file, 8192, new byte[] {1, 2, 3});
            s.scanNow();
            assertEquals(List.of(8192L), sink.records().stream().map(ChangeRecord::offset).toList());
        }
    }

    @Test
    void aSourceWhoseFuseServerDiesIsReportedAndWhatWasTrackedIsKept() throws Exception {
        Assumptions.assumeTrue(isRoot(), "not running as root, which mounting FUSE needs");
        for (String tool : List.of("nbdfuse", "qemu-nbd", "fusermount3")) {
            Assumptions.assumeTrue(onPath(tool), tool + " is not installed; install it to run this test");
        }
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing: FUSE is not available here");
        Path backing = dir.resolve("backing.img");
        byte[] initial = new byte[SIZE];
        new Random(3).nextBytes(initial);
        Files.write(backing, initial);
        Path fuseDir = Files.createDirectory(dir.resolve("fuse"));
        Path pidFile = dir.resolve("nbdfuse.pid");
        // fuse/nbd is backing.img served by a qemu-nbd that nbdfuse runs; killing nbdfuse makes it vanish.
        Process nbdfuse = new ProcessBuilder("nbdfuse", "-P", pidFile.toString(), fuseDir.toString(), "[", "qemu-nbd",
                "-f", "raw", backing.toString(), "]").redirectErrorStream(true)
                .redirectOutput(dir.resolve("nbdfuse.log").toFile()).start();
        try {
            Awaitility.await("nbdfuse to mount " + fuseDir).atMost(Duration.ofSeconds(30))
                    .until(() -> Files.exists(pidFile) || !nbdfuse.isAlive());
            assertTrue(nbdfuse.isAlive(), "nbdfuse ended early");
            Path source = fuseDir.resolve("nbd");
            CollectingSink sink = new CollectingSink();
            try (ScanCaptureSession s = start(source, sink)) {
                byte[] change = {9, 8, 7, 6};
                write(source, 12288, change);
                s.scanNow();
                List<ChangeRecord> tracked = sink.records();
                assertEquals(1, tracked.size(), tracked.toString());
                assertEquals(12288, tracked.get(0).offset());

                nbdfuse.destroyForcibly();
                assertTrue(nbdfuse.waitFor(30, TimeUnit.SECONDS), "nbdfuse killed");
                IOException e = assertThrows(IOException.class, s::scanNow);
                String problem = "source " + source + " cannot be read (Transport endpoint is not connected): scans "
                        + "fail, and find no changes until it can";
                assertEquals(problem, e.getMessage());
                assertEquals(problem, s.problem());
                assertThrows(IOException.class, s::scanNow, "still failing, reported once");
                assertEquals(tracked, sink.records(), "what was tracked is kept");
                assertTrue(s.statistics().get("errors") >= 2, s.statistics().toString());
            }
            byte[] expected = initial.clone();
            System.arraycopy(new byte[] {9, 8, 7, 6}, 0, expected, 12288, 4);
            assertArrayEquals(expected, Files.readAllBytes(backing), "the change written before reached the disk");
        } finally {
            if (Files.exists(pidFile) && runQuietly("fusermount3", "-u", fuseDir.toString()) != 0) {
                runQuietly("fusermount3", "-u", "-z", fuseDir.toString());
            }
            nbdfuse.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static int runQuietly(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
