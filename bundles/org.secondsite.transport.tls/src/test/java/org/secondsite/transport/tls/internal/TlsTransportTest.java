package org.secondsite.transport.tls.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.secondsite.api.transport.ConnectionHandler;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.FrameException;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.api.transport.TransportServer;
import org.secondsite.testkit.TestPki;

class TlsTransportTest {

    private static final Duration BUDGET = Duration.ofSeconds(30);
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private static TestPki ca;
    private static TestPki rogueCa;
    private static TransportSecurity serverSecurity;
    private static TransportSecurity clientSecurity;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    // A generous handshake timeout: a first handshake on a loaded 2-core machine can take seconds.
    private final TlsTransport transport = new TlsTransport(TlsOptions.defaults()
            .withHandshakeTimeout(BUDGET));

    @BeforeAll
    static void pki() throws Exception {
        ca = TestPki.newCa("SecondSite Test CA");
        rogueCa = TestPki.newCa("Rogue CA");
        serverSecurity = ca.security("ps-1", cn -> cn.startsWith("agent-"));
        clientSecurity = ca.security("agent-1", cn -> cn.equals("ps-1"));
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private TransportServer listen(TlsTransport t, TransportSecurity security, ConnectionHandler handler)
            throws IOException {
        TransportServer server = t.listen(ANY_LOOPBACK, security, handler);
        toClose.add(server);
        return server;
    }

    private FrameConnection connect(TlsTransport t, TransportServer server, TransportSecurity security)
            throws IOException {
        FrameConnection c = t.connect(server.address(), security, BUDGET);
        toClose.add(c);
        return c;
    }

    @Test
    void manyFramesRoundTripBothDirectionsWithIdenticalHashes() throws Exception {
        MessageDigest serverSaw = sha256();
        AtomicReference<String> serverPeer = new AtomicReference<>();
        AtomicInteger echoed = new AtomicInteger();
        TransportServer server = listen(transport, serverSecurity, c -> {
            serverPeer.set(c.peerIdentity());
            for (ByteBuffer f; (f = c.receive()) != null;) {
                assertEquals(0, f.position());
                assertEquals(f.capacity(), f.limit(), "receive() returns a buffer of exactly the frame's size");
                serverSaw.update(f.duplicate());
                c.send(f);
                echoed.incrementAndGet();
            }
        });
        FrameConnection client = connect(transport, server, clientSecurity);
        assertEquals("ps-1", client.peerIdentity());
        assertEquals("TLSv1.3", ((TlsFrameConnection) client).protocol());
        assertEquals(TlsOptions.DEFAULT_MAX_FRAME_SIZE, client.maxFrameSize());

        int frames = 1500;
        MessageDigest sent = sha256();
        MessageDigest received = sha256();
        CompletableFuture<Integer> reader = CompletableFuture.supplyAsync(() -> {
            try {
                int n = 0;
                for (ByteBuffer f; (f = client.receive()) != null;) {
                    received.update(f);
                    if (++n == frames) {
                        return n;
                    }
                }
                return n;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        Random random = new Random(42);
        for (int i = 0; i < frames; i++) {
            int size = i % 500 == 7 ? 1 + random.nextInt(3 * 1024 * 1024) // now and then a large frame
                    : i % 97 == 0 ? 0 : random.nextInt(32 * 1024);
            byte[] data = new byte[size];
            random.nextBytes(data);
            sent.update(data);
            ByteBuffer frame;
            if (i % 3 == 0) {
                frame = ByteBuffer.allocateDirect(size).put(data).flip();
            } else {
                // an array-backed slice with a non-zero offset
                frame = ByteBuffer.wrap(new byte[size + 10], 5, size).slice().put(data).flip();
            }
            client.send(frame);
            assertFalse(frame.hasRemaining(), "send() consumes the frame");
        }
        assertEquals(frames, reader.get(BUDGET.toSeconds(), TimeUnit.SECONDS));
        client.close();
        await().atMost(BUDGET).until(() -> echoed.get() == frames);
        byte[] expected = sent.digest();
        assertArrayEquals(expected, received.digest(), "client got back exactly what it sent");
        await().atMost(BUDGET).until(() -> serverPeer.get() != null);
        assertEquals("agent-1", serverPeer.get());
        synchronized (serverSaw) {
            assertArrayEquals(expected, serverSaw.digest(), "server saw exactly what the client sent");
        }
    }

    @Test
    void cleanCloseEndsTheOtherSidesReceiveWithNull() throws Exception {
        CompletableFuture<ByteBuffer> lastReceive = new CompletableFuture<>();
        TransportServer server = listen(transport, serverSecurity, c -> {
            try {
                lastReceive.complete(c.receive());
            } catch (IOException e) {
                lastReceive.completeExceptionally(e);
            }
        });
        FrameConnection client = connect(transport, server, clientSecurity);
        client.close();
        assertNull(lastReceive.get(BUDGET.toSeconds(), TimeUnit.SECONDS));
        assertThrows(SocketException.class, () -> client.send(ByteBuffer.allocate(1)));
    }

    @Test
    void clientWithCertificateFromAnotherCaIsRefused() throws Exception {
        AtomicInteger served = new AtomicInteger();
        TransportServer server = listen(transport, serverSecurity, c -> served.incrementAndGet());
        // presents a rogue certificate, but trusts the real CA (so it accepts the server)
        TransportSecurity rogue = new TransportSecurity(TestPki.sslContext(rogueCa.issue("agent-1"), ca), cn -> true);
        IOException e = assertThrows(IOException.class, () -> connect(transport, server, rogue));
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "error explains: " + e);

        FrameConnection good = connect(transport, server, clientSecurity);
        await().atMost(BUDGET).until(() -> served.get() == 1);
        assertNull(good.receive(), "the handler returned, so the server closed the good connection");
        assertEquals(1, served.get(), "only the authenticated client reached the handler");
    }

    @Test
    void serverWithCertificateFromAnotherCaIsRefused() throws Exception {
        TransportSecurity rogueServer = new TransportSecurity(TestPki.sslContext(rogueCa.issue("ps-1"), ca),
                cn -> true);
        AtomicInteger served = new AtomicInteger();
        TransportServer server = listen(transport, rogueServer, c -> served.incrementAndGet());
        assertThrows(IOException.class, () -> connect(transport, server, clientSecurity));
        assertEquals(0, served.get());
    }

    @Test
    void clientRejectedByPeerCheckIsRefused() throws Exception {
        AtomicInteger served = new AtomicInteger();
        TransportServer server = listen(transport, serverSecurity, c -> served.incrementAndGet());
        TransportSecurity intruder = ca.security("intruder", cn -> true); // valid cert, not an agent
        IOException e = assertThrows(IOException.class, () -> connect(transport, server, intruder));
        assertTrue(e.getMessage().contains("refused"), e.getMessage());
        connect(transport, server, clientSecurity);
        await().atMost(BUDGET).until(() -> served.get() == 1);
    }

    @Test
    void serverRejectedByClientPeerCheckIsRefused() throws Exception {
        AtomicInteger served = new AtomicInteger();
        TransportServer server = listen(transport, ca.security("master-target-9", cn -> true),
                c -> served.incrementAndGet());
        IOException e = assertThrows(IOException.class, () -> connect(transport, server, clientSecurity));
        assertTrue(e.getMessage().contains("'master-target-9' was rejected by the peer check"), e.getMessage());
        assertEquals(0, served.get());
    }

    @Test
    void plaintextClientSendingGarbageIsDisconnected() throws Exception {
        AtomicInteger served = new AtomicInteger();
        TransportServer server = listen(transport, serverSecurity, c -> served.incrementAndGet());
        try (Socket plain = new Socket()) {
            plain.connect(server.address());
            plain.setSoTimeout((int) BUDGET.toMillis());
            OutputStream out = plain.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertDisconnected(plain.getInputStream());
        }
        assertEquals(0, served.get());
    }

    @Test
    void silentPlaintextClientIsDisconnectedAfterTheHandshakeTimeout() throws Exception {
        AtomicInteger served = new AtomicInteger();
        TlsTransport impatient = new TlsTransport(TlsOptions.defaults().withHandshakeTimeout(Duration.ofMillis(500)));
        TransportServer server = listen(impatient, serverSecurity, c -> served.incrementAndGet());
        try (Socket plain = new Socket()) {
            plain.connect(server.address());
            plain.setSoTimeout((int) BUDGET.toMillis()); // far above the 500 ms handshake timeout
            assertDisconnected(plain.getInputStream());
        }
        assertEquals(0, served.get());
    }

    /** Reads until the server drops the connection (it may send a TLS alert first). */
    private static void assertDisconnected(InputStream in) throws IOException {
        byte[] sink = new byte[512];
        try {
            int total = 0;
            for (int n; (n = in.read(sink)) >= 0;) {
                total += n;
                assertTrue(total < 64 * 1024, "server keeps talking to a plaintext client");
            }
        } catch (SocketException reset) {
            // connection reset: disconnected as well
        }
    }

    @Test
    void tls12OnlyClientIsRefusedUnlessAllowed() throws Exception {
        AtomicInteger served = new AtomicInteger();
        TransportServer strict = listen(transport, serverSecurity, c -> served.incrementAndGet());
        javax.net.ssl.SSLContext tls12 = ca.sslContext("agent-12");
        // a client that only speaks TLS 1.2
        try (Socket raw = new Socket()) {
            raw.connect(strict.address());
            javax.net.ssl.SSLSocket ssl = (javax.net.ssl.SSLSocket) tls12.getSocketFactory()
                    .createSocket(raw, "localhost", strict.address().getPort(), false);
            ssl.setEnabledProtocols(new String[] {"TLSv1.2"});
            ssl.setSoTimeout((int) BUDGET.toMillis());
            assertThrows(IOException.class, ssl::startHandshake);
        }
        assertEquals(0, served.get());

        TlsTransport lenient = new TlsTransport(TlsOptions.defaults().withAllowTls12(true));
        TransportServer allowing = listen(lenient, serverSecurity, c -> served.incrementAndGet());
        try (Socket raw = new Socket()) {
            raw.connect(allowing.address());
            javax.net.ssl.SSLSocket ssl = (javax.net.ssl.SSLSocket) tls12.getSocketFactory()
                    .createSocket(raw, "localhost", allowing.address().getPort(), false);
            ssl.setEnabledProtocols(new String[] {"TLSv1.2"});
            ssl.setSoTimeout((int) BUDGET.toMillis());
            ssl.startHandshake();
            assertEquals("TLSv1.2", ssl.getSession().getProtocol(), "1.2 accepted as a configured fallback");
        }
        FrameConnection c = connect(lenient, allowing, clientSecurity);
        assertEquals("TLSv1.3", ((TlsFrameConnection) c).protocol(), "1.3 is still preferred when both allow 1.2");
    }

    @Test
    void oversizedFrameIsRefusedOnSendAndTheConnectionStaysUsable() throws Exception {
        TlsTransport small = new TlsTransport(TlsOptions.defaults().withMaxFrameSize(64 * 1024));
        TransportServer server = listen(small, serverSecurity, c -> {
            for (ByteBuffer f; (f = c.receive()) != null;) {
                c.send(f);
            }
        });
        FrameConnection client = connect(small, server, clientSecurity);
        ByteBuffer big = ByteBuffer.allocate(64 * 1024 + 1);
        FrameException e = assertThrows(FrameException.class, () -> client.send(big));
        assertEquals("refusing to send a frame of 65537 bytes: the maximum frame size is 65536 bytes",
                e.getMessage());
        assertEquals(0, big.position(), "a refused frame is not consumed");
        byte[] max = new byte[64 * 1024];
        new Random(1).nextBytes(max);
        client.send(ByteBuffer.wrap(max));
        assertArrayEquals(max, client.receive().array());
    }

    @Test
    void oversizedFrameIsRefusedOnReceive() throws Exception {
        TlsTransport small = new TlsTransport(TlsOptions.defaults().withMaxFrameSize(64 * 1024));
        TlsTransport large = new TlsTransport(TlsOptions.defaults().withMaxFrameSize(1024 * 1024));
        CompletableFuture<ByteBuffer> received = new CompletableFuture<>();
        TransportServer server = listen(small, serverSecurity, c -> {
            try {
                received.complete(c.receive());
            } catch (IOException ex) {
                received.completeExceptionally(ex);
            }
        });
        FrameConnection client = connect(large, server, clientSecurity);
        try {
            client.send(ByteBuffer.allocate(100_000));
        } catch (SocketException closedWhileSending) {
            // the server may refuse the header and close before the payload is written
        }
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> received.get(BUDGET.toSeconds(), TimeUnit.SECONDS));
        FrameException fe = assertInstanceOf(FrameException.class, e.getCause());
        assertEquals("peer 'agent-1' sent a frame of 100000 bytes, more than the maximum frame size of 65536 bytes",
                fe.getMessage());
        assertDisconnectedFrames(client);
    }

    @Test
    void negativeFrameLengthIsRefusedOnReceive() throws Exception {
        CompletableFuture<ByteBuffer> received = new CompletableFuture<>();
        TransportServer server = listen(transport, serverSecurity, c -> {
            try {
                received.complete(c.receive());
            } catch (IOException ex) {
                received.completeExceptionally(ex);
            }
        });
        TlsFrameConnection client = (TlsFrameConnection) connect(transport, server, clientSecurity);
        client.output().write(new byte[] {(byte) 0x80, 0, 0, 0});
        client.output().flush();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> received.get(BUDGET.toSeconds(), TimeUnit.SECONDS));
        FrameException fe = assertInstanceOf(FrameException.class, e.getCause());
        assertTrue(fe.getMessage().contains("malformed frame length -2147483648 (negative)"), fe.getMessage());
    }

    /** After the peer refused a frame it closed the connection: reads end. */
    private static void assertDisconnectedFrames(FrameConnection c) {
        try {
            assertNull(c.receive());
        } catch (IOException expected) {
            // reset instead of close_notify: disconnected too
        }
    }

    @Test
    void slowReceiverBlocksTheSenderWithBoundedInFlightData() throws Exception {
        int frameSize = 256 * 1024;
        int frames = 128; // 32 MiB: far more than sockets and buffers can hold
        TlsTransport tight = new TlsTransport(TlsOptions.defaults().withSocketBuffers(64 * 1024, 64 * 1024));
        CountDownLatch startReading = new CountDownLatch(1);
        MessageDigest serverSaw = sha256();
        AtomicInteger serverFrames = new AtomicInteger();
        TransportServer server = listen(tight, serverSecurity, c -> {
            startReading.await();
            for (ByteBuffer f; (f = c.receive()) != null;) {
                serverSaw.update(f);
                serverFrames.incrementAndGet();
            }
        });
        FrameConnection client = connect(tight, server, clientSecurity);
        AtomicInteger started = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        MessageDigest sent = sha256();
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
            Random random = new Random(7);
            byte[] data = new byte[frameSize]; // one reused buffer: the sender itself allocates nothing
            try {
                for (int i = 0; i < frames; i++) {
                    random.nextBytes(data);
                    sent.update(data);
                    started.incrementAndGet();
                    client.send(ByteBuffer.wrap(data));
                    completed.incrementAndGet();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });

        // Wait until the sender is stuck inside send(): it has started a frame it cannot finish.
        AtomicInteger lastSeen = new AtomicInteger(-1);
        await().atMost(BUDGET).pollInterval(Duration.ofMillis(200)).until(() -> {
            int done = completed.get();
            return done == lastSeen.getAndSet(done) && started.get() > done;
        });
        int inFlightFrames = completed.get();
        assertFalse(sender.isDone(), "the sender must block while the receiver does not read");
        long inFlightBytes = (long) inFlightFrames * frameSize;
        assertTrue(inFlightBytes <= 8L * 1024 * 1024,
                "only socket and stream buffers hold unread data, but " + inFlightBytes + " bytes were accepted");

        startReading.countDown();
        sender.get(BUDGET.toSeconds(), TimeUnit.SECONDS);
        client.close();
        await().atMost(BUDGET).until(() -> serverFrames.get() == frames);
        synchronized (serverSaw) {
            assertArrayEquals(sent.digest(), serverSaw.digest());
        }
    }

    @Test
    void closingTheServerClosesItsConnections() throws Exception {
        CountDownLatch inReceive = new CountDownLatch(1);
        CompletableFuture<Object> handlerEnd = new CompletableFuture<>();
        TlsTransport t = new TlsTransport(TlsOptions.defaults());
        TransportServer server = t.listen(ANY_LOOPBACK, serverSecurity, c -> {
            inReceive.countDown();
            try {
                handlerEnd.complete(String.valueOf(c.receive()));
            } catch (IOException e) {
                handlerEnd.complete(e);
            }
        });
        FrameConnection client = connect(t, server, clientSecurity);
        assertTrue(inReceive.await(BUDGET.toSeconds(), TimeUnit.SECONDS));
        server.close();
        assertNotNull(handlerEnd.get(BUDGET.toSeconds(), TimeUnit.SECONDS), "the blocked handler was released");
        assertDisconnectedFrames(client);
        assertThrows(IOException.class, () -> t.connect(server.address(), clientSecurity, Duration.ofSeconds(5)));
    }

    @Test
    void optionsAreValidatedWithClearMessages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TlsOptions.defaults().withMaxFrameSize(0));
        assertTrue(e.getMessage().contains("maxFrameSize must be between 1 and"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TlsOptions.defaults().withHandshakeTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> TlsOptions.defaults().withBufferSize(10));
    }

    private static MessageDigest sha256() throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256");
    }
}
