package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.appliance.Role;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.wire.BatchEncoder;
import org.secondsite.wire.Compressors;
import org.secondsite.wire.ErrorCode;
import org.secondsite.wire.Message;
import org.secondsite.wire.MessageCodec;
import org.secondsite.wire.ResendReason;
import org.secondsite.wire.WireProtocol;

/** Faults in the data path: restarts, corruption in transit, a full spool, bad sequences and peers. */
class ReplicationFaultTest {
    static final int DISK_SIZE = 48 << 20;
    static final Duration BUDGET = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void processServerClosedMidStreamAndRestartedOnItsSpoolLosesNothing() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 7);
            w.feed(sink, 8L << 20);
            await().atMost(BUDGET).until(() -> p.ps.disks().size() == 1 && p.ps.disks().get(0).lastSequence() > 2);
            p.ps.close(); // connections dropped mid-stream
            w.feed(sink, 4L << 20); // the agent keeps capturing while the process server is down
            p.startPs();
            w.feed(sink, 4L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
        }
    }

    @Test
    void masterTargetClosedMidStreamAndRestartedResumesExactly() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 8);
            w.feed(sink, 8L << 20);
            await().atMost(BUDGET).until(() -> p.mt.lastApplied(Pipeline.DISK) > 2);
            p.mt.close();
            long durable = new MasterTarget(p.mt.options(), () -> "mt-1", p.transports::get, () -> null,
                    p.storages::get, p.mtCompressors::get, java.time.Clock.systemUTC()).lastApplied(Pipeline.DISK);
            assertEquals(0, durable, "state is loaded lazily, on the first connection");
            w.feed(sink, 4L << 20);
            p.startMt();
            w.feed(sink, 4L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
        }
    }

    @Test
    void bitFlipsBetweenProcessServerAndMasterTargetAreDetectedAndResent() throws Exception {
        try (Pipeline p = new Pipeline(dir); FlippingProxy proxy = new FlippingProxy()) {
            p.startMt();
            proxy.start(p.mtAddress);
            InetSocketAddress realMt = p.mtAddress;
            p.mtAddress = proxy.address();
            p.startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 9);
            w.feed(sink, 16L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);
            assertTrue(proxy.flips.get() >= 3, "the proxy corrupted " + proxy.flips.get() + " connections");
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
            assertFalse(realMt.equals(p.mtAddress));
        }
    }

    @Test
    void fullSpoolStopsCleanlyAndResumesWhenSpaceReturns() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt();
            InetSocketAddress mtAddress = p.mtAddress;
            p.mt.close(); // the master target is away: the spool fills
            p.psTweak = o -> o.withSpool(8L << 20, 1L << 20);
            p.startPs().startAgent(o -> o.withBatching(1 << 20, Duration.ofMillis(20)));
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 10);
            w.feed(sink, 16L << 20);
            sink.flush();
            await().atMost(BUDGET).until(() -> p.agent.disks().get(0).state().equals("receiver-full"));
            await().atMost(BUDGET).until(() -> p.ps.disks().get(0).state().equals("spool-full"));
            assertTrue(p.agent.disks().get(0).message().contains("spool is full"), p.agent.disks().get(0).message());
            assertTrue(p.ps.spool().figures().diskBytes() <= 8L << 20);
            p.mtAddress = mtAddress;
            p.startMt(); // space returns as the master target acknowledges
            ReplicationEndToEndTest.awaitReplicated(p);
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
        }
    }

    @Test
    void spoolFilesystemReallyFullStopsCleanlyAndResumesWhenSpaceReturns() throws Exception {
        String why = org.secondsite.testkit.SmallFilesystem.unavailableReason();
        org.junit.jupiter.api.Assumptions.assumeTrue(why.isEmpty(), why);
        // the spool's size bound is far above its filesystem (a 12 MiB tmpfs): only ENOSPC stops it
        try (org.secondsite.testkit.SmallFilesystem fs =
                     org.secondsite.testkit.SmallFilesystem.mount(dir.resolve("spool"), 12L << 20);
             Pipeline p = new Pipeline(dir)) {
            p.startMt();
            InetSocketAddress mtAddress = p.mtAddress;
            p.mt.close(); // the master target is away: the spool fills its filesystem
            p.psTweak = o -> o.withSpool(1L << 30, 1L << 20);
            p.startPs().startAgent(o -> o.withBatching(1 << 20, Duration.ofMillis(20)));
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 12);
            w.feed(sink, 40L << 20);
            sink.flush();
            // the agent connects on its own time: the process server may not know the disk yet
            await().atMost(BUDGET).until(() -> !p.ps.disks().isEmpty()
                    && p.ps.disks().get(0).state().equals("spool-full"));
            assertTrue(p.ps.disks().get(0).message().contains("filesystem is full"), p.ps.disks().get(0).message());
            await().atMost(BUDGET).until(() -> p.agent.disks().get(0).state().equals("receiver-full"));
            assertTrue(fs.freeBytes() < 1L << 20, "the filesystem is full: " + fs.freeBytes() + " bytes free");
            p.mtAddress = mtAddress;
            p.startMt(); // space returns as the master target acknowledges and segments are deleted
            ReplicationEndToEndTest.awaitReplicated(p);
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
        }
    }

    @Test
    void unknownCompressorIsHeldThenAppliedWhenItAppears() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.psCompressors.put("xor", Pipeline.XOR);
            p.psTweak = o -> o.withWanCompressor("xor");
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 11);
            w.feed(sink, 4L << 20);
            sink.flush();
            await().atMost(BUDGET).until(() -> !p.mt.disks().isEmpty()
                    && p.mt.disks().get(0).message().contains("holding: unknown compressor xor"));
            assertEquals(0, p.mt.lastApplied(Pipeline.DISK));
            p.mtCompressors.put("xor", Pipeline.XOR);
            p.mt.compressorsChanged();
            ReplicationEndToEndTest.awaitReplicated(p);
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
        }
    }

    @Test
    void wanCompressorNoneWithANonePluginInstalledReplicates() throws Exception {
        // Once refused every agent: 'none' was listed twice in the process server's HELLO_ACK.
        try (Pipeline p = new Pipeline(dir)) {
            p.psCompressors.put("none", org.secondsite.wire.Compressors.NONE);
            p.psTweak = o -> o.withWanCompressor("none");
            p.startMt().startPs().startAgent(o -> o);
            ChangeSink sink = p.agent.protect(Pipeline.DISK, Pipeline.group(), DISK_SIZE);
            Pipeline.Workload w = new Pipeline.Workload(DISK_SIZE, 13);
            w.feed(sink, 4L << 20);
            sink.flush();
            ReplicationEndToEndTest.awaitReplicated(p);
            assertEquals(Pipeline.sha256(w.model), p.replicaSha256());
        }
    }

    // ---------------------------------------------------------------- protocol-level checks

    @Test
    void processServerAcksDuplicatesAndAsksResendOnGaps() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs();
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.AGENT, "agent-1", 1, 1);
                checkSequences(c);
            }
            await().atMost(BUDGET).until(() -> p.mt.lastApplied(Pipeline.DISK) == 2);
        }
    }

    @Test
    void masterTargetAcksDuplicatesAndAsksResendOnGaps() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt();
            try (FrameConnection c = p.tls.connect(p.mtAddress, p.psSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.PROCESS_SERVER, "ps-1", 1, 1);
                checkSequences(c);
            }
            assertEquals(2, p.mt.lastApplied(Pipeline.DISK));
        }
    }

    @Test
    void wrongProtocolVersionIsRefusedWithAReason() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs();
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                Message.HelloAck ack = hello(c, Role.AGENT, "agent-1", 2, 3);
                assertFalse(ack.accepted());
                assertTrue(ack.reason().contains("unsupported protocol version 2..3"), ack.reason());
            }
            try (FrameConnection c = p.tls.connect(p.mtAddress, p.psSecurity, Duration.ofSeconds(10))) {
                Message.HelloAck ack = hello(c, Role.AGENT, "ps-1", 1, 1);
                assertFalse(ack.accepted());
                assertTrue(ack.reason().contains("accepts process servers only"), ack.reason());
            }
            TransportSecurity stranger = p.pki.security("agent-2", id -> true);
            try (FrameConnection c = p.tls.connect(p.psAddress, stranger, Duration.ofSeconds(10))) {
                c.send(MessageCodec.encode(new Message.Hello("agent-2", Role.AGENT, List.of(), List.of())));
                assertEquals(null, c.receive(), "a peer the process server does not accept is disconnected");
            } catch (IOException refused) {
                // refused during the transport handshake: equally fine
            }
        }
    }

    @Test
    void malformedFrameIsRefusedWithAnError() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs();
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.AGENT, "agent-1", 1, 1);
                ByteBuffer bad = MessageCodec.encode(new Message.ResumeQuery(List.of()));
                bad.put(bad.limit() - 1, (byte) (bad.get(bad.limit() - 1) ^ 1));
                c.send(bad);
                Message m = MessageCodec.decode(c.receive());
                Message.ErrorMessage e = assertInstanceOf(Message.ErrorMessage.class, m);
                assertEquals(ErrorCode.MALFORMED_FRAME, e.code());
                assertTrue(e.text().contains("CRC"), e.text());
            }
        }
    }

    private static Message.HelloAck hello(FrameConnection c, Role role, String id, int min, int max) throws IOException {
        c.send(MessageCodec.encode(new Message.Hello(min, max, id, role, List.of("none"), List.of())));
        return assertInstanceOf(Message.HelloAck.class, MessageCodec.decode(c.receive()));
    }

    /** Batches 1, 1 again, 3 (gap), 2: ACK 1, ACK 1, RESEND 2, ACK 2. */
    private static void checkSequences(FrameConnection c) throws IOException {
        c.send(MessageCodec.encode(new Message.DiskInfo(Pipeline.DISK, Pipeline.group(), 1 << 20)));
        c.send(batch(1));
        assertEquals(new Message.Ack(Pipeline.DISK, 1), MessageCodec.decode(c.receive()));
        c.send(batch(1));
        assertEquals(new Message.Ack(Pipeline.DISK, 1), MessageCodec.decode(c.receive()));
        c.send(batch(3));
        Message.Resend r = assertInstanceOf(Message.Resend.class, MessageCodec.decode(c.receive()));
        assertEquals(2, r.fromSequence());
        assertEquals(ResendReason.GAP, r.reason());
        assertEquals("expected 2, got 3", r.text());
        c.send(batch(2));
        assertEquals(new Message.Ack(Pipeline.DISK, 2), MessageCodec.decode(c.receive()));
    }

    private static ByteBuffer batch(long seq) throws IOException {
        byte[] data = new byte[4096];
        new Random(seq).nextBytes(data);
        DeltaBatch b = new DeltaBatch(Pipeline.DISK, Pipeline.group(), seq, Instant.now(), Instant.now(),
                List.of(ChangeRecord.write(seq * 4096, ByteBuffer.wrap(data))), List.of());
        ByteBuffer out = ByteBuffer.allocate(BatchEncoder.maxFrameLength(b, Compressors.NONE));
        new BatchEncoder().encode(b, Compressors.NONE, out);
        return out.flip();
    }

    /**
     * A TCP proxy that flips one random bit in the process server to master target direction of
     * its first few connections, once 256 KiB have passed on that connection.
     */
    static final class FlippingProxy implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger flips = new AtomicInteger();

        FlippingProxy() throws IOException {
        }

        InetSocketAddress address() {
            return new InetSocketAddress("127.0.0.1", server.getLocalPort());
        }

        void start(InetSocketAddress target) {
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket in = server.accept();
                        Socket out = new Socket(target.getAddress(), target.getPort());
                        boolean corrupt = connections.incrementAndGet() <= 3;
                        pump(in, out, corrupt);
                        pump(out, in, false);
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "flipping-proxy");
            t.setDaemon(true);
            t.start();
        }

        private void pump(Socket from, Socket to, boolean corrupt) {
            Thread t = new Thread(() -> {
                Random r = new Random(from.getPort());
                long passed = 0;
                boolean flipped = !corrupt;
                byte[] buf = new byte[16384];
                try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
                    for (int n; (n = i.read(buf)) > 0;) {
                        if (!flipped && passed + n > 256 << 10) {
                            int at = r.nextInt(n);
                            buf[at] ^= (byte) (1 << r.nextInt(8));
                            flipped = true;
                            flips.incrementAndGet();
                        }
                        passed += n;
                        o.write(buf, 0, n);
                    }
                } catch (IOException e) {
                    // connection ended
                } finally {
                    try {
                        from.close();
                        to.close();
                    } catch (IOException ignored) {
                        // closing
                    }
                }
            }, "flipping-proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
