package org.secondsite.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.secondsite.api.storage.BlockDevice;
import org.secondsite.nbd.internal.NbdListener;

/**
 * An NBD server on one listening socket, serving named exports: fixed newstyle handshake with
 * NBD_OPT_GO, NBD_OPT_INFO, NBD_OPT_EXPORT_NAME, NBD_OPT_LIST and NBD_OPT_ABORT; simple replies only
 * (structured replies are refused, clients fall back); commands READ, WRITE, FLUSH, TRIM, WRITE_ZEROES
 * and DISC, with FUA. A thread per connection; several connections may use one export (multi-conn).
 *
 * <p>An empty export name (what {@code nbd://host:port} without a path asks for) selects the export
 * when the server has exactly one.
 *
 * <p><b>No TLS and no authentication:</b> anyone who reaches the socket can read every export and write the
 * writable ones. {@link #start()} binds 127.0.0.1; bind another address only on a trusted network.
 *
 * <p>Thread-safe.
 */
public final class NbdServer implements Closeable {
    /** Connections served at once by default; more are refused at accept. */
    public static final int DEFAULT_MAX_CONNECTIONS = 16;
    /** How long a client may take to finish the handshake by default. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);

    private final NbdListener listener;

    private NbdServer(NbdListener listener) {
        this.listener = listener;
    }

    /** Listens on 127.0.0.1, on a free port, with the default limits. */
    public static NbdServer start() throws IOException {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    /** Listens on {@code bind} (port 0 picks a free one) with the default limits. */
    public static NbdServer start(InetSocketAddress bind) throws IOException {
        return start(bind, DEFAULT_MAX_CONNECTIONS, DEFAULT_HANDSHAKE_TIMEOUT);
    }

    /**
     * Binds {@code bind} and starts accepting clients; returns once the socket listens.
     *
     * @param maxConnections connections served at once (1..1024); further ones are closed at accept
     * @param handshakeTimeout how long a client may take from connecting to entering transmission
     * @throws IllegalArgumentException for limits out of range
     * @throws IOException if the address cannot be bound
     */
    public static NbdServer start(InetSocketAddress bind, int maxConnections, Duration handshakeTimeout)
            throws IOException {
        if (maxConnections < 1 || maxConnections > 1024) {
            throw new IllegalArgumentException("maxConnections must be from 1 to 1024, got " + maxConnections);
        }
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive, got " + handshakeTimeout);
        }
        return new NbdServer(NbdListener.start(bind, maxConnections, handshakeTimeout));
    }

    /** The address the server listens on (with the port chosen when 0 was asked for). */
    public InetSocketAddress address() {
        return listener.address();
    }

    /**
     * Serves {@code device} as {@code name}. Ready when this returns: nothing is read from the device
     * except its size, so the time does not depend on the device's size.
     *
     * @param name 1 to 128 characters of letters, digits, {@code . _ : -} (so a disk id fits)
     * @throws IllegalArgumentException if the name is invalid ({@code "export name 'a b' is invalid..."}),
     *         already exported ({@code "export 'x' already exists"}), or the export is to be writable but the
     *         device is read-only
     * @throws IOException if the device's size cannot be read or is not positive, or the server is closed
     */
    public Export export(String name, BlockDevice device, ExportOptions options) throws IOException {
        return listener.export(name, device, options);
    }

    /** The live export named {@code name}. */
    public Optional<Export> find(String name) {
        return Optional.ofNullable(listener.lookup(name));
    }

    /** The live exports, by name. */
    public List<Export> exports() {
        return List.copyOf(listener.exports());
    }

    /** Whether {@code name} is a valid export name (see {@link #export}). */
    public static boolean isValidExportName(String name) {
        return NbdListener.isValidName(name);
    }

    /**
     * Server-wide counters: {@code connections} (open now, including those still in the handshake),
     * {@code connectionsTotal} (accepted ever) and {@code internalErrors} (connections ended in the handshake by
     * a server bug).
     */
    public Map<String, Long> statistics() {
        return listener.statistics();
    }

    /**
     * Stops listening and closes every export (see {@link Export#close()}) and every connection still in
     * the handshake. The devices are not closed. Idempotent.
     */
    @Override
    public void close() {
        listener.close();
    }

    @Override
    public String toString() {
        return "NBD server on " + address();
    }
}
