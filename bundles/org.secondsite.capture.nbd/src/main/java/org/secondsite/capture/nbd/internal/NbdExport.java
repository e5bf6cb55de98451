package org.secondsite.capture.nbd.internal;

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
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.DiskFiles;
import org.secondsite.capture.nbd.internal.SourceHealth.Op;
import org.secondsite.nbd.NbdProtocol;
import org.secondsite.nbd.WriteObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The captured disk, as served by the generic NBD server ({@code org.secondsite.nbd}): the
 * {@link BlockDevice} the server reads and writes (the source file, failures classified by
 * {@link SourceHealth}), and its {@link #observer()} that hands each change to the change sink.
 *
 * <h2>Ordering invariant</h2>
 * The server passes every change to this observer (the sink) and then applies it to this device (the
 * file) <em>before</em> its reply is queued, both under one per-export lock ({@link #orderLock()}). Hence:
 * <ul>
 * <li>the sequence of states the file passes through is exactly the sequence obtained by replaying
 * the sink's records in order (two overlapping writes from different connections land on the file
 * and in the sink in the same order), so every prefix of the stream is a state the disk really had;</li>
 * <li>a change whose reply the client has received was accepted before any change the client issued
 * after seeing that reply, on any connection: the sink's order is the acknowledgement order as far
 * as any client can observe it.</li>
 * </ul>
 * The sink is called first and the file written second: if the sink refuses a change (throws), the
 * file is untouched and the client gets EIO, so the file never holds a change the sink does not know.
 *
 * <h2>A failing source</h2>
 * If the file refuses a change the sink already took (read-only, full, vanished, I/O error), the client
 * gets the error ({@link SourceFailure}, classified by {@link SourceHealth}), the export stays up and
 * nothing accepted before is touched. The sink now holds data the file may lack, so the range is
 * <em>settled</em> right away ({@link WriteObserver#refused}), still under the lock: its current content is read back
 * from the file and passed to the sink (as WRITE records, ZERO for all-zero pieces), so replaying the
 * stream again yields the file. If the file cannot be read either (a vanished disk), the range stays
 * unsettled, is retried before each later change and by {@link #settle()}, and is reported by
 * {@link #problem()}.
 *
 * <p>FLUSH and FUA force the file ({@code FileChannel.force}) and then call {@link ChangeSink#flush()}
 * ({@link WriteObserver#flushed()}), outside the lock: every change replied to before is already in both.
 */
final class NbdExport implements BlockDevice {
    /** Zero ranges are written in pieces of at most this many bytes. */
    private static final int ZERO_CHUNK = 1 << 20;
    /** Piece size when settling a range: read back, then one record per piece (zero pieces merged). */
    private static final int SETTLE_CHUNK = 1 << 20;
    /** Largest record this class makes when settling (the server cuts zero and trim ranges to this too). */
    static final int MAX_RECORD = NbdProtocol.MAX_PAYLOAD;
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
    private final WriteObserver observer = new SinkObserver();
    /** Zeros for WRITE_ZEROES, used only under {@link #order}. */
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
    /** Ranges (start to end) the sink has but the file may not; only under {@link #order}. */
    private final TreeMap<Long, Long> unsettled = new TreeMap<>();
    private volatile long unsettledBytes;
    /** Read-back buffer for settling, allocated on first use, only under {@link #order}. */
    private ByteBuffer settleBuffer;

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

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    /**
     * The lock under which each change goes to the sink and then to the file (the server takes it, see
     * {@link org.secondsite.nbd.ExportOptions#orderLock()}). A reader of the source that must see the file
     * as the sink's stream describes it (resync, dirty-region replay) holds it while reading, so it never
     * reads between a change's acceptance and its write.
     */
    java.util.concurrent.locks.Lock orderLock() {
        return order;
    }

    /** The observer to export this device with, under {@link #orderLock()}. */
    WriteObserver observer() {
        return observer;
    }

    SourceHealth health() {
        return health;
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

    // ------------------------------------------------------------ BlockDevice: the source file

    /** Reads {@code dst.remaining()} bytes at {@code offset} (range already validated by the server). */
    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        readSource(offset, dst);
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

    /** Writes the file (the server called {@link #write(long, ByteBuffer)} of the observer first, under the lock). */
    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        writeSource(offset, src);
    }

    private void writeSource(long offset, ByteBuffer src) throws IOException {
        try {
            DiskFiles.writeFully(channel, offset, src);
        } catch (ClosedChannelException e) {
            throw e;
        } catch (IOException e) {
            throw health.failed(Op.WRITE, e);
        }
        health.ok(Op.WRITE);
    }

    /**
     * WRITE_ZEROES: the range reads as zeros afterwards (zeros are written; Java cannot punch holes).
     * Under the order lock (the server holds it).
     */
    @Override
    public void zero(long offset, long length) throws IOException {
        long end = offset + length;
        for (long pos = offset; pos < end; pos += zeros.limit()) {
            zeros.clear().limit((int) Math.min(ZERO_CHUNK, end - pos));
            writeSource(pos, zeros);
        }
    }

    /** Makes every change applied so far durable in the file. */
    @Override
    public void flush() throws IOException {
        try {
            channel.force(false);
        } catch (ClosedChannelException e) {
            throw e;
        } catch (IOException e) {
            throw health.failed(Op.FLUSH, e);
        }
        health.ok(Op.FLUSH);
    }

    // ------------------------------------------------------------ WriteObserver: the change sink

    /** Hands each change to the sink before the server applies it to the file; all calls under the order lock. */
    private final class SinkObserver implements WriteObserver {
        /** A WRITE: its data is copied into the record the sink may keep (the one copy of the data path). */
        @Override
        public void write(long offset, ByteBuffer data) throws IOException {
            settleUnsettled();
            byte[] owned = new byte[data.remaining()];
            data.get(data.position(), owned, 0, owned.length);
            sink.accept(ChangeRecord.write(offset, ByteBuffer.wrap(owned)));
        }

        @Override
        public void zero(long offset, long length) throws IOException {
            settleUnsettled();
            sink.accept(ChangeRecord.zero(offset, Math.toIntExact(length)));
        }

        /** TRIM: recorded for the sink; the file keeps its bytes (the spec lets a server ignore a trim). */
        @Override
        public void trim(long offset, long length) throws IOException {
            settleUnsettled();
            sink.accept(ChangeRecord.trim(offset, Math.toIntExact(length)));
        }

        /** The file refused a change the sink has: the range is settled (read back into the stream). */
        @Override
        public void refused(long offset, long length, IOException failure) {
            addUnsettled(offset, offset + length);
            settleUnsettled();
        }

        @Override
        public void flushed() throws IOException {
            sink.flush();
        }
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
