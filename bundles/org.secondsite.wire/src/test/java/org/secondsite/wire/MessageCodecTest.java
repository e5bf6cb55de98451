package org.secondsite.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;
import org.secondsite.api.appliance.Role;
import org.secondsite.api.model.DiskId;

class MessageCodecTest {

    private static Message roundTrip(Message m) throws WireFormatException {
        ByteBuffer frame = MessageCodec.encode(m);
        assertEquals(MessageCodec.encodedLength(m), frame.remaining(), "encodedLength is exact");
        assertEquals(m.type(), MessageCodec.type(frame));
        Message back = MessageCodec.decode(frame);
        assertEquals(0, frame.position(), "decode leaves the frame's position alone");
        return back;
    }

    @Test
    void everyControlMessageRoundTrips() throws Exception {
        List<Message> all = List.of(
                new Message.Hello(1, 3, "agent-web01", Role.AGENT, List.of("lz4", "zstd", "none"), List.of("resync.hash", "tags")),
                new Message.Hello("ps.site-a", Role.PROCESS_SERVER, List.of(), List.of()),
                Message.HelloAck.accept(1, "mt01", List.of("lz4", "none")),
                Message.HelloAck.refuse("mt01", "component agent-x is not registered"),
                new Message.Ack(DiskId.of("web01:disk0"), 0),
                new Message.Ack(DiskId.of("web01:disk0"), Long.MAX_VALUE),
                new Message.Resend(DiskId.of("d"), 42, ResendReason.GAP, "expected 42, got 44"),
                new Message.Resend(DiskId.of("d"), 7, ResendReason.UNKNOWN_COMPRESSOR, "brotli"),
                new Message.Heartbeat(Instant.parse("2025-01-02T03:04:05.123456Z"),
                        Map.of("backlog.bytes", 1L << 40, "rpo.micros", 1_500_000L, "spool.free.bytes", -1L)),
                new Message.Heartbeat(Instant.EPOCH.minusNanos(1000), Map.of()),
                new Message.ErrorMessage(ErrorCode.RECEIVER_FULL, "spool full: 0 bytes free — réessayez"),
                new Message.ResumeQuery(List.of()),
                new Message.ResumeQuery(List.of(DiskId.of("b"), DiskId.of("a"))),
                new Message.ResumePoint(Map.of(DiskId.of("b"), 3L, DiskId.of("a"), 0L)),
                new Message.DiskInfo(DiskId.of("web01:disk0"), org.secondsite.api.model.GroupId.of("web"), 64L << 30),
                new Message.HashQuery(7, DiskId.of("web01:disk0"), 65536, 41,
                        List.of(new Message.HashQuery.Range(0, 8 << 20))),
                new Message.HashQuery(-3, DiskId.of("d"), 4096, 0, List.of(new Message.HashQuery.Range(65536, 65536),
                        new Message.HashQuery.Range(196608, 100))),
                new Message.Hashes(7, DiskId.of("d"), 4096, 41, HashStatus.OK, "", ByteBuffer.wrap(new byte[32])),
                new Message.Hashes(8, DiskId.of("d"), 4096, 12, HashStatus.RETRY, "replica at 12, needs 41",
                        ByteBuffer.allocate(0)),
                new Message.TagPrepare(org.secondsite.api.model.GroupId.of("erp"), new org.secondsite.api.model.ConsistencyTag(
                        new java.util.UUID(1, 2), "nightly 日本", org.secondsite.api.model.TagKind.APPLICATION,
                        Instant.parse("2025-01-02T03:04:05.123456Z")), 2000),
                new Message.TagPrepare(org.secondsite.api.model.GroupId.of("erp"), new org.secondsite.api.model.ConsistencyTag(
                        new java.util.UUID(-1, 0), "checkpoint", org.secondsite.api.model.TagKind.CHECKPOINT,
                        Instant.EPOCH), WireProtocol.MAX_TAG_HOLD_MILLIS),
                new Message.TagHeld(new java.util.UUID(1, 2), true, List.of(DiskId.of("db01:disk0"), DiskId.of("db01:disk1"))),
                new Message.TagHeld(new java.util.UUID(1, 2), false, List.of()),
                new Message.TagRefused(new java.util.UUID(1, 2), "pre-freeze hook exit 3"),
                new Message.TagRelease(new java.util.UUID(1, 2), true),
                new Message.TagRelease(new java.util.UUID(1, 2), false),
                new Message.TagDone(new java.util.UUID(1, 2), true, ""),
                new Message.TagDone(new java.util.UUID(1, 2), false, "hold expired"));
        for (Message m : all) {
            assertEquals(m, roundTrip(m), m.toString());
        }
    }

