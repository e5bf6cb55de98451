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
                new Message.DiskInfo(DiskId.of("web01:disk0"), org.secondsite.api.model.GroupId.of("web"), 64L << 30));
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
    void encodeRefusesTooSmallBuffers() {
        Message m = new Message.Ack(DiskId.of("disk"), 1);
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(m, ByteBuffer.allocate(10)));
    }

    private static void assertMessage(String expected, byte[] frame) {
        WireFormatException e = assertThrows(WireFormatException.class, () -> MessageCodec.decode(ByteBuffer.wrap(frame)));
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should contain '" + expected + "'");
    }
}
