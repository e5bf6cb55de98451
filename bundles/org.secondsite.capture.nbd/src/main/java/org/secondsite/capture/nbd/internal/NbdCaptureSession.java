package org.secondsite.capture.nbd.internal;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Map;

import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;

/** A running nbd capture: the export, its listener and the read-only source view. */
final class NbdCaptureSession implements CaptureSession {
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
        NbdExport export = NbdExport.open(spec.disk().value(), spec.source(), sink);
        SourceDevice source = null;
        try {
            source = new SourceDevice(spec.source(), export.size());
            NbdServer server = NbdServer.start(export, settings.listen(), settings.maxConnections(),
                    settings.handshakeTimeout());
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

    /** Stops listening, closes the connections (each finishes the change it is applying), releases the disk. */
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
                export.close();
            } finally {
                source.close();
                onClose.run();
            }
        }
    }

    @Override
    public String toString() {
        return "nbd capture of " + disk + " at " + endpoint;
    }
}
