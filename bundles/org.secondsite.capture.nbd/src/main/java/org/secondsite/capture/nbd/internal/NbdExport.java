package org.secondsite.capture.nbd.internal;

import org.secondsite.api.storage.DiskFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;

/**
 * The exported disk: applies the changes of all connections to the source file and hands them to
 * the change sink, in one order.
 *
 * <h2>Ordering invariant</h2>
 * Every change is passed to the sink and applied to the file <em>before</em> its reply is queued,
 * and the pair (sink, file) is updated under one per-export lock ({@link #order}). Hence:
 * <ul>
 * <li>the sequence of states the file passes through is exactly the sequence obtained by replaying
 * the sink's records in order (two overlapping writes from different connections land on the file
 * and in the sink in the same order), so every prefix of the stream is a state the disk really had;</li>
 * <li>a change whose reply the client has received was accepted before any change the client issued
 * after seeing that reply, on any connection: the sink's order is the acknowledgement order as far
 * as any client can observe it. Replies leave after the lock is released; only writes that were in
 * flight together, whose relative order no client can rely on, may see their replies leave in a
 * different order than the sink got them.</li>
 * </ul>
 * The sink is called first and the file written second: if the sink refuses a change (throws), the
 * file is untouched and the client gets EIO, so the file never holds a change the sink does not know.
 *
 * <p>FLUSH and FUA force the file ({@code FileChannel.force}) and then call {@link ChangeSink#flush()},
 * outside the lock: every change replied to before is already in both.
 */
final class NbdExport implements Closeable {
    /** Zero ranges and trims are cut into records of at most this many bytes. */
    static final int MAX_RECORD = NbdProtocol.MAX_PAYLOAD;
    private static final int ZERO_CHUNK = 1 << 20;

    private final String name;
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final ChangeSink sink;
    private final ReentrantLock order = new ReentrantLock();
    /** Zeros for WRITE_ZEROES, used only under {@link #order}. */
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
    private final NbdStatistics stats = new NbdStatistics();

    private NbdExport(String name, Path path, FileChannel channel, long size, ChangeSink sink) {
        this.name = name;
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.sink = sink;
    }

    /** Opens {@code path} (a file or block device, which must exist) for reading and writing. */
    static NbdExport open(String name, Path path, ChangeSink sink) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long size = DiskFiles.size(path, channel);
            if (size <= 0) {
                throw new IOException("source disk " + path + " is empty: nothing to export");
            }
            return new NbdExport(name, path, channel, size, sink);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    String name() {
        return name;
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    NbdStatistics stats() {
        return stats;
    }

    /** Whether a client asking for {@code requested} means this export ("" is the default export). */
    boolean matches(String requested) {
        return requested.isEmpty() || requested.equals(name);
    }

    String description() {
        return "SecondSite capture of disk " + name + " (" + path + ")";
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset} (range already validated). */
    void read(long offset, ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        DiskFiles.readFully(channel, offset, dst);
        stats.reads.increment();
        stats.bytesRead.add(n);
    }

    /**
     * Applies a write: {@code record} (which owns a copy of the data) goes to the sink, then
     * {@code src} to the file, both under the order lock.
     */
    void write(long offset, ByteBuffer src, ChangeRecord record, boolean fua) throws IOException {
        int n = src.remaining();
        order.lock();
        try {
            sink.accept(record);
            DiskFiles.writeFully(channel, offset, src);
        } finally {
            order.unlock();
        }
        stats.writes.increment();
        stats.bytesWritten.add(n);
        if (fua) {
            flush();
        }
    }

    /** WRITE_ZEROES: the range reads as zeros afterwards (zeros are written; no hole is punched). */
    void zero(long offset, long length, boolean fua) throws IOException {
        order.lock();
        try {
            for (long done = 0; done < length; done += MAX_RECORD) {
                sink.accept(ChangeRecord.zero(offset + done, (int) Math.min(MAX_RECORD, length - done)));
            }
            long pos = offset;
            long end = offset + length;
            while (pos < end) {
                zeros.clear().limit((int) Math.min(ZERO_CHUNK, end - pos));
                DiskFiles.writeFully(channel, pos, zeros);
                pos += zeros.limit();
            }
        } finally {
            order.unlock();
        }
        stats.zeroes.increment();
        if (fua) {
            flush();
        }
    }

    /**
     * TRIM: recorded for the sink; the file keeps its bytes. The spec lets a server ignore a trim
     * (the client may assume nothing about the range until it writes it again), and Java cannot punch
     * holes, so writing zeros instead would turn a cheap hint (mkfs discards whole disks) into a full
     * write.
     */
    void trim(long offset, long length, boolean fua) throws IOException {
        order.lock();
        try {
            for (long done = 0; done < length; done += MAX_RECORD) {
                sink.accept(ChangeRecord.trim(offset + done, (int) Math.min(MAX_RECORD, length - done)));
            }
        } finally {
            order.unlock();
        }
        stats.trims.increment();
        if (fua) {
            flush();
        }
    }

    /** Makes every change applied so far durable in the file and in the sink. */
    void flush() throws IOException {
        channel.force(false);
        sink.flush();
        stats.flushes.increment();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
