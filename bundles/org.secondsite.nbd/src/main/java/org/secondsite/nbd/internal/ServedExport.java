package org.secondsite.nbd.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;

import org.secondsite.api.storage.BlockDevice;
import org.secondsite.nbd.Export;
import org.secondsite.nbd.ExportOptions;
import org.secondsite.nbd.NbdProtocol;
import org.secondsite.nbd.WriteObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One live export: applies the requests of its connections to the device, telling the observer first.
 *
 * <h2>Ordering invariant (with an order lock)</h2>
 * Every change is passed to the observer and applied to the device <em>before</em> its reply is queued,
 * and the pair (observer, device) is updated under one lock. Hence the sequence of states the device
 * passes through is exactly the sequence obtained by replaying the observed changes in order, and a
 * change whose reply a client received was observed before any change the client issued after seeing
 * that reply, on any connection. If the observer refuses a change (throws), the device is untouched. If
 * the device refuses one the observer took, {@link WriteObserver#refused} is called under the lock.
 *
 * <p>FLUSH and FUA flush the device and then call {@link WriteObserver#flushed()}, outside the lock:
 * every change replied to before is already in both.
 */
final class ServedExport implements Export {
    private static final Logger LOG = LoggerFactory.getLogger(ServedExport.class);
    /** WRITE_ZEROES and TRIM ranges are cut into pieces of at most this many bytes. */
    static final int MAX_PIECE = NbdProtocol.MAX_PAYLOAD;

    private final NbdListener server;
    private final String name;
    private final BlockDevice device;
    private final long size;
    private final boolean readOnly;
    private final WriteObserver observer;
    private final Lock order;
    private final String description;
    private final NbdStatistics stats = new NbdStatistics();
    private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    ServedExport(NbdListener server, String name, BlockDevice device, long size, ExportOptions options) {
        this.server = server;
        this.name = name;
        this.device = device;
        this.size = size;
        this.readOnly = options.readOnly();
        this.observer = options.observer();
        this.order = options.orderLock();
        this.description = options.description();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public String uri() {
        return server.uri(name);
    }

    @Override
    public Map<String, Long> statistics() {
        return stats.snapshot();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    NbdStatistics stats() {
        return stats;
    }

    String description() {
        return description;
    }

    int transmissionFlags() {
        return readOnly ? NbdProtocol.READ_ONLY_TRANSMISSION_FLAGS : NbdProtocol.TRANSMISSION_FLAGS;
    }

    /** Attaches a connection entering transmission; false if the export is closed (then it is unknown). */
    synchronized boolean attach(NbdConnection c) {
        if (closed) {
            return false;
        }
        connections.add(c);
        stats.connections.incrementAndGet();
        stats.connectionsTotal.increment();
        return true;
    }

    void detach(NbdConnection c) {
        if (connections.remove(c)) {
            stats.connections.decrementAndGet();
        }
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset} (range already validated). */
    void read(long offset, ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        device.read(offset, dst);
        stats.reads.increment();
        stats.bytesRead.add(n);
    }

    /** Applies a WRITE of {@code src.remaining()} bytes (observed first). */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        int n = src.remaining();
        if (order == null) {
            device.write(offset, src);
        } else {
            order.lock();
            try {
                if (observer != null) {
                    int position = src.position();
                    int limit = src.limit();
                    try {
                        observer.write(offset, src);
                    } finally {
                        src.limit(limit).position(position);
                    }
                }
                try {
                    device.write(offset, src);
                } catch (IOException e) {
                    refused(offset, n, e);
                    throw e;
                }
            } finally {
                order.unlock();
            }
        }
        stats.writes.increment();
        stats.bytesWritten.add(n);
        if (fua) {
            flush();
        }
    }

    /** WRITE_ZEROES: piece by piece, each observed and then applied. */
    void zero(long offset, long length, boolean fua) throws IOException {
        if (order != null) {
            order.lock();
        }
        try {
            for (long done = 0; done < length; done += MAX_PIECE) {
                long start = offset + done;
                long len = Math.min(MAX_PIECE, length - done);
                if (observer != null) {
                    observer.zero(start, len);
                }
                try {
                    device.zero(start, len);
                } catch (IOException e) {
                    refused(start, len, e);
                    throw e;
                }
            }
        } finally {
            if (order != null) {
                order.unlock();
            }
        }
        stats.zeroes.increment();
        if (fua) {
            flush();
        }
    }

    /** TRIM: passed to the observer; the device keeps its bytes (the protocol lets a server ignore a trim). */
    void trim(long offset, long length, boolean fua) throws IOException {
        if (observer != null) {
            order.lock();
            try {
                for (long done = 0; done < length; done += MAX_PIECE) {
                    observer.trim(offset + done, Math.min(MAX_PIECE, length - done));
                }
            } finally {
                order.unlock();
            }
        }
        stats.trims.increment();
        if (fua) {
            flush();
        }
    }

    /** Makes every change applied so far durable in the device, then in the observer's store. */
    void flush() throws IOException {
        if (!readOnly) {
            device.flush();
            if (observer != null) {
                observer.flushed();
            }
        }
        stats.flushes.increment();
    }

    private void refused(long offset, long length, IOException e) {
        if (observer == null) {
            return;
        }
        try {
            observer.refused(offset, length, e);
        } catch (RuntimeException r) {
            LOG.error("NBD export '{}': the write observer failed handling a refused change at {} (+{})", name, offset,
                    length, r);
        }
    }

    @Override
    public void close() {
        List<NbdConnection> attached;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            attached = new ArrayList<>(connections);
        }
        server.remove(this);
        for (NbdConnection c : attached) {
            c.close();
        }
        boolean interrupted = false;
        for (NbdConnection c : attached) {
            try {
                if (!c.awaitEnd(NbdListener.CLOSE_WAIT)) {
                    LOG.warn("NBD export '{}': connection of {} did not end within {} s", name, c.peer(),
                            NbdListener.CLOSE_WAIT.toSeconds());
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        LOG.info("NBD export '{}' closed ({} client(s) disconnected)", name, attached.size());
    }

    @Override
    public String toString() {
        return "NBD export '" + name + "' (" + size + " bytes" + (readOnly ? ", read-only" : "") + ")";
    }
}
