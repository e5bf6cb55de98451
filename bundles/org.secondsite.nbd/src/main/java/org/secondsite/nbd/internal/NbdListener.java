package org.secondsite.nbd.internal;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;

import org.secondsite.api.storage.BlockDevice;
import org.secondsite.nbd.Export;
import org.secondsite.nbd.ExportOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket side of {@link org.secondsite.nbd.NbdServer}: accepts clients, runs a thread per connection,
 * holds the live exports by name.
 */
public final class NbdListener {
    private static final Logger LOG = LoggerFactory.getLogger(NbdListener.class);
    static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private final ServerSocketChannel listener;
    private final InetSocketAddress localAddress;
    private final int maxConnections;
    private final Duration handshakeTimeout;
    private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
    /** Live exports; guarded by {@code this} for changes, read without lock. */
    private final Map<String, ServedExport> exports = new ConcurrentHashMap<>();
    /** Connection counts and handshake-time internal errors. */
    private final NbdStatistics stats = new NbdStatistics();
    private final ScheduledExecutorService timer;
    private final Thread acceptor;
    private volatile boolean closed;

    private NbdListener(ServerSocketChannel listener, int maxConnections, Duration handshakeTimeout) throws IOException {
        this.listener = listener;
        this.localAddress = (InetSocketAddress) listener.getLocalAddress();
        this.maxConnections = maxConnections;
        this.handshakeTimeout = handshakeTimeout;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nbd-timer-" + localAddress);
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "nbd-listen-" + localAddress);
        this.acceptor.setDaemon(true);
    }

    /** Binds {@code address} and starts accepting clients; returns once the socket listens. */
    public static NbdListener start(InetSocketAddress address, int maxConnections, Duration handshakeTimeout)
            throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(address, 64);
        } catch (IOException e) {
            listener.close();
            throw new IOException("cannot listen for NBD clients on " + address + ": " + e.getMessage(), e);
        }
        NbdListener server = new NbdListener(listener, maxConnections, handshakeTimeout);
        server.acceptor.start();
        LOG.info("NBD server listening on {}", server.localAddress);
        return server;
    }

    public InetSocketAddress address() {
        return localAddress;
    }

    public static boolean isValidName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    public Export export(String name, BlockDevice device, ExportOptions options) throws IOException {
        if (!isValidName(name)) {
            throw new IllegalArgumentException("export name '" + name + "' is invalid: expected 1 to 128 characters of "
                    + "letters, digits, '.', '_', ':' and '-'");
        }
        if (!options.readOnly() && device.isReadOnly()) {
            throw new IllegalArgumentException("export '" + name + "': the device is read-only; export it read-only, "
                    + "or writable over an OverlayDevice");
        }
        long size = device.size();
        if (size <= 0) {
            throw new IOException("export '" + name + "': the device is empty (size " + size + "): nothing to export");
        }
        ServedExport export = new ServedExport(this, name, device, size, options);
        synchronized (this) {
            if (closed) {
                throw new IOException("NBD server on " + localAddress + " is closed");
            }
            if (exports.putIfAbsent(name, export) != null) {
                throw new IllegalArgumentException("export '" + name + "' already exists");
            }
        }
        LOG.info("NBD export '{}' ({} bytes, {}) served on {}", name, size, options.readOnly() ? "read-only" : "writable",
                localAddress);
        return export;
    }

    /** The export a client asking for {@code requested} gets: "" means the only export, if there is one. */
    ServedExport resolve(String requested) {
        if (requested == null) {
            return null;
        }
        if (requested.isEmpty()) {
            Collection<ServedExport> all = exports.values();
            if (all.size() == 1) {
                for (ServedExport e : all) {
                    return e;
                }
            }
            return null;
        }
        return exports.get(requested);
    }

    public ServedExport lookup(String name) {
        return name == null ? null : exports.get(name);
    }

    public Collection<ServedExport> exports() {
        return new TreeMap<>(exports).values();
    }

    /** The names of the live exports, sorted. */
    List<String> names() {
        return new ArrayList<>(new TreeMap<>(exports).keySet());
    }

    /** Removes {@code export} from the live exports (if it is still the one under its name). */
    void remove(ServedExport export) {
        synchronized (this) {
            exports.remove(export.name(), export);
        }
    }

    /** nbd://host:port/name */
    String uri(String name) {
        InetAddress a = localAddress.getAddress();
        String host;
        if (a.isAnyLocalAddress()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
        } else {
            host = a.getHostAddress();
            if (a instanceof Inet6Address) {
                host = "[" + host.replaceFirst("%.*$", "") + "]";
            }
        }
        return "nbd://" + host + ":" + localAddress.getPort() + "/" + name;
    }

    public Map<String, Long> statistics() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("connections", stats.connections.get());
        m.put("connectionsTotal", stats.connectionsTotal.sum());
        m.put("internalErrors", stats.internalErrors.sum());
        return java.util.Collections.unmodifiableMap(m);
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (ClosedChannelException e) {
                break;
            } catch (IOException e) {
                if (closed) {
                    break;
                }
                LOG.warn("NBD server on {}: accepting a connection failed: {}", localAddress, e.toString());
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // e.g. out of file descriptors
                continue;
            }
            String peer = peerOf(channel);
            if (closed || connections.size() >= maxConnections) {
                LOG.warn("NBD server on {}: refusing connection from {}: {}", localAddress, peer,
                        closed ? "the server is closing" : "already " + maxConnections + " connections (maxConnections)");
                closeQuietly(channel);
                continue;
            }
            try {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                LOG.debug("TCP_NODELAY on {}: {}", peer, e.toString());
            }
            NbdConnection[] self = new NbdConnection[1];
            NbdConnection connection = new NbdConnection(this, stats, channel, peer, () -> {
                connections.remove(self[0]);
                stats.connections.decrementAndGet();
            });
            self[0] = connection;
            connections.add(connection);
            stats.connections.incrementAndGet();
            stats.connectionsTotal.increment();
            LOG.debug("NBD server on {}: connection from {}", localAddress, peer);
            connection.start("nbd-" + localAddress.getPort() + "-" + peer);
            timer.schedule(() -> {
                if (!connection.handshakeDone() && connections.contains(connection)) {
                    LOG.warn("NBD client {} on {}: no handshake within {} s; closing the connection",
                            peer, localAddress, handshakeTimeout.toSeconds());
                    connection.close();
                }
            }, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static String peerOf(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "unknown peer";
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing refused connection: {}", e.toString());
        }
    }

    /**
     * Stops listening, closes every export and connection and waits for their threads, so that no change
     * is being applied once this returns (a connection finishes the request it is applying first).
     */
    public void close() {
        List<ServedExport> live;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            live = new ArrayList<>(exports.values());
        }
        try {
            listener.close();
        } catch (IOException e) {
            LOG.debug("closing the NBD listener on {}: {}", localAddress, e.toString());
        }
        boolean interrupted = false;
        try {
            acceptor.join(CLOSE_WAIT.toMillis());
            for (ServedExport e : live) {
                e.close();
            }
            for (NbdConnection c : connections) {
                c.close();
            }
            for (NbdConnection c : connections) {
                if (!c.awaitEnd(CLOSE_WAIT)) {
                    LOG.warn("NBD server on {}: connection of {} did not end within {} s", localAddress, c.peer(),
                            CLOSE_WAIT.toSeconds());
                }
            }
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            timer.shutdownNow();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        LOG.info("NBD server on {} closed", localAddress);
    }
}
