package org.secondsite.mastertarget.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.appliance.Role;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.wire.BlockHashes;
import org.secondsite.wire.ErrorCode;
import org.secondsite.wire.HashStatus;
import org.secondsite.wire.Message;
import org.secondsite.wire.MessageCodec;
import org.secondsite.wire.WireProtocol;

/** HASH_QUERY and HASHES at the process server and the master target, spoken by hand: answers and refusals. */
class ResyncProtocolTest {
    static final List<String> RESYNC = List.of(WireProtocol.CAPABILITY_RESYNC_HASH);

    @TempDir
    Path dir;

    private static void hello(FrameConnection c, Role role, String id, List<String> capabilities) throws IOException {
        c.send(MessageCodec.encode(new Message.Hello(id, role, List.of("none"), capabilities)));
        assertTrue(assertInstanceOf(Message.HelloAck.class, MessageCodec.decode(c.receive())).accepted());
    }

    /** The next message that is not a heartbeat or an ACK. */
    private static Message next(FrameConnection c) throws IOException {
        while (true) {
            Message m = MessageCodec.decode(c.receive());
            if (!(m instanceof Message.Heartbeat) && !(m instanceof Message.Ack)) {
                return m;
            }
        }
    }

    private static void assertError(FrameConnection c, ErrorCode code, String text) throws IOException {
        Message.ErrorMessage e = assertInstanceOf(Message.ErrorMessage.class, next(c));
        assertEquals(code, e.code(), e.text());
        assertTrue(e.text().contains(text), "'" + e.text() + "' should contain '" + text + "'");
    }

    private static Message.HashQuery query(long id, long after, long offset, int length) {
        return new Message.HashQuery(id, Pipeline.DISK, 4096, after, List.of(new Message.HashQuery.Range(offset, length)));
    }

    @Test
    void processServerRelaysAQueryAndRoutesTheAnswerBack() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs();
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.AGENT, "agent-1", RESYNC);
                c.send(MessageCodec.encode(new Message.DiskInfo(Pipeline.DISK, Pipeline.group(), 1 << 20)));
                // until the process server is connected to the master target it answers RETRY (tested below)
                await().atMost(Duration.ofSeconds(30)).until(() -> p.ps.disks().size() == 1
                        && p.ps.disks().get(0).state().equals("replicating"));
                c.send(MessageCodec.encode(query(77, 0, 8192, 3 * 4096 + 10)));
                Message.Hashes h = assertInstanceOf(Message.Hashes.class, next(c));
                assertEquals(77, h.requestId(), "the agent's own request id comes back");
                assertEquals(HashStatus.OK, h.status(), h.text());
                assertEquals(4, h.count());
                byte[] zeros = new byte[4096];
                byte[] want = new byte[16];
                new BlockHashes().hash(zeros, 0, 4096, 4096, want, 0);
                byte[] got = new byte[16];
                h.hashes().get(got);
                assertTrue(Arrays.equals(want, got), "a new replica reads as zeros");
            }
        }
    }

    @Test
    void processServerRefusesQueriesItMayNotRelay() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt().startPs();
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.AGENT, "agent-1", List.of());
                c.send(MessageCodec.encode(new Message.DiskInfo(Pipeline.DISK, Pipeline.group(), 1 << 20)));
                c.send(MessageCodec.encode(query(1, 0, 0, 4096)));
                assertError(c, ErrorCode.PROTOCOL_VIOLATION, "did not list capability resync.hash");
            }
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.AGENT, "agent-1", RESYNC);
                c.send(MessageCodec.encode(new Message.HashQuery(1, org.secondsite.api.model.DiskId.of("other"), 4096, 0,
                        List.of(new Message.HashQuery.Range(0, 4096)))));
                assertError(c, ErrorCode.PROTOCOL_VIOLATION, "HASH_QUERY of disk other before its DISK_INFO");
            }
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.AGENT, "agent-1", RESYNC);
                c.send(MessageCodec.encode(Message.Hashes.refuse(query(1, 0, 0, 4096), HashStatus.RETRY, 0, "x")));
                assertError(c, ErrorCode.PROTOCOL_VIOLATION, "HASHES is not expected from an agent");
            }
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.AGENT, "agent-1", RESYNC);
                ByteBuffer bad = MessageCodec.encode(query(1, 0, 0, 4096));
                bad.putInt(2 + 8 + 1 + Pipeline.DISK.value().length(), 1000); // block size
                c.send(ByteBuffer.wrap(fixCrc(bad)));
                assertError(c, ErrorCode.MALFORMED_FRAME, "'block size'");
            }
        }
    }

    @Test
    void withoutAMasterTargetTheProcessServerAnswersRetry() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.startMt();
            p.mt.close();
            p.startPs();
            try (FrameConnection c = p.tls.connect(p.psAddress, p.agentSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.AGENT, "agent-1", RESYNC);
                c.send(MessageCodec.encode(new Message.DiskInfo(Pipeline.DISK, Pipeline.group(), 1 << 20)));
                c.send(MessageCodec.encode(query(5, 0, 0, 4096)));
                Message.Hashes h = assertInstanceOf(Message.Hashes.class, next(c));
                assertEquals(5, h.requestId());
                assertEquals(HashStatus.RETRY, h.status());
                assertTrue(h.text().contains("not connected to the master target"), h.text());
            }
        }
    }

    @Test
    void masterTargetAnswersRetryWhenTheSequenceIsNotAppliedInTimeAndFailedBeyondTheReplica() throws Exception {
        try (Pipeline p = new Pipeline(dir)) {
            p.mtTweak = o -> o.withHashing(1, Duration.ofMillis(300));
            p.startMt();
            try (FrameConnection c = p.tls.connect(p.mtAddress, p.psSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.PROCESS_SERVER, "ps-1", RESYNC);
                c.send(MessageCodec.encode(new Message.DiskInfo(Pipeline.DISK, Pipeline.group(), 1 << 20)));
                c.send(MessageCodec.encode(query(1, 5, 0, 4096)));
                Message.Hashes h = assertInstanceOf(Message.Hashes.class, next(c));
                assertEquals(HashStatus.RETRY, h.status());
                assertTrue(h.text().contains("has applied sequence 0, the query needs 5; not reached within"), h.text());
                c.send(MessageCodec.encode(query(2, 0, (1 << 20) - 4096, 8192)));
                h = assertInstanceOf(Message.Hashes.class, next(c));
                assertEquals(HashStatus.FAILED, h.status());
                assertTrue(h.text().contains("ends beyond its replica of 1048576 bytes"), h.text());
                c.send(MessageCodec.encode(query(3, 0, 0, 4096)));
                h = assertInstanceOf(Message.Hashes.class, next(c));
                assertEquals(HashStatus.OK, h.status());
                assertEquals(3, h.requestId());
            }
            try (FrameConnection c = p.tls.connect(p.mtAddress, p.psSecurity, Duration.ofSeconds(10))) {
                hello(c, Role.PROCESS_SERVER, "ps-1", List.of());
                c.send(MessageCodec.encode(query(1, 0, 0, 4096)));
                assertError(c, ErrorCode.PROTOCOL_VIOLATION, "did not list capability resync.hash");
            }
        }
    }

    private static byte[] fixCrc(ByteBuffer frame) {
        byte[] b = new byte[frame.remaining()];
        frame.duplicate().get(b);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, 0, b.length - 4);
        ByteBuffer.wrap(b).putInt(b.length - 4, (int) crc.getValue());
        return b;
    }
}
