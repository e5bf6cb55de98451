package org.secondsite.capture.nbd.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.nbd.Export;
import org.secondsite.nbd.ExportOptions;
import org.secondsite.nbd.NbdServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running nbd capture: the captured disk ({@link NbdExport}), served as the only export of its own
 * {@link NbdServer} with the disk's sink as write observer, and the read-only source view.
 */
final class NbdCaptureSession implements CaptureSession {
    /** How often the source's identity is checked and refused ranges are retried without a request. */
    static final Duration HEALTH_CHECK = Duration.ofSeconds(5);
    private static final Logger LOG = LoggerFactory.getLogger(NbdCaptureSession.class);

    private final DiskId disk;
    private final NbdExport export;
    private final NbdServer server;
    private final Export served;
    private final ScheduledExecutorService timer;
    private final SourceDevice source;
    private final String endpoint;
    private final Runnable onClose;
    private boolean closed;

    private NbdCaptureSession(DiskId disk, NbdExport export, NbdServer server, Export served,
            ScheduledExecutorService timer, SourceDevice source, Runnable onClose) {
        this.disk = disk;
        this.export = export;
        this.server = server;
        this.served = served;
        this.timer = timer;
        this.source = source;
        this.onClose = onClose;
        this.endpoint = served.uri();
    }

    /** Opens the disk and starts listening; when this returns, every write through the endpoint is captured. */
    static NbdCaptureSession start(CaptureSpec spec, ChangeSink sink, NbdSettings settings, Runnable onClose)
            throws IOException {
        return start(spec, sink, settings, onClose, UnaryOperator.identity());
    }

    /** As {@link #start(CaptureSpec, ChangeSink, NbdSettings, Runnable)}; tests wrap the export's channel. */
    static NbdCaptureSession start(CaptureSpec spec, ChangeSink sink, NbdSettings settings, Runnable onClose,
            UnaryOperator<FileChannel> wrapChannel) throws IOException {
        NbdExport export = NbdExport.open(spec.disk().value(), spec.source(), sink, wrapChannel);
        SourceDevice source = null;
        NbdServer server = null;
        try {
            source = new SourceDevice(spec.source(), export.size(), export.health(), export.orderLock());
            server = NbdServer.start(settings.listen(), settings.maxConnections(), settings.handshakeTimeout());
            Export served = server.export(export.name(), export, ExportOptions.WRITABLE
                    .withObserver(export.observer(), export.orderLock()).withDescription(export.description()));
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "nbd-capture-health-" + export.name());
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(() -> {
                try {
                    export.health().checkIdentity();
                    export.settle();
                } catch (RuntimeException e) {
                    LOG.error("NBD export '{}': periodic health check failed", export.name(), e);
                }
            }, HEALTH_CHECK.toMillis(), HEALTH_CHECK.toMillis(), TimeUnit.MILLISECONDS);
            return new NbdCaptureSession(spec.disk(), export, server, served, timer, source, onClose);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            export.close();
            if (source != null) {
                source.close();
            }
            throw e;
        }
    }

    @Override
    public DiskId disk() {
        return disk;
    }

    @Override
    public BlockDevice source() {
        return source;
    }

    @Override
    public String endpoint() {
        return endpoint;
    }

    /**
     * {@code writes}, {@code bytesWritten}, {@code reads}, {@code bytesRead}, {@code flushes}, {@code trims},
     * {@code zeroes}, {@code rejectedRequests}, {@code ioErrors}, {@code internalErrors}, {@code connections} (open now),
     * {@code connectionsTotal}.
     */
    @Override
    public Map<String, Long> statistics() {
        // The server has this one export: its connection counts include clients still in the handshake.
        Map<String, Long> exportStats = served.statistics();
        Map<String, Long> serverStats = server.statistics();
        Map<String, Long> m = new LinkedHashMap<>(exportStats);
        m.put("internalErrors", exportStats.get("internalErrors") + serverStats.get("internalErrors"));
        m.put("connections", serverStats.get("connections"));
        m.put("connectionsTotal", serverStats.get("connectionsTotal"));
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * Empty while the source works; otherwise what is wrong, e.g. {@code "source /dev/sdb vanished (No such
     * device or address): reads fail"}, {@code "source /data/d.img turned read-only (Read-only file system):
     * writes are refused"} or {@code "source file /data/d.img was deleted; ..."}. A read or write problem
     * clears at the next read or write that succeeds.
     */
    @Override
    public String problem() {
        return export.problem();
    }

    /**
     * Stops listening, closes the connections (each finishes the change it is applying), releases the disk.
     * Errors while closing the source's channels are logged (see {@link #release}), never thrown.
     */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            timer.shutdownNow();
            server.close();
        } finally {
            try {
                release(export);
                release(source);
            } finally {
                onClose.run();
            }
        }
    }

    /**
     * Closes a channel on the source. The descriptor is released even when close(2) reports an error,
     * which a vanished source does (a dead FUSE mount: ENOTCONN): that is logged, not thrown, so that
     * stopping the capture of a broken disk succeeds.
     */
    private void release(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.warn("{}: closing the source reported {}; it is released", this, e.toString());
        }
    }

    @Override
    public String toString() {
        return "nbd capture of " + disk + " at " + endpoint;
    }
}
