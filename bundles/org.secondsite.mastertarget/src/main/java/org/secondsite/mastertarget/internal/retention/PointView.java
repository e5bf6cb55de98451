package org.secondsite.mastertarget.internal.retention;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;

/**
 * A read-only recovery point of one disk: the replica with the undo chain laid over it. For
 * each byte the oldest journal entry of the disk above the point's sequence that covers it
 * holds the byte's content at the point; bytes no entry covers read from the replica.
 *
 * <p>The range map is built from the journal index (time proportional to the entries after
 * the point, not to the disk size) and grows as replication goes on: the journal adds each
 * new entry (written before the replica range it protects is overwritten) under this view's
 * write lock, and a read holds the read lock across its replica reads, so a read never sees a
 * replica range being overwritten whose old content is not in the map yet.
 */
public final class PointView implements BlockDevice {
    private record Piece(long end, RetentionJournal.Entry entry) {
    }

    private final RetentionJournal journal;
    private final DiskId disk;
    private final BlockDevice replica;
    private final long size;
    private final Runnable onClose;
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    /** start -> piece; pieces do not overlap. Guarded by rw. */
    private final TreeMap<Long, Piece> map = new TreeMap<>();
    private volatile boolean closed;

    PointView(RetentionJournal journal, DiskId disk, BlockDevice replica, long size, Runnable onClose) {
        this.journal = journal;
        this.disk = disk;
        this.replica = replica;
        this.size = size;
        this.onClose = onClose;
    }

    /** Adds the parts of an entry's range no older entry covers. */
    void cover(RetentionJournal.Entry e) {
        if (!e.disk().equals(disk)) {
            return;
        }
        rw.writeLock().lock();
        try {
            long pos = e.offset();
            long end = e.end();
            Map.Entry<Long, Piece> f = map.floorEntry(pos);
            if (f != null && f.getValue().end() > pos) {
                pos = f.getValue().end();
            }
            while (pos < end) {
                Map.Entry<Long, Piece> n = map.ceilingEntry(pos);
                long gapEnd = n == null ? end : Math.min(end, n.getKey());
                if (gapEnd > pos) {
                    map.put(pos, new Piece(gapEnd, e));
                }
                if (n == null || n.getKey() >= end) {
                    break;
                }
                pos = n.getValue().end();
            }
        } finally {
            rw.writeLock().unlock();
        }
    }

    /** Number of pieces in the range map (for tests and status). */
    public int pieces() {
        rw.readLock().lock();
        try {
            return map.size();
        } finally {
            rw.readLock().unlock();
        }
    }

    public DiskId disk() {
        return disk;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (closed) {
            throw new IOException("recovery point view of " + disk + " is closed");
        }
        long end = offset + dst.remaining();
        if (offset < 0 || end > size) {
            throw new EOFException("read of " + dst.remaining() + " bytes at " + offset + " beyond the view's "
                    + size + " bytes");
        }
        int limit = dst.limit();
        rw.readLock().lock();
        try {
            long pos = offset;
            while (pos < end) {
                Map.Entry<Long, Piece> f = map.floorEntry(pos);
                if (f != null && f.getValue().end() > pos) {
                    Piece p = f.getValue();
                    long n = Math.min(p.end(), end) - pos;
                    dst.limit(dst.position() + (int) n);
                    journal.readData(p.entry(), pos - p.entry().offset(), dst);
                    pos += n;
                } else {
                    Long next = map.ceilingKey(pos);
                    long n = (next == null ? end : Math.min(next, end)) - pos;
                    dst.limit(dst.position() + (int) n);
                    replica.read(pos, dst);
                    pos += n;
                }
                dst.limit(limit);
            }
        } finally {
            dst.limit(limit);
            rw.readLock().unlock();
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        throw new IOException("read-only recovery point view");
    }

    @Override
    public void zero(long offset, long length) throws IOException {
        throw new IOException("read-only recovery point view");
    }

    @Override
    public void flush() {
        // nothing to make durable: the view is read-only
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            journal.closed(this);
            if (onClose != null) {
                onClose.run();
            }
        }
    }

    @Override
    public String toString() {
        return "PointView[" + disk + ", " + map.size() + " pieces]";
    }
}
