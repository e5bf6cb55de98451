package org.secondsite.capture.nbd.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens for NBD clients of one export and runs a thread per connection. Several connections may
 * use the export at once (multi-conn); their changes are ordered by {@link NbdExport}.
 */
final class NbdServer implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private final NbdExport export;
    private final ServerSocketChannel listener;
    private final InetSocketAddress localAddress;
    private final int maxConnections;
    private final Duration handshakeTimeout;
    private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer;
    private final Thread acceptor;
    private volatile boolean closed;

    private NbdServer(NbdExport export, ServerSocketChannel listener, int maxConnections, Duration handshakeTimeout)
            throws IOException {
        this.export = export;
        this.listener = listener;
        this.localAddress = (InetSocketAddress) listener.getLocalAddress();
        this.maxConnections = maxConnections;
        this.handshakeTimeout = handshakeTimeout;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nbd-timer-" + export.name());
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "nbd-listen-" + export.name() + "-" + localAddress);
        this.acceptor.setDaemon(true);
    }

    /** Binds {@code address} and starts accepting clients; returns once the socket listens. */
    static NbdServer start(NbdExport export, InetSocketAddress address, int maxConnections, Duration handshakeTimeout)
            throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(address, 64);
        } catch (IOException e) {
            listener.close();
            throw new IOException("cannot listen on " + address + " for NBD export '" + export.name() + "': " + e.getMessage(), e);
        }
        NbdServer server = new NbdServer(export, listener, maxConnections, handshakeTimeout);
        server.acceptor.start();
        LOG.info("NBD export '{}' ({}, {} bytes) listening on {}", export.name(), export.path(), export.size(),
                server.localAddress);
        return server;
    }

    InetSocketAddress localAddress() {
        return localAddress;
    }

    /** Runs {@code task} every {@code period} on the export's timer thread until the server closes. */
    void every(Duration period, Runnable task) {
        timer.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("NBD export '{}': periodic task failed", export.name(), e);
            }
        }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
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
                LOG.warn("NBD export '{}': accepting a connection failed: {}", export.name(), e.toString());
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // e.g. out of file descriptors
                continue;
            }
            String peer = peerOf(channel);
            if (closed || connections.size() >= maxConnections) {
                LOG.warn("NBD export '{}': refusing connection from {}: {}", export.name(), peer,
                        closed ? "the export is closing" : "already " + maxConnections + " connections (maxConnections)");
                closeQuietly(channel);
                continue;
            }
            try {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                LOG.debug("TCP_NODELAY on {}: {}", peer, e.toString());
            }
            NbdStatistics stats = export.stats();
            NbdConnection[] self = new NbdConnection[1];
            NbdConnection connection = new NbdConnection(export, channel, peer, () -> {
                connections.remove(self[0]);
                stats.connections.decrementAndGet();
            });
            self[0] = connection;
            connections.add(connection);
            stats.connections.incrementAndGet();
            stats.connectionsTotal.increment();
            LOG.debug("NBD export '{}': connection from {}", export.name(), peer);
            connection.start("nbd-" + export.name() + "-" + peer);
            timer.schedule(() -> {
                if (!connection.handshakeDone() && connections.contains(connection)) {
                    LOG.warn("NBD client {} on export '{}': no handshake within {} s; closing the connection",
                            peer, export.name(), handshakeTimeout.toSeconds());
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
     * Stops listening, closes every connection and waits for their threads, so that no change is
     * being applied once this returns (a connection finishes the request it is applying first).
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        listener.close();
        boolean interrupted = false;
        try {
            acceptor.join(CLOSE_WAIT.toMillis());
            for (NbdConnection c : connections) {
                c.close();
            }
            for (NbdConnection c : connections) {
                if (!c.awaitEnd(CLOSE_WAIT)) {
                    LOG.warn("NBD export '{}': connection of {} did not end within {} s", export.name(), c.peer(),
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
        LOG.info("NBD export '{}' on {} closed", export.name(), localAddress);
    }
}
