package org.secondsite.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tmpfs of a fixed size mounted on a directory, for tests that must meet a really full
 * filesystem (ENOSPC) rather than a size bound. Needs root and {@code mount}; {@link #available()}
 * says whether this machine can, and why not, so callers can skip with the reason.
 */
public final class SmallFilesystem implements AutoCloseable {
    private final Path dir;

    private SmallFilesystem(Path dir) {
        this.dir = dir;
    }

    /** Empty when a tmpfs can be mounted here; otherwise why not. */
    public static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "mounting a small tmpfs needs root (running as " + System.getProperty("user.name") + ")";
        }
        if (!Files.isExecutable(Path.of("/bin/mount")) && !Files.isExecutable(Path.of("/usr/bin/mount"))) {
            return "no mount command";
        }
        return "";
    }

    /** Mounts a tmpfs of {@code bytes} on {@code dir} (created if needed). */
    public static SmallFilesystem mount(Path dir, long bytes) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        run(List.of("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", dir.toString()));
        return new SmallFilesystem(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Bytes still free for an unprivileged writer. */
    public long freeBytes() throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run(List.of("umount", "-l", dir.toString()));
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + out.trim());
        }
    }
}
