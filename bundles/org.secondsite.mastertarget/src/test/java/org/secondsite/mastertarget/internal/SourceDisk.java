package org.secondsite.mastertarget.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;

/**
 * A protected disk for the resync tests: a file read as a capture session's {@code source()}, and
 * written as a capture driver would, each workload write applied to the file and then accepted by
 * the sink under one lock. Reads of offsets at or beyond {@link #holdFrom} wait until
 * {@link #release} (to stop a resync at a known place).
 */
final class SourceDisk implements BlockDevice {
    private final Path file;
    private final FileChannel channel;
    private final long size;
    private final Object order = new Object();
    private volatile long holdFrom = Long.MAX_VALUE;
    private volatile long holdCovering = -1;
    private volatile int holdNth;
    private final java.util.concurrent.atomic.AtomicInteger covering = new java.util.concurrent.atomic.AtomicInteger();
    private volatile CountDownLatch gate = new CountDownLatch(0);
    final AtomicLong heldReads = new AtomicLong();

    SourceDisk(Path file) throws IOException {
        this.file = file;
        this.channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.size = channel.size();
    }

    Path file() {
        return file;
    }

    /** Holds reads at or beyond {@code offset} until {@link #release}. */
    void holdFrom(long offset) {
        gate = new CountDownLatch(1);
        holdFrom = offset;
    }

    /** Holds the {@code n}-th read that covers {@code offset} until {@link #release}. */
    void holdNthReadCovering(long offset, int n) {
        gate = new CountDownLatch(1);
        holdNth = n;
        holdCovering = offset;
    }

    void release() {
        holdFrom = Long.MAX_VALUE;
        holdCovering = -1;
        gate.countDown();
    }

    /** A workload write: applied to the file, then accepted by the sink, under one lock. */
    void write(ChangeSink sink, long offset, byte[] data) throws IOException {
        synchronized (order) {
            DiskFiles.writeFully(channel, offset, ByteBuffer.wrap(data));
            sink.accept(ChangeRecord.write(offset, ByteBuffer.wrap(data.clone())));
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (offset + dst.remaining() > size) {
            throw new EOFException("read " + offset + "+" + dst.remaining() + " beyond " + size);
        }
        long at = holdCovering;
        boolean held = at >= offset && at < offset + dst.remaining() && covering.incrementAndGet() == holdNth;
        if (held || offset + dst.remaining() > holdFrom) {
            heldReads.incrementAndGet();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("held read interrupted");
            }
        }
        DiskFiles.readFully(channel, offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws java.io.IOException {
        throw new java.io.IOException("the source is written through write(sink, offset, data)");
    }

    @Override
    public void zero(long offset, long length) throws java.io.IOException {
        throw new java.io.IOException("read-only source");
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