    @Test
    void longTextsAreCutAtACharacterBoundary() throws Exception {
        String text = "é".repeat(700);
        Message.ErrorMessage m = new Message.ErrorMessage(ErrorCode.INTERNAL, text);
        assertEquals(512, m.text().length(), "1024 bytes of two-byte characters");
        assertEquals(m, roundTrip(m));
    }

    @Test
    void heartbeatTimeIsTruncatedToMicroseconds() throws Exception {
        Message.Heartbeat m = new Message.Heartbeat(Instant.parse("2025-01-02T03:04:05.123456789Z"), Map.of());
        assertEquals(Instant.parse("2025-01-02T03:04:05.123456Z"), ((Message.Heartbeat) roundTrip(m)).time());
    }

    @Test
    void invalidMessagesCannotBeBuilt() {
        assertThrows(IllegalArgumentException.class, () -> new Message.Hello("x", Role.CONFIG_SERVER, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Message.Hello("x", Role.AGENT, List.of("LZ4"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Message.Hello("x", Role.AGENT, List.of("lz4", "lz4"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Message.Hello(2, 1, "x", Role.AGENT, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Message.HelloAck(1, false, "x", List.of(), "no"));
        assertThrows(IllegalArgumentException.class, () -> new Message.HelloAck(0, false, "x", List.of(), ""));
        assertThrows(IllegalArgumentException.class, () -> new Message.Ack(DiskId.of("d"), -1));
        assertThrows(IllegalArgumentException.class, () -> new Message.Resend(DiskId.of("d"), 0, ResendReason.GAP, ""));
        assertThrows(IllegalArgumentException.class, () -> new Message.Heartbeat(Instant.MAX, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new Message.Heartbeat(Instant.EPOCH, Map.of("Bad Key", 1L)));
    }

    @Test
    void versionNegotiationPicksTheHighestCommonVersion() {
        assertEquals(OptionalInt.of(1), WireProtocol.negotiate(1, 1, 1, 5));
        assertEquals(OptionalInt.of(3), WireProtocol.negotiate(1, 3, 2, 5));
        assertEquals(OptionalInt.empty(), WireProtocol.negotiate(1, 1, 2, 5));
    }

    @Test
    void frameChecksNameWhatIsWrong() {
        byte[] hello = Frames.bytes(MessageCodec.encode(new Message.Hello("a", Role.AGENT, List.of("lz4"), List.of())));

        assertMessage("shorter than the minimum", new byte[5]);
        assertMessage("exceeds the maximum", new byte[WireProtocol.MAX_FRAME_SIZE + 1]);

        byte[] flipped = hello.clone();
        flipped[7] ^= 0x10;
        assertMessage("CRC32C mismatch", flipped);

        byte[] type = hello.clone();
        type[0] = 42;
        assertMessage("unknown message type 42", Frames.fixCrc(type));

        byte[] flags = hello.clone();
        flags[1] = 1;
        assertMessage("flags", Frames.fixCrc(flags));

        byte[] magic = hello.clone();
        magic[2] = 'X';
        assertMessage("not a SecondSite peer", Frames.fixCrc(magic));

        byte[] longer = new byte[hello.length + 1];
        System.arraycopy(hello, 0, longer, 0, hello.length - 4);
        assertMessage("1 unexpected bytes", Frames.fixCrc(longer));

        byte[] role = hello.clone();
        role[2 + 4 + 4 + 2] = 9;
        assertMessage("field 'role' at offset 12: is 9", Frames.fixCrc(role));

        byte[] count = hello.clone();
        count[13] = 17;
        assertMessage("'compressor count' at offset 13: is 17, must be 0..16", Frames.fixCrc(count));

        byte[] name = hello.clone();
        name[16] = 'Z';
        assertMessage("'compressor 0' at offset 14: byte 1 is 0x5a", Frames.fixCrc(name));

        byte[] cut = new byte[hello.length - 2];
        System.arraycopy(hello, 0, cut, 0, cut.length - 4);
        assertMessage("truncated frame", Frames.fixCrc(cut));
    }

    @Test
    void resumePointDisksMustAscend() {
        byte[] frame = Frames.bytes(MessageCodec.encode(new Message.ResumePoint(Map.of(DiskId.of("a"), 1L, DiskId.of("b"), 2L))));
        // swap the one-letter ids: 'b' comes first
        frame[5] = 'b';
        frame[15] = 'a';
        assertMessage("disks must ascend", Frames.fixCrc(frame));
    }

    @Test
    void diskInfoSizeMustBePositive() {
        assertThrows(IllegalArgumentException.class,
                () -> new Message.DiskInfo(DiskId.of("d"), org.secondsite.api.model.GroupId.of("g"), 0));
        byte[] frame = Frames.bytes(MessageCodec.encode(
                new Message.DiskInfo(DiskId.of("d"), org.secondsite.api.model.GroupId.of("g"), 1)));
        // type, flags, disk id (2 bytes), group id (2 bytes), then the 8-byte size: make it -1
        for (int i = 6; i < 14; i++) {
            frame[i] = (byte) 0xff;
        }
        assertMessage("size", Frames.fixCrc(frame));
        assertMessage("must be >= 1", Frames.fixCrc(frame));
    }

    @Test
    void batchFramesAreRefusedByTheMessageCodec() throws Exception {
        ByteBuffer out = ByteBuffer.allocate(4096);
        new BatchEncoder().encode(new org.secondsite.api.model.DeltaBatch(DiskId.of("d"),
                org.secondsite.api.model.GroupId.of("g"), 1, Instant.EPOCH, Instant.EPOCH, List.of(), List.of()),
                TestCompressors.IDENTITY, out);
        assertMessage("decoded by BatchDecoder", Frames.bytes(out.flip()));
    }

    @Test
    void hashMessagesRefuseInvalidContent() {
        DiskId d = DiskId.of("d");
        List<Message.HashQuery.Range> one = List.of(new Message.HashQuery.Range(0, 4096));
        assertThrows(IllegalArgumentException.class, () -> new Message.HashQuery(1, d, 4095, 0, one));
        assertThrows(IllegalArgumentException.class, () -> new Message.HashQuery(1, d, 256, 0, one));
        assertThrows(IllegalArgumentException.class, () -> new Message.HashQuery(1, d, 4096, -1, one));
        assertThrows(IllegalArgumentException.class, () -> new Message.HashQuery(1, d, 4096, 0, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Message.HashQuery.Range(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Message.HashQuery.Range(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Message.HashQuery(1, d, 4096, 0,
                List.of(new Message.HashQuery.Range(4096, 4096), new Message.HashQuery.Range(0, 4096))));
        assertThrows(IllegalArgumentException.class, () -> new Message.HashQuery(1, d, 512, 0,
                List.of(new Message.HashQuery.Range(0, 512 * 65537))));
        assertThrows(IllegalArgumentException.class,
                () -> new Message.Hashes(1, d, 4096, 0, HashStatus.OK, "", ByteBuffer.allocate(0)));
        assertThrows(IllegalArgumentException.class,
                () -> new Message.Hashes(1, d, 4096, 0, HashStatus.OK, "", ByteBuffer.allocate(15)));
        assertThrows(IllegalArgumentException.class,
                () -> new Message.Hashes(1, d, 4096, 0, HashStatus.RETRY, "", ByteBuffer.allocate(0)));
        assertThrows(IllegalArgumentException.class,
                () -> new Message.Hashes(1, d, 4096, 0, HashStatus.FAILED, "x", ByteBuffer.allocate(16)));
    }

    @Test
    void hashQueryChecksNameWhatIsWrong() {
        Message.HashQuery q = new Message.HashQuery(1, DiskId.of("d"), 4096, 5,
                List.of(new Message.HashQuery.Range(0, 8192), new Message.HashQuery.Range(8192, 4096)));
        byte[] frame = Frames.bytes(MessageCodec.encode(q));
        // layout: type, flags, request id (2..9), disk id (10..11), block size (12..15), after (16..23),
        // range count (24..25), range 0 offset (26..33) and length (34..37), range 1 (38..49)
        byte[] bs = frame.clone();
        ByteBuffer.wrap(bs).putInt(12, 3000);
        assertMessage("'block size' at offset 12: is 3000, must be a power of two 512..67108864", Frames.fixCrc(bs));
        byte[] after = frame.clone();
        ByteBuffer.wrap(after).putLong(16, -2);
        assertMessage("'after sequence' at offset 16: is -2", Frames.fixCrc(after));
        byte[] count = frame.clone();
        ByteBuffer.wrap(count).putShort(24, (short) 0);
        assertMessage("'range count' at offset 24: is 0, must be 1..4096", Frames.fixCrc(count));
        byte[] many = frame.clone();
        ByteBuffer.wrap(many).putShort(24, (short) 4000);
        assertMessage("4000 ranges need 48000 bytes", Frames.fixCrc(many));
        byte[] overlap = frame.clone();
        ByteBuffer.wrap(overlap).putLong(38, 4096);
        assertMessage("'range 1 offset' at offset 38: is 4096, must be >= 8192", Frames.fixCrc(overlap));
        byte[] zero = frame.clone();
        ByteBuffer.wrap(zero).putInt(34, 0);
        assertMessage("'range 0 length' at offset 34: is 0, must be 1..1073741824", Frames.fixCrc(zero));
        byte[] huge = Frames.bytes(MessageCodec.encode(new Message.HashQuery(1, DiskId.of("d"), 512, 0,
                List.of(new Message.HashQuery.Range(0, 512)))));
        ByteBuffer.wrap(huge).putInt(34, 512 * 65536 + 1);
        assertMessage("at most 65536 may be asked", Frames.fixCrc(huge));
    }

    @Test
    void hashesChecksNameWhatIsWrong() {
        Message.Hashes h = new Message.Hashes(9, DiskId.of("d"), 4096, 3, HashStatus.OK, "", ByteBuffer.allocate(32));
        byte[] frame = Frames.bytes(MessageCodec.encode(h));
        // type, flags, request id (2..9), disk (10..11), block size (12..15), applied (16..23), status (24),
        // text length (25..26), hash count (27..30), hashes
        byte[] status = frame.clone();
        status[24] = 7;
        assertMessage("'status' at offset 24: is 7, must be 0 (ok), 1 (retry) or 2 (failed)", Frames.fixCrc(status));
        byte[] retry = frame.clone();
        retry[24] = 1;
        assertMessage("a RETRY answer carries no hash and a non-empty text", Frames.fixCrc(retry));
        byte[] count = frame.clone();
        ByteBuffer.wrap(count).putInt(27, 65537);
        assertMessage("'hash count' at offset 27: is 65537, must be 0..65536", Frames.fixCrc(count));
        byte[] more = frame.clone();
        ByteBuffer.wrap(more).putInt(27, 3);
        assertMessage("'hashes' at offset 31: needs 48 bytes, only 32 left", Frames.fixCrc(more));
        byte[] fewer = frame.clone();
        ByteBuffer.wrap(fewer).putInt(27, 1);
        assertMessage("16 unexpected bytes", Frames.fixCrc(fewer));
    }

    @Test
    void relayedHashMessagesKeepEverythingButTheRequestId() throws Exception {
        Message.HashQuery q = new Message.HashQuery(1, DiskId.of("d"), 4096, 5, List.of(new Message.HashQuery.Range(0, 1)));
        assertEquals(new Message.HashQuery(99, DiskId.of("d"), 4096, 5, q.ranges()), roundTrip(q.withRequestId(99)));
        byte[] raw = new byte[48];
        new java.util.Random(3).nextBytes(raw);
        Message.Hashes h = new Message.Hashes(1, DiskId.of("d"), 4096, 5, HashStatus.OK, "", ByteBuffer.wrap(raw));
        Message.Hashes back = (Message.Hashes) roundTrip(h.withRequestId(77));
        assertEquals(77, back.requestId());
        assertEquals(3, back.count());
        assertEquals(ByteBuffer.wrap(raw), back.hashes());
        assertEquals(3, q.withRequestId(2).blockCount() + 2);
    }

    @Test
    void tagMessagesRefuseInvalidContent() {
        java.util.UUID id = new java.util.UUID(1, 2);
        org.secondsite.api.model.ConsistencyTag tag = new org.secondsite.api.model.ConsistencyTag(id, "t",
                org.secondsite.api.model.TagKind.BOOKMARK, Instant.EPOCH);
        org.secondsite.api.model.GroupId g = org.secondsite.api.model.GroupId.of("g");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Message.TagPrepare(g, tag, 0));
        assertTrue(e.getMessage().contains("hold must be 1..60000 ms: 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Message.TagPrepare(g, tag, 60_001));
        e = assertThrows(IllegalArgumentException.class, () -> new Message.TagRefused(id, ""));
        assertTrue(e.getMessage().contains("TAG_REFUSED carries a text saying why"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Message.TagHeld(id, true, List.of(DiskId.of("a"),
                DiskId.of("a"))));
        assertTrue(e.getMessage().contains("duplicate disk"), e.getMessage());
        org.secondsite.api.model.ConsistencyTag surrogate = new org.secondsite.api.model.ConsistencyTag(id, "a\ud800",
                org.secondsite.api.model.TagKind.BOOKMARK, Instant.EPOCH);
        assertThrows(IllegalArgumentException.class, () -> new Message.TagPrepare(g, surrogate, 1));
    }

    @Test
    void tagMessageDecodingNamesWhatIsWrong() throws Exception {
        byte[] release = Frames.bytes(MessageCodec.encode(new Message.TagRelease(new java.util.UUID(1, 2), true)));
        release[2 + 16] = 2; // commit flag
        assertMessage("commit", Frames.fixCrc(release));
        byte[] prepare = Frames.bytes(MessageCodec.encode(new Message.TagPrepare(org.secondsite.api.model.GroupId.of("g"),
                new org.secondsite.api.model.ConsistencyTag(new java.util.UUID(1, 2), "t",
                        org.secondsite.api.model.TagKind.BOOKMARK, Instant.EPOCH), 5)));
        prepare[2 + 16 + 2] = 9; // kind
        assertMessage("must be 0 (application), 1 (bookmark), 2 (planned failover) or 3 (checkpoint)",
                Frames.fixCrc(prepare));
        prepare[2 + 16 + 2] = 3;
        java.nio.ByteBuffer.wrap(prepare).putInt(2 + 16 + 2 + 1 + 8, 60_001); // hold
        assertMessage("hold millis", Frames.fixCrc(prepare));
    }

    @Test
    void encodeRefusesTooSmallBuffers() {
        Message m = new Message.Ack(DiskId.of("disk"), 1);
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(m, ByteBuffer.allocate(10)));
    }

    private static void assertMessage(String expected, byte[] frame) {
        WireFormatException e = assertThrows(WireFormatException.class, () -> MessageCodec.decode(ByteBuffer.wrap(frame)));
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should contain '" + expected + "'");
    }
}
