package org.secondsite.capture.scan.internal;

import org.secondsite.api.storage.DiskFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The persisted hash table of one disk: {@code <stateDir>/<disk id>.scanstate}, replaced atomically
 * (written to {@code .tmp}, forced, renamed over the old file, directory forced).
 *
 * <p>Layout, big-endian: magic {@code SSSCAN01} (8 bytes), version (int, 1), hash id (int), block size
 * (int), source size in bytes (long), number of table longs (long), the longs, CRC32C of everything
 * before it (int).
 */
final class StateFile {
    static final long MAGIC = 0x5353_5343_414E_3031L; // "SSSCAN01"
    static final int VERSION = 1;
    static final int HEADER = 8 + 4 + 4 + 4 + 8 + 8;
    private static final int IO_CHUNK = 1 << 20;

    private final Path file;

    StateFile(Path file) {
        this.file = file;
    }

    Path path() {
        return file;
    }

    /** A table read back from disk. */
    record Loaded(long sourceSize, long[] table) {
    }

    /** Why a state file could not be used. */
    static final class UnusableStateException extends IOException {
        private static final long serialVersionUID = 1L;

        UnusableStateException(String message) {
            super(message);
        }
    }

    /**
     * Reads the table, or returns null when there is no state file.
     *
     * @throws UnusableStateException if the file is corrupt or was written with another block size or hash
     */
    Loaded load(BlockHash hash, int blockSize, long maxLongs) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return null;
        }
        try (ch) {
            long fileSize = ch.size();
            if (fileSize < HEADER + 4) {
                throw unusable("is " + fileSize + " bytes long, shorter than its header");
            }
            CRC32C crc = new CRC32C();
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            DiskFiles.readFully(ch, 0, header);
            header.flip();
            crc.update(header.duplicate());
            long magic = header.getLong();
            int version = header.getInt();
            int hashId = header.getInt();
            int bs = header.getInt();
            long sourceSize = header.getLong();
            long longs = header.getLong();
            if (magic != MAGIC) {
                throw unusable("does not start with the scan state magic SSSCAN01");
            }
            if (version != VERSION) {
                throw unusable("has version " + version + ", expected " + VERSION);
            }
            if (hashId != hash.id()) {
                BlockHash other = BlockHash.byId(hashId);
                throw unusable("was written with hash " + (other == null ? "id " + hashId : other.option())
                        + ", the session uses " + hash.option());
            }
            if (bs != blockSize) {
                throw unusable("was written with blockSize " + bs + ", the session uses " + blockSize);
            }
            if (sourceSize < 0 || longs < 0 || longs > maxLongs
                    || longs != ceilDiv(sourceSize, blockSize) * hash.words()) {
                throw unusable("holds " + longs + " hash words for a " + sourceSize + "-byte source, which do not match");
            }
            if (fileSize != HEADER + longs * 8 + 4) {
                throw unusable("is " + fileSize + " bytes long, expected " + (HEADER + longs * 8 + 4));
            }
            long[] table = new long[(int) longs];
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(IO_CHUNK, longs * 8 + 4));
            long pos = HEADER;
            int i = 0;
            while (i < table.length) {
                int n = (int) Math.min(buf.capacity() / 8, table.length - i);
                buf.clear().limit(n * 8);
                DiskFiles.readFully(ch, pos, buf);
                buf.flip();
                crc.update(buf.duplicate());
                buf.asLongBuffer().get(table, i, n);
                i += n;
                pos += n * 8L;
            }
            buf.clear().limit(4);
            DiskFiles.readFully(ch, pos, buf);
            int stored = buf.flip().getInt();
            if (stored != (int) crc.getValue()) {
                throw unusable("fails its CRC32C check");
            }
            return new Loaded(sourceSize, table);
        }
    }

    private UnusableStateException unusable(String what) {
        return new UnusableStateException("scan state file " + file + " " + what);
    }

    /** Replaces the state file with {@code table} describing a {@code sourceSize}-byte source. */
    void save(BlockHash hash, int blockSize, long sourceSize, long[] table, int longs) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(IO_CHUNK, HEADER + longs * 8L + 4));
            buf.putLong(MAGIC).putInt(VERSION).putInt(hash.id()).putInt(blockSize).putLong(sourceSize).putLong(longs);
            int i = 0;
            while (true) {
                while (i < longs && buf.remaining() >= 8) {
                    buf.putLong(table[i++]);
                }
                if (i == longs && buf.remaining() >= 4) {
                    buf.flip();
                    crc.update(buf.duplicate());
                    buf.position(buf.limit()).limit(buf.capacity());
                    buf.putInt((int) crc.getValue());
                    buf.flip();
                    writeFully(ch, buf);
                    break;
                }
                buf.flip();
                crc.update(buf.duplicate());
                writeFully(ch, buf);
                buf.clear();
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + file + " atomically: the file system of the state directory "
                    + "does not support an atomic rename", e);
        }
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // some platforms cannot open a directory for fsync; the rename itself is atomic
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
