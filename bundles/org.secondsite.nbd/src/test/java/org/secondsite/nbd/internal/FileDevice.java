package org.secondsite.nbd.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.LongAdder;

import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;

/** A file as a {@link BlockDevice} for tests: read-only or not; counts the writes and zeroes asked of it. */
public final class FileDevice implements BlockDevice {
    private final FileChannel channel;
    private final long size;
    private final boolean readOnly;
    public final LongAdder changes = new LongAdder();

    public FileDevice(Path file, boolean readOnly) throws IOException {
        this.channel = readOnly ? FileChannel.open(file, StandardOpenOption.READ)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.size = channel.size();
        this.readOnly = readOnly;
    }

    /** A sparse file of {@code size} bytes (all holes). */
    public static Path sparse(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
        return file;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        DiskFiles.checkRange(offset, dst.remaining(), size);
        DiskFiles.readFully(channel, offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        changes.increment(); // counted before the check: an attempt on a read-only device counts
        check(offset, src.remaining());
        DiskFiles.writeFully(channel, offset, src);
    }

    @Override
    public void zero(long offset, long length) throws IOException {
        changes.increment();
        check(offset, length);
        ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
        for (long pos = offset; pos < offset + length; pos += zeros.limit()) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), offset + length - pos));
            DiskFiles.writeFully(channel, pos, zeros);
        }
    }

    private void check(long offset, long length) throws IOException {
        if (readOnly) {
            throw new IOException("test device is read-only");
        }
        DiskFiles.checkRange(offset, length, size);
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            channel.force(false);
        }
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
