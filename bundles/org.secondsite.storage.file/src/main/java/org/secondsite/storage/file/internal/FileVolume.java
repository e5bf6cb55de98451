package org.secondsite.storage.file.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

import org.secondsite.api.storage.Volume;

/**
 * A replica volume as a sparse raw image file, accessed with positional {@link FileChannel}
 * I/O (thread-safe, no shared file pointer).
 *
 * <p><b>zero()</b>: pure Java cannot punch holes (no {@code fallocate(PUNCH_HOLE)}). So a
 * range that reaches the end of the volume is deallocated by truncating the file to the
 * range's start and extending it again (the tail becomes a hole); any other range is read in
 * 1 MiB chunks and only chunks holding non-zero bytes are overwritten with zeros, so holes
 * and already-zero regions stay unallocated. A crash between the truncate and the extension
 * leaves a short file, which the next {@code openVolume} extends back to the volume size
 * (the missing tail reads as zeros, as it should).
 */
final class FileVolume implements Volume {

    private static final int ZERO_CHUNK = 1024 * 1024;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();

    private final String name;
    private final Path file;
    private final RandomAccessFile raf;
    private final FileChannel channel;
    private final long size;
    /** Scratch for zero(), per thread so concurrent callers do not share it. */
    private final ThreadLocal<ByteBuffer> scratch = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(ZERO_CHUNK));

    FileVolume(String name, Path file, RandomAccessFile raf, long size) {
        this.name = name;
        this.file = file;
        this.raf = raf;
        this.channel = raf.getChannel();
        this.size = size;
    }

    @Override
    public String name() {
        return name;
    }

    Path file() {
        return file;
    }

    @Override
    public long size() {
        return size;
    }

    private void checkRange(String op, long offset, long length) throws EOFException {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new EOFException(op + " of " + length + " bytes at offset " + offset + " is outside volume '" + name
                    + "' of " + size + " bytes");
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkRange("read", offset, dst.remaining());
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                // Only after a crash in the middle of zero() of the tail, before openVolume re-extended it.
                throw new EOFException("volume '" + name + "' file " + file + " is shorter than its size " + size
                        + " (at " + pos + "); reopen it to repair");
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkRange("write", offset, src.remaining());
        long pos = offset;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    @Override
    public void zero(long offset, long length) throws IOException {
        checkRange("zero", offset, length);
        if (length == 0) {
            return;
        }
        if (offset + length == size) {
            synchronized (this) {
                channel.truncate(offset);
                raf.setLength(size);
            }
            return;
        }
        ByteBuffer buf = scratch.get();
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int n = (int) Math.min(ZERO_CHUNK, end - pos);
            buf.clear().limit(n);
            while (buf.hasRemaining()) {
                if (channel.read(buf, pos + buf.position()) < 0) {
                    break; // short file after a crash: the rest reads as zeros already
                }
            }
            buf.flip();
            if (buf.mismatch(ZEROS.duplicate().limit(buf.limit())) >= 0) {
                ByteBuffer z = ZEROS.duplicate().limit(n);
                long p = pos;
                while (z.hasRemaining()) {
                    p += channel.write(z, p);
                }
            }
            pos += n;
        }
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public void close() throws IOException {
        raf.close();
    }

    @Override
    public String toString() {
        return "FileVolume[" + name + ", " + size + " bytes, " + file + "]";
    }
}
