package org.secondsite.transport.tls.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLSocket;

import org.secondsite.api.transport.ConnectionHandler;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.api.transport.TransportServer;

/**
 * A listening endpoint: one accept thread, and one thread per accepted connection that runs
 * the TLS handshake (bounded by the handshake timeout), the peer check, and then the handler.
 * A peer that fails any step is disconnected and never reaches the handler.
 */
final class TlsTransportServer implements TransportServer {

    private static final System.Logger LOG = System.getLogger(TlsTransportServer.class.getName());

    private final TlsTransport transport;
    private final ServerSocket serverSocket;
    private final TransportSecurity security;
    private final ConnectionHandler handler;
    private final InetSocketAddress address;
    /** Accepted sockets not yet closed, authenticated or not; closed with the server. */
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Set<TlsFrameConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong counter = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;

    private TlsTransportServer(TlsTransport transport, ServerSocket serverSocket, TransportSecurity security,
            ConnectionHandler handler) {
        this.transport = transport;
        this.serverSocket = serverSocket;
        this.security = security;
        this.handler = handler;
        this.address = (InetSocketAddress) serverSocket.getLocalSocketAddress();
        this.acceptor = new Thread(this::acceptLoop, "secondsite-tls-accept-" + address.getPort());
        this.acceptor.setDaemon(true);
    }

    static TlsTransportServer start(TlsTransport transport, InetSocketAddress bind, TransportSecurity security,
            ConnectionHandler handler) throws IOException {
        ServerSocket serverSocket = new ServerSocket();
        try {
            serverSocket.setReuseAddress(true);
            if (transport.options().socketReceiveBuffer() > 0) {
                serverSocket.setReceiveBufferSize(transport.options().socketReceiveBuffer());
            }
            serverSocket.bind(bind, 128);
        } catch (IOException | RuntimeException e) {
            serverSocket.close();
            throw new IOException("cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        TlsTransportServer server = new TlsTransportServer(transport, serverSocket, security, handler);
        server.acceptor.start();
        return server;
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    /** Authenticated connections currently open (for tests and figures). */
    int connectionCount() {
        return connections.size();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket raw;
            try {
                raw = serverSocket.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(Level.ERROR, "tls transport on " + address + " stopped accepting", e);
                }
                return;
            }
            open.add(raw);
            if (closed) {
                closeQuietly(raw);
                return;
            }
            Thread t = new Thread(() -> serve(raw),
                    "secondsite-tls-" + address.getPort() + "-conn-" + counter.incrementAndGet());
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket raw) {
        String where = String.valueOf(raw.getRemoteSocketAddress());
        TlsFrameConnection connection = null;
        try {
            long deadline = System.nanoTime() + transport.options().handshakeTimeout().toNanos();
            transport.configure(raw);
            SSLSocket ssl = (SSLSocket) security.context().getSocketFactory()
                    .createSocket(raw, raw.getInetAddress().getHostAddress(), raw.getPort(), true);
            ssl.setUseClientMode(false);
            ssl.setEnabledProtocols(transport.options().protocols());
            TlsFrameConnection[] self = new TlsFrameConnection[1];
            connection = transport.authenticate(raw, ssl, security, where, deadline, () -> {
                open.remove(raw);
                connections.remove(self[0]);
            });
            self[0] = connection;
            connections.add(connection);
            if (closed) {
                return;
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "refused connection from " + where + ": " + e.getMessage());
            open.remove(raw);
            closeQuietly(raw);
            return;
        }
        try {
            handler.serve(connection);
        } catch (Exception e) {
            if (!closed || !(e instanceof SocketException)) {
                LOG.log(Level.WARNING, "handler for '" + connection.peerIdentity() + "' (" + where + ") failed", e);
            }
        } finally {
            try {
                connection.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "closing connection from " + where, e);
            }
        }
    }

    /** Stops accepting, then closes every open connection (handlers see their streams fail or end). */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            serverSocket.close();
        } finally {
            for (TlsFrameConnection c : connections) {
                try {
                    c.close();
                } catch (IOException e) {
                    LOG.log(Level.DEBUG, "closing connection to " + c.peerIdentity(), e);
                }
            }
            for (Socket s : open) {
                closeQuietly(s);
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing more to release
        }
    }
}
