package org.secondsite.mastertarget.internal.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

/**
 * An NBD export attached to the kernel as the capture tests do it: {@code nbdfuse} turns the
 * export into a file, a loop device turns the file into a block device, which may be mounted.
 * {@link #close} releases whatever was set up (unfreeze, umount, losetup -d, fusermount3 -u,
 * nbdfuse ended), innermost first, never throwing, also after a partial setup.
 */
final class KernelAttachment implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(30);

    final String name;
    final Path fuseDir;
    final Path mnt;
    private final Path log;
    private Process nbdfuse;
    String loop;
    private boolean frozen;

    private KernelAttachment(String name, Path fuseDir, Path mnt, Path log) {
        this.name = name;
        this.fuseDir = fuseDir;
        this.mnt = mnt;
        this.log = log;
    }

    /** Skips the test (with the reason) unless this runs as root with FUSE and the tools. */
    static void assumeKernelTools(List<String> tools) {
        Assumptions.assumeTrue(isRoot(), "not running as root (" + System.getProperty("user.name")
                + "): attaching loop devices and mounting ext4 needs root; run the build as root to include this test");
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing: FUSE is not available here");
        for (String tool : tools) {
            Assumptions.assumeTrue(onPath(tool), tool + " is not installed (PATH=" + System.getenv("PATH")
                    + "); install it (nbdfuse, util-linux, e2fsprogs) to run this test");
        }
    }

    /**
     * Attaches {@code uri} under {@code work/<name>}: nbdfuse (read-only with {@code -r}) and a loop
     * device (read-only too), with direct I/O when the kernel takes it.
     */
    static KernelAttachment attach(Path work, String name, String uri, boolean readOnly) throws Exception {
        Path base = Files.createDirectories(work.resolve(name));
        KernelAttachment a = new KernelAttachment(name, Files.createDirectories(base.resolve("fuse")),
                Files.createDirectories(base.resolve("mnt")), base.resolve("nbdfuse.log"));
        try {
            Path pid = base.resolve("nbdfuse.pid");
            List<String> cmd = new ArrayList<>(List.of("nbdfuse", "-P", pid.toString()));
            if (readOnly) {
                cmd.add("-r");
            }
            cmd.add(a.fuseDir.toString());
            cmd.add(uri);
            a.nbdfuse = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(a.log.toFile()).start();
            Process p = a.nbdfuse;
            // nbdfuse writes its pid file once the FUSE file system is mounted
            Awaitility.await("nbdfuse to mount " + uri).atMost(STEP).until(() -> Files.exists(pid) || !p.isAlive());
            assertTrue(p.isAlive(), () -> "nbdfuse ended: " + a.log());
            Path file = a.fuseDir.resolve("nbd");
            List<String> losetup = new ArrayList<>(List.of("losetup", "-f", "--show", "--direct-io=on"));
            if (readOnly) {
                losetup.add("--read-only");
            }
            losetup.add(file.toString());
            Result r = exec(30, losetup);
            String dev = r.out.lines().filter(l -> l.startsWith("/dev/loop")).findFirst().orElse(null);
            if (dev == null) { // direct I/O refused: buffered
                losetup.remove("--direct-io=on");
                dev = run(30, losetup).trim();
            }
            a.loop = dev;
            return a;
        } catch (Exception | Error e) {
            a.close();
            throw e;
        }
    }

    void mount(String options) throws Exception {
        run(30, List.of("mount", "-t", "ext4", "-o", options, loop, mnt.toString()));
    }

    void freeze() throws Exception {
        run(30, List.of("fsfreeze", "--freeze", mnt.toString()));
        frozen = true;
    }

    void unfreeze() throws Exception {
        run(30, List.of("fsfreeze", "--unfreeze", mnt.toString()));
        frozen = false;
    }

    /** Unmounts the file system (if mounted). */
    void umount() throws Exception {
        if (isMountPoint(mnt)) {
            run(60, List.of("umount", mnt.toString()));
        }
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (frozen) {
            runQuietly(30, "fsfreeze", "--unfreeze", mnt.toString());
            frozen = false;
        }
        try {
            if (isMountPoint(mnt) && runQuietly(60, "umount", mnt.toString()) != 0) {
                runQuietly(30, "umount", "-l", mnt.toString());
            }
        } catch (IOException e) {
            System.err.println("clean-up: " + e);
        }
        if (loop != null) {
            String dev = loop;
            runQuietly(30, "losetup", "-d", dev);
            Path backing = Path.of("/sys/block", Path.of(dev).getFileName().toString(), "loop", "backing_file");
            try {
                Awaitility.await(dev + " to be released").atMost(STEP).until(() -> !Files.exists(backing));
            } catch (RuntimeException e) {
                System.err.println("clean-up: " + e);
            }
            loop = null;
        }
        try {
            if (isMountPoint(fuseDir) && runQuietly(30, "fusermount3", "-u", fuseDir.toString()) != 0) {
                runQuietly(30, "fusermount3", "-u", "-z", fuseDir.toString());
            }
        } catch (IOException e) {
            System.err.println("clean-up: " + e);
        }
        if (nbdfuse != null) {
            try {
                if (!nbdfuse.waitFor(10, TimeUnit.SECONDS)) {
                    nbdfuse.destroy();
                    if (!nbdfuse.waitFor(10, TimeUnit.SECONDS)) {
                        nbdfuse.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            nbdfuse = null;
        }
    }

    // ------------------------------------------------------------------ commands

    record Result(int exit, String out) {
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

    static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Runs a command to its end (in time, or the test fails) whatever its exit code. */
    static Result exec(long timeoutSeconds, List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
            return new Result(p.exitValue(), out);
        } finally {
            p.destroyForcibly();
        }
    }

    /** Runs a command; the test fails unless it exits with 0; returns its standard output as bytes. */
    static byte[] runBytes(long timeoutSeconds, List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
            assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed");
            return out;
        } finally {
            p.destroyForcibly();
        }
    }

    /** Runs a command; the test fails unless it exits with 0. */
    static String run(long timeoutSeconds, List<String> command) throws Exception {
        Result r = exec(timeoutSeconds, command);
        assertEquals(0, r.exit(), () -> String.join(" ", command) + " failed:\n" + r.out());
        return r.out();
    }

    static String run(long timeoutSeconds, String... command) throws Exception {
        return run(timeoutSeconds, List.of(command));
    }

    /** For clean-up: never throws; returns the exit code (-1 if it could not run in time). */
    static int runQuietly(long timeoutSeconds, String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    System.err.println("clean-up timed out: " + String.join(" ", command));
                    return -1;
                }
                return p.exitValue();
            } finally {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            System.err.println("clean-up could not run " + String.join(" ", command) + ": " + e);
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static boolean isMountPoint(Path dir) throws IOException {
        String target = dir.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[4].replace("\\040", " ").equals(target)) {
                return true;
            }
        }
        return false;
    }
}
