package org.secondsite.capture.nbd.internal;

import org.secondsite.api.storage.DiskFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.secondsite.api.storage.BlockDevice;

/**
 * The captured disk as {@link org.secondsite.api.capture.CaptureSession#source()} shows it: read-only
 * (a write here would bypass capture; writes go through the NBD endpoint), reading the same file
 * the export writes, so reads see every acknowledged write.
 *
 * <p>It has its own read-only channel: a {@link FileChannel} is closed when a thread using it is
 * interrupted, and a resync thread being cancelled must not close the export's channel. If that
 * happens to this one, the next read reopens it, unless the path no longer names the exported file.
 * Read failures and successes feed the export's {@link SourceHealth}. {@link #close()} closes the
 * channel; the session closes it too.
 */
final class SourceDevice implements BlockDevice {
    private final Path path;
    private final long size;
    private final SourceHealth health;
    /** Bytes read under one hold of the export's order lock, at most. */
    static final int READ_PIECE = 1 << 20;
    /** The export's order lock: a read waits for a change the sink took to reach the file. */
    private final java.util.concurrent.locks.Lock order;
    private FileChannel channel;
    private boolean closed;

    SourceDevice(Path path, long size, SourceHealth health, java.util.concurrent.locks.Lock order) throws IOException {
        this.path = path;
        this.size = size;
        this.health = health;
        this.order = order;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
    }

    private synchronized FileChannel channel() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (!channel.isOpen()) {
            // Reopening by path is only right while the path still names the exported file.
            health.checkIdentity();
            String moved = health.identityProblem();
            if (moved != null) {
                throw new IOException("cannot reopen the source for reading: " + moved);
            }
            channel = FileChannel.open(path, StandardOpenOption.READ);
        }
        return channel;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        DiskFiles.checkRange(offset, dst.remaining(), size);
        FileChannel ch = channel();
        // The export hands a change to the sink before writing it to the file, both under its order
        // lock: reading under it too, a reader never sees the file lag behind the change stream, so
        // data it then appends to the stream (resync, replay) is never older than a change before it.
        // In pieces of at most READ_PIECE, so a large resync read holds up the workload's writes briefly;
        // a write accepted between two pieces is newer than the read's SourceRead and refuses its append.
        int limit = dst.limit();
        long at = offset;
        try {
            while (dst.hasRemaining()) {
                int n = Math.min(READ_PIECE, dst.remaining());
                dst.limit(dst.position() + n);
                order.lock();
                try {
                    DiskFiles.readFully(ch, at, dst);
                } finally {
                    order.unlock();
                    dst.limit(limit);
                }
                at += n;
            }
        } catch (ClosedChannelException e) {
            throw e; // closed by an interrupt of the reading thread, or the session is closing
        } catch (IOException e) {
            throw health.failed(SourceHealth.Op.READ, e);
        }
        health.ok(SourceHealth.Op.READ);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        throw readOnly();
    }

    @Override
    public void zero(long offset, long length) throws IOException {
        throw readOnly();
    }

    private IOException readOnly() {
        return new IOException("the source of an nbd capture is read-only here: write through its NBD endpoint, "
                + "so that the change is captured");
    }

    /** Nothing to make durable through a read-only view; the export forces the file on FLUSH/FUA. */
    @Override
    public void flush() {
        // read-only
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        channel.close();
    }
}
