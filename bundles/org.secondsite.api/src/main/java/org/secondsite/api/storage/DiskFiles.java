package org.secondsite.api.storage;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Positional I/O on a disk file or block device, for capture drivers and storage backends that
 * implement {@link BlockDevice} over a {@link FileChannel}.
 */
public final class DiskFiles {
    private DiskFiles() {
    }

    /**
     * Size of a regular file or, on Linux, of a block device ({@code FileChannel.size()} reports 0
     * for those, so the size is read from {@code /sys/class/block/<name>/size}).
     */
    public static long size(Path path, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size == 0 && !Files.isRegularFile(path)) {
            Path real = path.toRealPath();
            Path sys = Path.of("/sys/class/block", real.getFileName().toString(), "size");
            if (Files.isReadable(sys)) {
                String sectors = Files.readString(sys).trim();
                try {
                    size = Long.parseLong(sectors) * 512;
                } catch (NumberFormatException e) {
                    throw new IOException("cannot read the size of block device " + path + ": " + sys + " holds '"
                            + sectors + "', expected a number of 512-byte sectors", e);
                }
            }
        }
        return size;
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset}; a short file is an {@link EOFException}. */
    public static void readFully(FileChannel channel, long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new EOFException("end of file at offset " + pos + " while " + dst.remaining()
                        + " more bytes were to be read");
            }
            pos += n;
        }
    }

    /** Writes all of {@code src} at {@code offset}. */
    public static void writeFully(FileChannel channel, long offset, ByteBuffer src) throws IOException {
        long pos = offset;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    /** Checks that {@code length} bytes at {@code offset} lie within a disk of {@code size} bytes. */
    public static void checkRange(long offset, long length, long size) throws EOFException {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new EOFException("range " + offset + "+" + length + " is outside the disk (" + size + " bytes)");
        }
    }

    /**
     * Replaces {@code file} with {@code content} so that a crash at any moment leaves either the
     * old or the new content, whole: writes {@code <file>.tmp}, forces it, renames it over the file
     * atomically and forces the directory.
     */
    public static void replaceAtomically(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, 0, ByteBuffer.wrap(content));
            ch.force(true);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.toAbsolutePath().getParent(), java.nio.file.StandardOpenOption.READ)) {
            dir.force(true);
        }
    }
}
