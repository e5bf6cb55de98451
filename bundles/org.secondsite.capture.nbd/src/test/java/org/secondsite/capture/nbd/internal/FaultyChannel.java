package org.secondsite.capture.nbd.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A file channel that delegates to a real one and fails on demand, as a disk that turned read-only or
 * vanished would: positional reads, positional writes and {@code force} throw the configured exception.
 * A write may first store some bytes ({@link #failWritesAfter}), as a write cut short does.
 */
final class FaultyChannel extends FileChannel {
    private final FileChannel delegate;
    volatile IOException readError;
    volatile IOException writeError;
    volatile IOException forceError;
    /** Bytes a failing write stores before it throws (0: none). */
    volatile int failWritesAfter;

    FaultyChannel(FileChannel delegate) {
        this.delegate = delegate;
    }

    /** Fails reads and writes with {@code error}, as a vanished disk does. */
    void vanish(IOException error) {
        readError = error;
        writeError = error;
        forceError = error;
    }

    void heal() {
        readError = null;
        writeError = null;
        forceError = null;
        failWritesAfter = 0;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        IOException e = readError;
        if (e != null) {
            throw copy(e);
        }
        return delegate.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        IOException e = writeError;
        if (e != null) {
            int partial = Math.min(failWritesAfter, src.remaining());
            if (partial > 0) {
                ByteBuffer part = src.slice().limit(partial);
                while (part.hasRemaining()) {
                    delegate.write(part, position + part.position());
                }
                src.position(src.position() + partial);
                failWritesAfter = 0;
            }
            throw copy(e);
        }
        return delegate.write(src, position);
    }

    @Override
    public void force(boolean metaData) throws IOException {
        IOException e = forceError;
        if (e != null) {
            throw copy(e);
        }
        delegate.force(metaData);
    }

    /** A fresh exception per failure, as the JDK throws (same type and message). */
    private static IOException copy(IOException e) {
        return e instanceof java.io.EOFException ? new java.io.EOFException(e.getMessage()) : new IOException(e.getMessage());
    }

    @Override
    public long size() throws IOException {
        return delegate.size();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        throw new UnsupportedOperationException("the export uses positional reads only");
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        throw new UnsupportedOperationException("the export uses positional reads only");
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        throw new UnsupportedOperationException("the export uses positional writes only");
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        throw new UnsupportedOperationException("the export uses positional writes only");
    }

    @Override
    public long position() throws IOException {
        return delegate.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        delegate.position(newPosition);
        return this;
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        delegate.truncate(size);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return delegate.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        return delegate.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return delegate.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return delegate.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return delegate.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        delegate.close();
    }
}
