package org.secondsite.testkit.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.secondsite.api.transport.ConnectionHandler;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.FrameException;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.api.transport.TransportServer;
import org.secondsite.testkit.TestData;
import org.secondsite.testkit.TestPki;

/**
 * The compatibility kit of the {@link Transport} extension point. A transport plugin's test
 * extends it and supplies the transport, configured for a given maximum frame size:
 *
 * <pre>
 * class MyTransportTckTest extends TransportTck {
 *     &#64;Override
 *     protected Transport createTransport(int maxFrameSize) {
 *         return new MyTransport(maxFrameSize);
 *     }
 * }
 * </pre>
 *
 * The TCK builds the key and trust material itself with {@link TestPki}: a CA issuing
 * {@code ps-1} (the server) and {@code agent-1} (the client), and a second, untrusted CA.
 * Override {@link #security} if the transport needs more than an {@code SSLContext} holding a
 * certificate and the trusted CA.
 *
 * <p>It checks what the {@code org.secondsite.api.transport} javadoc promises: frames of every
 * size up to the maximum (empty included) and from every kind of buffer round trip in order
 * both ways, compared by hash, while one thread sends and another receives; both ends learn
 * the peer's certificate common name; a frame larger than the maximum is refused by the sender
 * or, when the peer allows more, by the receiver with {@link FrameException}; a peer refused
 * by the peer check or holding a certificate from another CA never reaches the handler and
 * its connection ends; a clean close ends the other side's {@code receive()} with
 * {@code null}, and so does a handler returning; each connection's handler runs on a thread of
 * its own; closing the server closes its connections; connecting to a silent or absent peer
 * fails with an {@link IOException}.
 *
 * <p>Budgets (e.g. {@link #BUDGET}) only guard against hangs; nothing is timed.
 */
public abstract class TransportTck {

    /** Hang guard for anything that blocks. */
    protected static final Duration BUDGET = Duration.ofSeconds(30);
    /** The maximum frame size most tests configure. */
    protected static final int MAX_FRAME = 256 * 1024;

