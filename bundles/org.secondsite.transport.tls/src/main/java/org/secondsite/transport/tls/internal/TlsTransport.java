package org.secondsite.transport.tls.internal;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Objects;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.security.auth.x500.X500Principal;

import org.secondsite.api.transport.ConnectionHandler;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.api.transport.TransportServer;

/**
 * The {@code tls} transport as plain Java: blocking JDK TLS sockets, TLS 1.3 only (1.2 as an
 * optional fallback), client certificates required on both sides, one thread per connection.
 *
 * <p>Connection set-up: TCP connect, TLS handshake, each side checks the peer certificate's
 * common name with {@link TransportSecurity#peerCheck()}, then each side sends an 8-byte
 * preamble (magic {@code "SSTF"}, version 1) and waits for the peer's. A side only sends its
 * preamble once it accepted the peer, so {@link #connect} fails when the server rejects the
 * client (which TLS 1.3 alone would report only on the first read) and the server's handler
 * only runs for clients that accepted it. All of that must finish within the handshake
 * timeout; after it the stream carries frames: 4-byte big-endian length, then the bytes.
 *
 * <p>Host names are not verified: components are identified by their certificate's common
 * name, issued by the configuration server's CA, and checked by {@code peerCheck}.
 */
public final class TlsTransport implements Transport {

    /** The value of {@link Transport#PROPERTY} for this transport. */
    public static final String NAME = "tls";

    static final int PREAMBLE_MAGIC = 0x53535446; // "SSTF"
    static final int PREAMBLE_VERSION = 1;

    private final TlsOptions options;

    public TlsTransport(TlsOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    public TlsOptions options() {
        return options;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TransportServer listen(InetSocketAddress bind, TransportSecurity security, ConnectionHandler handler)
            throws IOException {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(security, "security");
        Objects.requireNonNull(handler, "handler");
        return TlsTransportServer.start(this, bind, security, handler);
    }

    @Override
    public FrameConnection connect(InetSocketAddress remote, TransportSecurity security, Duration timeout)
            throws IOException {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(security, "security");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Socket raw = new Socket();
        configure(raw);
        try {
            raw.connect(remote, clampMillis(timeout.toNanos()));
            SSLSocket ssl = (SSLSocket) security.context().getSocketFactory()
                    .createSocket(raw, remote.getHostString(), remote.getPort(), true);
            ssl.setUseClientMode(true);
            ssl.setEnabledProtocols(options.protocols());
            return authenticate(raw, ssl, security, remote.toString(), deadline, () -> { });
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    void configure(Socket raw) throws IOException {
        raw.setTcpNoDelay(true);
        raw.setKeepAlive(true);
        if (options.socketSendBuffer() > 0) {
            raw.setSendBufferSize(options.socketSendBuffer());
        }
        if (options.socketReceiveBuffer() > 0) {
            raw.setReceiveBufferSize(options.socketReceiveBuffer());
        }
    }

    /**
     * Handshake, peer check and preamble exchange, within {@code deadlineNanos}. The caller
     * closes {@code raw} if this throws.
     */
    TlsFrameConnection authenticate(Socket raw, SSLSocket ssl, TransportSecurity security, String where,
            long deadlineNanos, Runnable onClose) throws IOException {
        boolean client = ssl.getUseClientMode();
        if (!client) {
            ssl.setNeedClientAuth(true);
        }
        try {
            raw.setSoTimeout(remainingMillis(deadlineNanos, where));
            ssl.startHandshake();
            String peer = commonName(ssl, where);
            if (!security.peerCheck().test(peer)) {
                throw new SSLPeerUnverifiedException("peer " + where + " with certificate CN '" + peer
                        + "' was rejected by the peer check");
            }
            TlsFrameConnection connection = new TlsFrameConnection(raw, ssl, options.bufferSize(),
                    options.maxFrameSize(), peer, onClose);
            writePreamble(connection.output());
            raw.setSoTimeout(remainingMillis(deadlineNanos, where));
            readPreamble(connection.input(), where, client);
            raw.setSoTimeout(0);
            return connection;
        } catch (SocketTimeoutException e) {
            throw new SocketTimeoutException("TLS handshake with " + where + " did not complete within "
                    + (client ? "the connect timeout" : "the handshake timeout of " + options.handshakeTimeout()));
        }
    }

    private static void writePreamble(OutputStream out) throws IOException {
        byte[] p = {'S', 'S', 'T', 'F', 0, 0, 0, (byte) PREAMBLE_VERSION};
        out.write(p);
        out.flush();
    }

    private static void readPreamble(DataInputStream in, String where, boolean client) throws IOException {
        int magic;
        int version;
        try {
            magic = in.readInt();
            version = in.readInt();
        } catch (EOFException | SSLException e) {
            throw new SSLPeerUnverifiedException((client ? "server " : "client ") + where
                    + " refused this component after the TLS handshake (certificate not trusted or rejected by its"
                    + " peer check): " + (e instanceof EOFException ? "connection closed" : e.getMessage()));
        }
        if (magic != PREAMBLE_MAGIC) {
            throw new IOException("peer " + where + " is not a SecondSite tls transport: preamble magic 0x"
                    + Integer.toHexString(magic) + ", expected 0x" + Integer.toHexString(PREAMBLE_MAGIC));
        }
        if (version != PREAMBLE_VERSION) {
            throw new IOException("peer " + where + " speaks tls transport version " + version + ", this side speaks "
                    + PREAMBLE_VERSION);
        }
    }

    /** The common name of the peer's (leaf) certificate. */
    static String commonName(SSLSocket ssl, String where) throws SSLPeerUnverifiedException {
        Certificate[] chain = ssl.getSession().getPeerCertificates();
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
            throw new SSLPeerUnverifiedException("peer " + where + " presented no X.509 certificate");
        }
        X500Principal subject = ((X509Certificate) chain[0]).getSubjectX500Principal();
        try {
            LdapName name = new LdapName(subject.getName(X500Principal.RFC2253));
            for (int i = name.size() - 1; i >= 0; i--) {
                Rdn rdn = name.getRdns().get(i);
                if ("CN".equalsIgnoreCase(rdn.getType())) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            throw new SSLPeerUnverifiedException("peer " + where + " certificate subject '" + subject
                    + "' cannot be parsed: " + e.getMessage());
        }
        throw new SSLPeerUnverifiedException("peer " + where + " certificate subject '" + subject
                + "' has no common name (CN); components are identified by it");
    }

    private static int remainingMillis(long deadlineNanos, String where) throws SocketTimeoutException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("authentication with " + where + " ran out of time");
        }
        return clampMillis(left);
    }

    private static int clampMillis(long nanos) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000));
    }
}
