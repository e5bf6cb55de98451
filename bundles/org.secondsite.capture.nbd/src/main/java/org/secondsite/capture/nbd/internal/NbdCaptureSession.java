package org.secondsite.capture.nbd.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running nbd capture: the export, its listener and the read-only source view. */
final class NbdCaptureSession implements CaptureSession {
    /** How often the source's identity is checked and refused ranges are retried without a request. */
    static final Duration HEALTH_CHECK = Duration.ofSeconds(5);
    private static final Logger LOG = LoggerFactory.getLogger(NbdCaptureSession.class);

    private final DiskId disk;
    private final NbdExport export;
    private final NbdServer server;
    private final SourceDevice source;
    private final String endpoint;
    private final Runnable onClose;
    private boolean closed;

    private NbdCaptureSession(DiskId disk, NbdExport export, NbdServer server, SourceDevice source, Runnable onClose) {
        this.disk = disk;
        this.export = export;
        this.server = server;
        this.source = source;
        this.onClose = onClose;
        this.endpoint = "nbd://" + uriHost(server.localAddress()) + ":" + server.localAddress().getPort() + "/" + export.name();
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
        try {
            source = new SourceDevice(spec.source(), export.size(), export.health(), export.orderLock());
            NbdServer server = NbdServer.start(export, settings.listen(), settings.maxConnections(),
                    settings.handshakeTimeout());
            server.every(HEALTH_CHECK, () -> {
                export.health().checkIdentity();
                export.settle();
            });
            return new NbdCaptureSession(spec.disk(), export, server, source, onClose);
        } catch (IOException | RuntimeException e) {
            export.close();
            if (source != null) {
                source.close();
            }
            throw e;
        }
    }

    private static String uriHost(InetSocketAddress address) {
        InetAddress a = address.getAddress();
        if (a.isAnyLocalAddress()) {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                return "localhost";
            }
        }
        String host = a.getHostAddress();
        return a instanceof Inet6Address ? "[" + host.replaceFirst("%.*$", "") + "]" : host;
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
        return export.stats().snapshot();
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