    private static final String SERVER = "ps-1";
    private static final String CLIENT = "agent-1";
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private static TestPki ca;
    private static TestPki otherCa;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "transport-tck");
        t.setDaemon(true);
        return t;
    });

    /**
     * A transport, ready to use, whose connections carry frames of at most {@code maxFrameSize}
     * bytes. The TCK asks for small sizes (up to a few hundred KiB) to stay fast.
     */
    protected abstract Transport createTransport(int maxFrameSize) throws Exception;

    /**
     * Key and trust material for a component named {@code commonName}, presenting a certificate
     * issued by {@code issuer} and trusting only {@code trusted}'s CA.
     */
    protected TransportSecurity security(TestPki issuer, TestPki trusted, String commonName,
            Predicate<String> peerCheck) throws GeneralSecurityException {
        return new TransportSecurity(TestPki.sslContext(issuer.issue(commonName), trusted), peerCheck);
    }

    @BeforeAll
    static void certificateAuthorities() throws GeneralSecurityException {
        ca = TestPki.newCa("SecondSite TCK CA");
        otherCa = TestPki.newCa("Another CA");
    }

    @AfterEach
    void closeEverything() throws Exception {
        try {
            for (int i = toClose.size() - 1; i >= 0; i--) {
                toClose.get(i).close();
            }
            toClose.clear();
        } finally {
            threads.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- helpers

    private TransportSecurity serverSecurity(Predicate<String> peerCheck) throws GeneralSecurityException {
        return security(ca, ca, SERVER, peerCheck);
    }

    private TransportSecurity clientSecurity(Predicate<String> peerCheck) throws GeneralSecurityException {
        return security(ca, ca, CLIENT, peerCheck);
    }

    private TransportServer listen(Transport t, TransportSecurity security, ConnectionHandler handler)
            throws IOException {
        TransportServer server = t.listen(ANY_LOOPBACK, security, handler);
        assertNotNull(server, "listen() returned null");
        toClose.add(server);
        return server;
    }

    private FrameConnection connect(Transport t, InetSocketAddress where, TransportSecurity security)
            throws IOException {
        FrameConnection c = within("connect", () -> t.connect(where, security, BUDGET));
        assertNotNull(c, "connect() returned null");
        toClose.add(c);
        return c;
    }

    /** Runs a blocking call with a hang guard; a checked IOException of the call is rethrown as is. */
    private <T> T within(String what, Callable<T> call) throws IOException {
        CompletableFuture<T> f = CompletableFuture.supplyAsync(() -> {
            try {
                return call.call();
            } catch (Exception e) {
                throw new CallFailed(e);
            }
        }, threads);
        try {
            return f.get(BUDGET.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CallFailed cf ? cf.getCause() : e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(what + " failed", cause);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new AssertionError(what + " did not return within the hang guard of " + BUDGET);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted during " + what);
        }
    }

    private static final class CallFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CallFailed(Exception cause) {
            super(cause);
        }
    }

    /** Waits (hang guard) until {@code c} ends: receive() returns null or throws. Fails if a frame arrives. */
    private void assertEnds(FrameConnection c, String why) throws IOException {
        Object outcome = within("receive", () -> {
            try {
                return c.receive() == null ? "null" : "frame";
            } catch (IOException e) {
                return e;
            }
        });
        assertNotEquals("frame", outcome, why + ": a frame arrived on a connection that should have ended");
    }

    private static void await(CountDownLatch latch, String what) throws InterruptedException {
        assertTrue(latch.await(BUDGET.toMillis(), TimeUnit.MILLISECONDS), what + " (hang guard " + BUDGET + ")");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- basics

    @Test
    void nameIsNotBlank() throws Exception {
        String name = createTransport(MAX_FRAME).name();
        assertNotNull(name, "name() must not be null");
        assertFalse(name.isBlank(), "name() must not be blank");
    }

    @Test
    void listeningOnPortZeroReportsTheRealPort() throws Exception {
        TransportServer server = listen(createTransport(MAX_FRAME), serverSecurity(cn -> true), c -> { });
        assertNotNull(server.address(), "address()");
        assertTrue(server.address().getPort() > 0, "address() must report the port picked, was " + server.address());
    }

    // ---------------------------------------------------------------- frames

    @Test
    void framesRoundTripBothWaysInOrderWithIdenticalHashes() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        AtomicReference<String> serverSawPeer = new AtomicReference<>();
        AtomicReference<Object> handlerEnd = new AtomicReference<>();
        CountDownLatch handlerDone = new CountDownLatch(1);
        byte[] greeting = TestData.mixed(10_000, 1);
        TransportServer server = listen(transport, serverSecurity(cn -> cn.equals(CLIENT)), c -> {
            try {
                serverSawPeer.set(c.peerIdentity());
                c.send(ByteBuffer.wrap(greeting)); // the server speaks first, unprompted
                for (ByteBuffer f; (f = c.receive()) != null;) {
                    if (f.position() != 0 || f.limit() != f.remaining()) {
                        throw new AssertionError("receive() must return the frame at position 0: " + f);
                    }
                    c.send(f); // echo
                }
                handlerEnd.set("null");
            } catch (Throwable e) {
                handlerEnd.set(e);
            } finally {
                handlerDone.countDown();
            }
        });
        FrameConnection client = connect(transport, server.address(), clientSecurity(cn -> cn.equals(SERVER)));
        assertEquals(SERVER, client.peerIdentity(), "the client's peerIdentity() is the server certificate's CN");
        assertEquals(MAX_FRAME, client.maxFrameSize(), "maxFrameSize() of a connection between two transports"
                + " configured alike");

        Random random = new Random(7);
        List<byte[]> frames = new ArrayList<>();
        frames.add(new byte[0]);
        frames.add(new byte[] {1});
        frames.add(TestData.mixed(MAX_FRAME, 2));
        for (int i = 0; i < 400; i++) {
            int len = i % 50 == 0 ? MAX_FRAME : random.nextInt(i % 5 == 0 ? MAX_FRAME + 1 : 2000);
            byte[] f = new byte[len];
            random.nextBytes(f);
            frames.add(f);
        }
        frames.add(new byte[0]);
        MessageDigest sent = sha256();
        for (byte[] f : frames) {
            sent.update(ByteBuffer.allocate(4).putInt(f.length).flip());
            sent.update(f);
        }

        // one thread sends while another receives
        CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
            MessageDigest got = sha256();
            try {
                ByteBuffer first = client.receive();
                assertNotNull(first, "the server's greeting");
                assertArrayEquals(greeting, Buffers.remaining(first), "the server's greeting");
                for (int i = 0; i < frames.size(); i++) {
                    ByteBuffer f = client.receive();
                    assertNotNull(f, "the connection ended after " + i + " of " + frames.size() + " echoed frames");
                    assertEquals(0, f.position(), "receive() returns the frame at position 0");
                    got.update(ByteBuffer.allocate(4).putInt(f.remaining()).flip());
                    got.update(f);
                }
                return got.digest();
            } catch (IOException e) {
                throw new CallFailed(e);
            }
        }, threads);
        Buffers.Kind[] kinds = Buffers.Kind.values();
        for (int i = 0; i < frames.size(); i++) {
            client.send(kinds[i % kinds.length].source(frames.get(i)));
        }
        byte[] echoed = reader.get(BUDGET.toMillis() * 4, TimeUnit.MILLISECONDS);
        assertArrayEquals(sent.digest(), echoed, "frames (lengths and bytes, in order) differ after the round trip");
        assertEquals(CLIENT, serverSawPeer.get(), "the server's peerIdentity() is the client certificate's CN");

        client.close();
        await(handlerDone, "the server's receive() must return null after the client closed");
        assertEquals("null", handlerEnd.get(), "after a clean close the other side's receive() returns null");
    }

    @Test
    void receivingIntoALentBufferGivesTheSameBytesWhetherOrNotTheFrameFits() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        byte[] small = TestData.mixed(3000, 4);
        byte[] big = TestData.mixed(9000, 5);
        TransportServer server = listen(transport, serverSecurity(cn -> true), c -> {
            c.send(ByteBuffer.wrap(small));
            c.send(ByteBuffer.wrap(big));
            c.send(ByteBuffer.wrap(small));
        });
        FrameConnection client = connect(transport, server.address(), clientSecurity(cn -> true));
        ByteBuffer lent = ByteBuffer.allocate(4096);
        lent.put(new byte[] {1, 2, 3}); // stale content and position must not matter
        ByteBuffer first = within("receive", () -> client.receive(lent));
        assertArrayEquals(small, Buffers.remaining(first), "a frame that fits the lent buffer");
        ByteBuffer second = within("receive", () -> client.receive(lent));
        assertArrayEquals(big, Buffers.remaining(second), "a frame larger than the lent buffer");
        ByteBuffer third = within("receive", () -> client.receive(null));
        assertArrayEquals(small, Buffers.remaining(third), "no buffer lent");
    }

    @Test
    void aHandlerReturningEndsTheClientsReceiveWithNull() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        byte[] last = TestData.mixed(5000, 3);
        TransportServer server = listen(transport, serverSecurity(cn -> true), c -> c.send(ByteBuffer.wrap(last)));
        FrameConnection client = connect(transport, server.address(), clientSecurity(cn -> true));
        ByteBuffer f = within("receive", client::receive);
        assertNotNull(f, "the frame sent before the handler returned");
        assertArrayEquals(last, Buffers.remaining(f));
        assertNull(within("receive", client::receive),
                "the transport closes the connection when the handler returns: receive() must return null");
    }

    @Test
    void aFrameLargerThanTheMaximumIsRefusedBySendAndNothingReachesThePeer() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        TransportServer server = listen(transport, serverSecurity(cn -> true), c -> {
            for (ByteBuffer f; (f = c.receive()) != null;) {
                c.send(f);
            }
        });
        FrameConnection client = connect(transport, server.address(), clientSecurity(cn -> true));
        byte[] tooBig = new byte[MAX_FRAME + 1];
        Exception e = assertThrows(Exception.class, () -> client.send(ByteBuffer.wrap(tooBig)),
                "send() of a frame of maxFrameSize + 1 bytes must be refused");
        assertTrue(e instanceof IOException || e instanceof IllegalArgumentException,
                "send() of an oversized frame must throw an IOException (or IllegalArgumentException), threw " + e);
        byte[] small = {4, 5, 6};
        try {
            client.send(ByteBuffer.wrap(small));
        } catch (IOException closed) {
            return; // the transport chose to close the connection after the refusal: nothing went out either
        }
        ByteBuffer echo = within("receive", client::receive);
        assertNotNull(echo, "the connection ended after a refused send, although the next send succeeded");
        assertArrayEquals(small, Buffers.remaining(echo), "the peer received part of the refused frame");
    }

    @Test
    void aFrameLargerThanTheReceiversMaximumIsRefusedWithFrameException() throws Exception {
        int receiverMax = 64 * 1024;
        AtomicReference<Object> serverOutcome = new AtomicReference<>();
        CountDownLatch handlerDone = new CountDownLatch(1);
        TransportServer server = listen(createTransport(receiverMax), serverSecurity(cn -> true), c -> {
            try {
                ByteBuffer f = c.receive();
                serverOutcome.set(f == null ? "null" : "frame of " + f.remaining() + " bytes");
            } catch (Throwable e) {
                serverOutcome.set(e);
            } finally {
                handlerDone.countDown();
            }
        });
        FrameConnection client = connect(createTransport(4 * receiverMax), server.address(), clientSecurity(cn -> true));
        int size = 2 * receiverMax;
        if (client.maxFrameSize() < size) {
            // the transport negotiated the smaller maximum: the sender must refuse
            assertThrows(Exception.class, () -> client.send(ByteBuffer.wrap(new byte[size])),
                    "maxFrameSize() is " + client.maxFrameSize() + ", so a " + size + "-byte frame must be refused");
            return;
        }
        try {
            client.send(ByteBuffer.wrap(new byte[size]));
        } catch (IOException peerAlreadyGone) {
            // the receiver may close while the frame is still being written
        }
        await(handlerDone, "the server's receive()");
        assertInstanceOf(FrameException.class, serverOutcome.get(), "receive() of a " + size + "-byte frame with a"
                + " maximum of " + receiverMax + " must throw FrameException");
        assertEnds(client, "a FrameException leaves the connection unusable");
    }

    // ---------------------------------------------------------------- authentication

    @Test
    void aClientRejectedByTheServersPeerCheckNeverReachesTheHandler() throws Exception {
        Set<String> served = ConcurrentHashMap.newKeySet();
        Transport transport = createTransport(MAX_FRAME);
        TransportServer server = listen(transport, serverSecurity(cn -> cn.equals("agent-good")), c -> {
            served.add(c.peerIdentity());
            c.send(ByteBuffer.wrap(new byte[] {1}));
        });
        refusedOrEnded(transport, server.address(), clientSecurity(cn -> true), "a client the server's peer check rejects");
        assertAcceptedClientIsServed(transport, server, served, "agent-good");
        assertFalse(served.contains(CLIENT), "the handler ran for a client its peer check rejected");
    }

    @Test
    void aServerRejectedByTheClientsPeerCheckFailsTheConnect() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        AtomicInteger frames = new AtomicInteger();
        TransportServer server = listen(transport, serverSecurity(cn -> true), c -> {
            for (ByteBuffer f; (f = c.receive()) != null;) {
                frames.incrementAndGet();
            }
        });
        IOException e = assertThrows(IOException.class,
                () -> connect(transport, server.address(), clientSecurity(cn -> cn.equals("ps-other"))),
                "connect() must fail when the client's own peer check rejects the server");
        assertNotNull(e.getMessage(), "the IOException must explain what failed");
        assertEquals(0, frames.get(), "frames crossed a connection the client rejected");
    }

    @Test
    void aClientWithACertificateFromAnotherCaNeverReachesTheHandler() throws Exception {
        Set<String> served = ConcurrentHashMap.newKeySet();
        Transport transport = createTransport(MAX_FRAME);
        TransportServer server = listen(transport, serverSecurity(cn -> true), c -> {
            served.add(c.peerIdentity());
            c.send(ByteBuffer.wrap(new byte[] {1}));
        });
        // presents a certificate of the other CA (same CN), but trusts the real CA, so it would accept the server
        TransportSecurity stranger = security(otherCa, ca, "agent-stranger", cn -> true);
        refusedOrEnded(transport, server.address(), stranger, "a client whose certificate another CA issued");
        assertAcceptedClientIsServed(transport, server, served, "agent-good");
        assertFalse(served.contains("agent-stranger"), "the handler ran for a client from another CA");
    }

    @Test
    void aServerWithACertificateFromAnotherCaFailsTheConnect() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        TransportServer server = listen(transport, security(otherCa, ca, SERVER, cn -> true), c -> { });
        IOException e = assertThrows(IOException.class,
                () -> connect(transport, server.address(), clientSecurity(cn -> true)),
                "connect() must fail when the server's certificate comes from an untrusted CA");
        assertNotNull(e.getMessage(), "the IOException must explain what failed");
    }

    /** The client is refused at connect, or its connection ends without a frame. */
    private void refusedOrEnded(Transport transport, InetSocketAddress where, TransportSecurity security, String who)
            throws Exception {
        FrameConnection c;
        try {
            c = connect(transport, where, security);
        } catch (IOException refused) {
            assertNotNull(refused.getMessage(), "the IOException must explain what failed");
            return;
        }
        assertEnds(c, who + " must be disconnected");
    }

    private void assertAcceptedClientIsServed(Transport transport, TransportServer server, Set<String> served,
            String cn) throws Exception {
        FrameConnection good = connect(transport, server.address(), security(ca, ca, cn, x -> true));
        ByteBuffer f = within("receive", good::receive);
        assertNotNull(f, "an accepted client must be served");
        assertTrue(served.contains(cn), "the handler saw " + served);
    }

    // ---------------------------------------------------------------- threads, closing, failures

    @Test
    void eachConnectionIsHandledOnAThreadOfItsOwn() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        CountDownLatch bothRunning = new CountDownLatch(2);
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        TransportServer server = listen(transport, serverSecurity(cn -> true), c -> {
            threads.add(Thread.currentThread());
            bothRunning.countDown();
            // blocks until the other connection's handler runs too: only possible on separate threads
            if (bothRunning.await(BUDGET.toMillis(), TimeUnit.MILLISECONDS)) {
                c.send(ByteBuffer.wrap(new byte[] {1}));
            }
        });
        FrameConnection a = connect(transport, server.address(), clientSecurity(cn -> true));
        FrameConnection b = connect(transport, server.address(), security(ca, ca, "agent-2", cn -> true));
        await(bothRunning, "two connections' handlers must run at the same time");
        assertNotNull(within("receive", a::receive));
        assertNotNull(within("receive", b::receive));
        assertEquals(2, threads.size(), "handlers ran on " + threads);
    }

    @Test
    void closingTheServerClosesItsConnectionsAndStopsAccepting() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        CountDownLatch serving = new CountDownLatch(1);
        TransportServer server = listen(transport, serverSecurity(cn -> true), c -> {
            serving.countDown();
            while (c.receive() != null) {
                // wait for the end
            }
        });
        FrameConnection client = connect(transport, server.address(), clientSecurity(cn -> true));
        await(serving, "the handler runs");
        InetSocketAddress address = server.address();
        server.close();
        assertEnds(client, "closing the server closes its connections");
        assertThrows(IOException.class, () -> connect(transport, address, clientSecurity(cn -> true)),
                "connect() to a closed server must fail");
    }

    @Test
    void connectingToASilentPeerFailsWithinTheTimeout() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(ANY_LOOPBACK);
            List<Socket> accepted = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // accept, never answer
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            InetSocketAddress where = (InetSocketAddress) silent.getLocalSocketAddress();
            IOException e = assertThrows(IOException.class, () -> within("connect",
                    () -> transport.connect(where, clientSecurity(cn -> true), Duration.ofMillis(500))),
                    "connect() to a peer that never completes authentication must fail with IOException");
            assertNotNull(e.getMessage(), "the IOException must explain what failed");
            silent.close();
            synchronized (accepted) {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    @Test
    void connectingToAnAbsentPeerFails() throws Exception {
        Transport transport = createTransport(MAX_FRAME);
        InetSocketAddress nobody;
        try (ServerSocket s = new ServerSocket()) {
            s.bind(ANY_LOOPBACK);
            nobody = (InetSocketAddress) s.getLocalSocketAddress();
        }
        assertThrows(IOException.class, () -> within("connect",
                () -> transport.connect(nobody, clientSecurity(cn -> true), Duration.ofSeconds(5))),
                "connect() to a port nobody listens on must fail with IOException");
    }
}
