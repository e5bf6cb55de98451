package org.secondsite.itests;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * A known write pattern for a disk, applied through NBD with {@code qemu-io}, whose final
 * content (and so its SHA-256) the test computes independently.
 *
 * <p>Pass 1 covers the whole disk in 4 MiB chunks: even chunks from one of four
 * pseudo-random 4 MiB source files ({@code write -s}, incompressible), odd chunks a constant
 * byte ({@code write -P}). Pass 2 writes 1 MiB of another constant byte across every chunk
 * boundary, so a replica that applied the writes out of order would differ. Every seed
 * gives different bytes everywhere.
 */
final class WritePattern {
    static final int CHUNK = 4 << 20;
    private static final int OVERLAP = 1 << 20;
    private static final int SOURCES = 4;

    private final long size;
    private final int seed;
    private final Path[] sources = new Path[SOURCES];

    /** One write: either from a source file or a constant byte. */
    private record Write(long offset, int length, int source, int pattern) {
    }

    private final List<Write> writes = new ArrayList<>();

    /**
     * @param size disk size, a multiple of 4 MiB
     * @param seed varies every byte of the pattern
     * @param dir where the source files are written
     */
    WritePattern(long size, int seed, Path dir) throws IOException {
        if (size <= 0 || size % CHUNK != 0) {
            throw new IllegalArgumentException("disk size " + size + " is not a positive multiple of " + CHUNK);
        }
        this.size = size;
        this.seed = seed;
        Files.createDirectories(dir);
        byte[] buf = new byte[CHUNK];
        for (int k = 0; k < SOURCES; k++) {
            new Random(seed * 31L + k).nextBytes(buf);
            sources[k] = dir.resolve("pattern-" + seed + "-" + k + ".bin");
            Files.write(sources[k], buf);
        }
        int chunks = (int) (size / CHUNK);
        for (int i = 0; i < chunks; i++) {
            long off = (long) i * CHUNK;
            if (i % 2 == 0) {
                writes.add(new Write(off, CHUNK, (i / 2 + seed) % SOURCES, -1));
            } else {
                writes.add(new Write(off, CHUNK, -1, (seed * 67 + i * 7 + 1) & 0xff));
            }
        }
        for (int i = 1; i < chunks; i++) {
            writes.add(new Write((long) i * CHUNK - OVERLAP / 2, OVERLAP, -1, (seed * 13 + i * 11 + 0x80) & 0xff));
        }
    }

    long size() {
        return size;
    }

    /** Number of qemu-io write commands. */
    int writeCount() {
        return writes.size();
    }

    /** {@code qemu-io} writing the whole pattern in order to {@code target} (e.g. an nbd:// URL). */
    ProcessBuilder qemuIo(String target, File log) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (Write w : writes) {
            cmd.add("-c");
            cmd.add(w.source >= 0
                    ? "write -q -s " + sources[w.source] + " " + w.offset + " " + w.length
                    : "write -q -P " + w.pattern + " " + w.offset + " " + w.length);
        }
        cmd.add("-c");
        cmd.add("flush");
        cmd.add(target);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log);
    }

    /** SHA-256 (hex) of the disk once every write of the pattern was applied in order. */
    String expectedSha256() throws IOException {
        MessageDigest md = sha256();
        byte[] chunk = new byte[CHUNK];
        byte[][] src = new byte[SOURCES][];
        for (int k = 0; k < SOURCES; k++) {
            src[k] = Files.readAllBytes(sources[k]);
        }
        for (long start = 0; start < size; start += CHUNK) {
            long end = start + CHUNK;
            for (Write w : writes) {
                long from = Math.max(start, w.offset);
                long to = Math.min(end, w.offset + w.length);
                if (from >= to) {
                    continue;
                }
                int dst = (int) (from - start);
                int len = (int) (to - from);
                if (w.source >= 0) {
                    System.arraycopy(src[w.source], (int) (from - w.offset), chunk, dst, len);
                } else {
                    Arrays.fill(chunk, dst, dst + len, (byte) w.pattern);
                }
            }
            md.update(chunk);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 (hex) of a file's content. */
    static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 20];
        try (var in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code tool} is an executable on the PATH. */
    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "pattern seed " + seed + " over " + (size >> 20) + " MiB (" + writes.size() + " writes)";
    }
}
