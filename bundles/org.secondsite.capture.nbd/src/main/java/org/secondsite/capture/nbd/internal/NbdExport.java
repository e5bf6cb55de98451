package org.secondsite.capture.nbd.internal;

import org.secondsite.api.storage.DiskFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.capture.nbd.internal.SourceHealth.Op;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <h2>A failing source</h2>
 * If the file refuses a change the sink already took (read-only, full, vanished, I/O error), the client
 * gets the error ({@link SourceFailure}, classified by {@link SourceHealth}), the export stays up and
 * nothing accepted before is touched. The sink now holds data the file may lack, so the range is
 * <em>settled</em> right away, still under the lock: its current content is read back from the file and
 * passed to the sink (as WRITE records, ZERO for all-zero pieces), so replaying the stream again yields
 * the file. If the file cannot be read either (a vanished disk), the range stays unsettled, is retried
 * before each later change and by {@link #settle()}, and is reported by {@link #problem()}.
 *
 * <p>FLUSH and FUA force the file ({@code FileChannel.force}) and then call {@link ChangeSink#flush()},
 * outside the lock: every change replied to before is already in both.
 */
final class NbdExport implements Closeable {
    /** Zero ranges and trims are cut into records of at most this many bytes. */
    static final int MAX_RECORD = NbdProtocol.MAX_PAYLOAD;
    private static final int ZERO_CHUNK = 1 << 20;
    /** Piece size when settling a range: read back, then one record per piece (zero pieces merged). */
    private static final int SETTLE_CHUNK = 1 << 20;
    /** Unsettled ranges kept apart; beyond that they are merged into one covering range. */
    private static final int MAX_UNSETTLED = 1024;
    private static final Logger LOG = LoggerFactory.getLogger(NbdExport.class);

    private final String name;
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final ChangeSink sink;
    private final SourceHealth health;
    private final ReentrantLock order = new ReentrantLock();
    /** Zeros for WRITE_ZEROES, used only under {@link #order}. */
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
    /** Ranges (start to end) the sink has but the file may not; only under {@link #order}. */
    private final TreeMap<Long, Long> unsettled = new TreeMap<>();
    private volatile long unsettledBytes;
    /** Read-back buffer for settling, allocated on first use, only under {@link #order}. */
    private ByteBuffer settleBuffer;
    private final NbdStatistics stats = new NbdStatistics();

    private NbdExport(String name, Path path, FileChannel channel, long size, ChangeSink sink, SourceHealth health) {
        this.name = name;
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.sink = sink;
        this.health = health;
    }

    /** Opens {@code path} (a file or block device, which must exist) for reading and writing. */
    static NbdExport open(String name, Path path, ChangeSink sink) throws IOException {
        return open(name, path, sink, UnaryOperator.identity());
    }

    /** As {@link #open(String, Path, ChangeSink)}; tests wrap the channel to inject failures. */
    static NbdExport open(String name, Path path, ChangeSink sink, UnaryOperator<FileChannel> wrap) throws IOException {
        FileChannel channel = wrap.apply(FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE));
        try {
            long size = DiskFiles.size(path, channel);
            if (size <= 0) {
                throw new IOException("source disk " + path + " is empty: nothing to export");
            }
            return new NbdExport(name, path, channel, size, sink, SourceHealth.of(name, path));
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

    /**
     * The lock under which each change goes to the sink and then to the file. A reader of the
     * source that must see the file as the sink's stream describes it (resync, dirty-region replay)
     * holds it while reading, so it never reads between a change's acceptance and its write.
     */
    java.util.concurrent.locks.Lock orderLock() {
        return order;
    }

    SourceHealth health() {
        return health;
    }

    /** Whether a client asking for {@code requested} means this export ("" is the default export). */
    boolean matches(String requested) {
        return requested.isEmpty() || requested.equals(name);
    }

    String description() {
        return "SecondSite capture of disk " + name + " (" + path + ")";
    }

    /**
     * What is wrong with the source now (empty while healthy): the health report, the identity of the
     * file (one {@code stat}), and changes not yet settled after the source refused them.
     */
    String problem() {
        health.checkIdentity();
        String p = health.problem();
        long u = unsettledBytes;
        if (u > 0) {
            String s = u + " bytes of refused writes are in the change stream but could not be read back from the "
                    + "source yet; the replica may differ there until they are";
            p = p.isEmpty() ? s : p + "; " + s;
        }
        return p;
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset} (range already validated). */
    void read(long offset, ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        readSource(offset, dst);
        stats.reads.increment();
        stats.bytesRead.add(n);
    }

    private void readSource(long offset, ByteBuffer dst) throws IOException {
        try {
            DiskFiles.readFully(channel, offset, dst);
        } catch (ClosedChannelException e) {
            throw e; // the export is closing: not the source's fault
        } catch (IOException e) {
            throw health.failed(Op.READ, e);
        }
        health.ok(Op.READ);
    }

    /**
     * Applies a write: {@code record} (which owns a copy of the data) goes to the sink, then
     * {@code src} to the file, both under the order lock.
     *
     * @throws SourceFailure if the file refused it (the range is then settled)
     */
    void write(long offset, ByteBuffer src, ChangeRecord record, boolean fua) throws IOException {
        int n = src.remaining();
        order.lock();
        try {
            settleUnsettled();
            sink.accept(record);
            try {
                DiskFiles.writeFully(channel, offset, src);
            } catch (IOException e) {
                throw refused(e, offset, n);
            }
        } finally {
            order.unlock();
        }
        health.ok(Op.WRITE);
        stats.writes.increment();
        stats.bytesWritten.add(n);
        if (fua) {
            flush();
        }
    }

    /**
     * WRITE_ZEROES: the range reads as zeros afterwards (zeros are written; no hole is punched). Each
     * piece of at most {@link #MAX_RECORD} bytes goes to the sink and then to the file, so a refusal by
     * either leaves both agreeing on every piece.
     */
    void zero(long offset, long length, boolean fua) throws IOException {
        order.lock();
        try {
            settleUnsettled();
            for (long done = 0; done < length; done += MAX_RECORD) {
                long start = offset + done;
                int len = (int) Math.min(MAX_RECORD, length - done);
                sink.accept(ChangeRecord.zero(start, len));
                long pos = start;
                long end = start + len;
                try {
                    while (pos < end) {
                        zeros.clear().limit((int) Math.min(ZERO_CHUNK, end - pos));
                        DiskFiles.writeFully(channel, pos, zeros);
                        pos += zeros.limit();
                    }
                } catch (IOException e) {
                    throw refused(e, pos, end - pos);
                }
            }
        } finally {
            order.unlock();
        }
        health.ok(Op.WRITE);
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
            settleUnsettled();
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
        try {
            channel.force(false);
        } catch (ClosedChannelException e) {
            throw e;
        } catch (IOException e) {
            throw health.failed(Op.FLUSH, e);
        }
        health.ok(Op.FLUSH);
        sink.flush();
        stats.flushes.increment();
    }

    /**
     * The file refused a change of {@code length} bytes at {@code offset} that the sink has: records the
     * problem, settles the range, and returns what to throw. Lock held.
     */
    private IOException refused(IOException e, long offset, long length) {
        IOException failure = e instanceof ClosedChannelException ? e : health.failed(Op.WRITE, e);
        addUnsettled(offset, offset + length);
        settleUnsettled();
        return failure;
    }

    /** Retries the unsettled ranges (e.g. from a timer); cheap when there are none. */
    void settle() {
        if (unsettledBytes == 0) {
            return;
        }
        order.lock();
        try {
            settleUnsettled();
        } finally {
            order.unlock();
        }
    }

    private void addUnsettled(long start, long end) {
        Map.Entry<Long, Long> before = unsettled.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        for (Map.Entry<Long, Long> next = unsettled.ceilingEntry(start); next != null && next.getKey() <= end;
                next = unsettled.ceilingEntry(start)) {
            end = Math.max(end, next.getValue());
            unsettled.remove(next.getKey());
        }
        unsettled.put(start, end);
        if (unsettled.size() > MAX_UNSETTLED) {
            long first = unsettled.firstKey();
            long last = unsettled.lastEntry().getValue();
            unsettled.clear();
            unsettled.put(first, last); // one covering range: settling reads more, never less
        }
        updateUnsettledBytes();
    }

    private void updateUnsettledBytes() {
        long total = 0;
        for (Map.Entry<Long, Long> r : unsettled.entrySet()) {
            total += r.getValue() - r.getKey();
        }
        unsettledBytes = total;
    }

    /** Settles ranges in order until one fails (the source still cannot be read, or the sink refuses). Lock held. */
    private void settleUnsettled() {
        if (unsettled.isEmpty()) {
            return;
        }
        while (!unsettled.isEmpty()) {
            Map.Entry<Long, Long> r = unsettled.firstEntry();
            try {
                sendCurrent(r.getKey(), r.getValue());
            } catch (IOException e) {
                LOG.debug("NBD export '{}': range {}..{} not settled yet: {}", name, r.getKey(), r.getValue(), e.toString());
                break;
            }
            unsettled.remove(r.getKey());
            LOG.info("NBD export '{}': refused range {}..{} settled: the change stream holds the source's content there "
                    + "again", name, r.getKey(), r.getValue());
        }
        updateUnsettledBytes();
    }

    /**
     * Passes the file's current content of [start, end) to the sink: a WRITE record per non-zero piece,
     * ZERO records for runs of zero pieces. Lock held.
     */
    private void sendCurrent(long start, long end) throws IOException {
        if (settleBuffer == null) {
            settleBuffer = ByteBuffer.allocateDirect(SETTLE_CHUNK);
        }
        ByteBuffer buf = settleBuffer;
        long zeroStart = -1;
        for (long pos = start; pos < end; ) {
            int n = (int) Math.min(SETTLE_CHUNK, end - pos);
            buf.clear().limit(n);
            readSource(pos, buf);
            buf.flip();
            if (isZero(buf)) {
                if (zeroStart < 0) {
                    zeroStart = pos;
                }
                if (pos + n - zeroStart >= MAX_RECORD) {
                    sink.accept(ChangeRecord.zero(zeroStart, (int) (pos + n - zeroStart)));
                    zeroStart = -1;
                }
            } else {
                if (zeroStart >= 0) {
                    sink.accept(ChangeRecord.zero(zeroStart, (int) (pos - zeroStart)));
                    zeroStart = -1;
                }
                byte[] data = new byte[n];
                buf.get(data);
                sink.accept(ChangeRecord.write(pos, ByteBuffer.wrap(data)));
            }
            pos += n;
        }
        if (zeroStart >= 0) {
            sink.accept(ChangeRecord.zero(zeroStart, (int) (end - zeroStart)));
        }
    }

    private static boolean isZero(ByteBuffer b) {
        int i = b.position();
        int limit = b.limit();
        for (; i + 8 <= limit; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < limit; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        order.lock();
        try {
            if (unsettledBytes > 0) {
                LOG.error("NBD export '{}' closes with {} bytes of refused writes in the change stream that could not "
                        + "be read back from the source {}: the replica may differ from the source there; resync the "
                        + "disk", name, unsettledBytes, path);
            }
        } finally {
            order.unlock();
        }
        channel.close();
    }
}
