package org.secondsite.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;

import org.secondsite.api.appliance.Role;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Property tests of the codec: random batches and messages round-trip; every mutation of a
 * valid frame is refused with a {@link WireFormatException}; mutations that keep a valid
 * frame CRC reach the field checks and end in a decode or a checked refusal, never in another
 * exception. Try counts keep the module's tests well under 40 s on two shared cores.
 */
class WirePropertiesTest {
    private final BatchEncoder encoder = new BatchEncoder();
    private final BatchDecoder decoder = new BatchDecoder(TestCompressors.ALL);

    // ---------------------------------------------------------------- generators

    private static final String ID_FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private static final String ID_REST = ID_FIRST + "._:-";

    static Arbitrary<String> ids() {
        return Combinators.combine(
                Arbitraries.of(ID_FIRST.chars().mapToObj(c -> String.valueOf((char) c)).toList()),
                Arbitraries.strings().withChars(ID_REST).ofMaxLength(127))
                .as((a, b) -> a + b);
    }

    static Arbitrary<String> tokens(String first, String rest, int max) {
        return Combinators.combine(
                Arbitraries.of(first.chars().mapToObj(c -> String.valueOf((char) c)).toList()),
                Arbitraries.strings().withChars(rest).ofMaxLength(max - 1))
                .as((a, b) -> a + b);
    }

    static Arbitrary<Instant> micros() {
        return Arbitraries.longs().between(-(1L << 52), 1L << 52)
                .map(m -> Instant.ofEpochSecond(Math.floorDiv(m, 1_000_000L), Math.floorMod(m, 1_000_000L) * 1000L));
    }

    static Arbitrary<String> texts() {
        return Arbitraries.strings().withCharRange(' ', '~').withChars("éß日本語✓\n\t").ofMaxLength(300);
    }

    static Arbitrary<ChangeRecord> records() {
        Arbitrary<Long> offsets = Arbitraries.longs().between(0, 1L << 50);
        Arbitrary<ChangeRecord> writes = Combinators.combine(offsets, Arbitraries.integers().between(1, 16384),
                Arbitraries.longs(), Arbitraries.of(true, false))
                .as((off, len, seed, direct) -> {
                    byte[] data = MixedData.generate(new Random(seed), len);
                    ByteBuffer b = direct ? ByteBuffer.allocateDirect(len).put(data).flip() : ByteBuffer.wrap(data);
                    return ChangeRecord.write(off, b);
                });
        Arbitrary<ChangeRecord> others = Combinators.combine(offsets, Arbitraries.integers().between(1, ChangeRecord.MAX_LENGTH),
                Arbitraries.integers().between(0, 2))
                .as((off, len, k) -> switch (k) {
                    case 0 -> ChangeRecord.zero(off, len);
                    case 1 -> ChangeRecord.trim(off, len);
                    default -> ChangeRecord.dirty(off, len);
                });
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, writes), net.jqwik.api.Tuple.of(1, others));
    }

    static Arbitrary<ConsistencyTag> tags() {
        Arbitrary<String> names = Arbitraries.strings().withCharRange(' ', '~').withChars("éß日本語✓").ofMinLength(1).ofMaxLength(128);
        return Combinators.combine(Arbitraries.longs(), Arbitraries.longs(), names, Arbitraries.of(TagKind.class), micros())
                .as((hi, lo, name, kind, time) -> new ConsistencyTag(new UUID(hi, lo), name, kind, time));
    }

    @Provide
    Arbitrary<DeltaBatch> batches() {
        return Combinators.combine(ids(), ids(), Arbitraries.longs().between(1, Long.MAX_VALUE), micros(),
                Arbitraries.longs().between(0, 1L << 40), records().list().ofMaxSize(24), tags().list().ofMaxSize(3))
                .as((disk, group, seq, first, spanMicros, records, tags) -> new DeltaBatch(DiskId.of(disk), GroupId.of(group),
                        seq, first, first.plusNanos(spanMicros * 1000), records, tags));
    }

    @Provide
    Arbitrary<Compressor> compressors() {
        return Arbitraries.of(TestCompressors.IDENTITY, TestCompressors.RLE);
    }

    @Provide
    Arbitrary<Message> messages() {
        Arbitrary<String> compressor = tokens("abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789", 16);
        Arbitrary<String> token = tokens("abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789._:-", 64);
        Arbitrary<DiskId> disk = ids().map(DiskId::of);
        Arbitrary<Message> hello = Combinators.combine(Arbitraries.integers().between(1, 65535),
                Arbitraries.integers().between(0, 100), ids(), Arbitraries.of(Role.AGENT, Role.PROCESS_SERVER, Role.MASTER_TARGET),
                compressor.list().uniqueElements().ofMaxSize(16), token.list().uniqueElements().ofMaxSize(64))
                .as((min, extra, id, role, cs, caps) -> new Message.Hello(min, Math.min(65535, min + extra), id, role, cs, caps));
        Arbitrary<Message> helloAck = Combinators.combine(Arbitraries.integers().between(0, 65535), ids(),
                compressor.list().uniqueElements().ofMaxSize(16), texts())
                .as((v, id, cs, reason) -> v == 0 || reason.isEmpty()
                        ? Message.HelloAck.refuse(id, "refused: " + reason)
                        : Message.HelloAck.accept(v, id, cs));
        Arbitrary<Message> ack = Combinators.combine(disk, Arbitraries.longs().between(0, Long.MAX_VALUE)).as(Message.Ack::new);
        Arbitrary<Message> resend = Combinators.combine(disk, Arbitraries.longs().between(1, Long.MAX_VALUE),
                Arbitraries.of(ResendReason.class), texts()).as(Message.Resend::new);
        Arbitrary<Message> heartbeat = Combinators.combine(micros(),
                Arbitraries.maps(token, Arbitraries.longs()).ofMaxSize(32))
                .as((t, f) -> new Message.Heartbeat(t, new TreeMap<>(f)));
        Arbitrary<Message> error = Combinators.combine(Arbitraries.of(ErrorCode.class), texts()).as(Message.ErrorMessage::new);
        Arbitrary<Message> query = disk.list().uniqueElements().ofMaxSize(50).map(Message.ResumeQuery::new);
        Arbitrary<Message> point = Arbitraries.maps(disk, Arbitraries.longs().between(0, Long.MAX_VALUE)).ofMaxSize(50)
                .map(m -> new Message.ResumePoint(new TreeMap<>(m)));
        Arbitrary<Message> diskInfo = Combinators.combine(disk, ids(), Arbitraries.longs().between(1, Long.MAX_VALUE))
                .as((d, g, size) -> new Message.DiskInfo(d, GroupId.of(g), size));
        Arbitrary<Integer> blockSize = Arbitraries.integers().between(9, 26).map(b -> 1 << b);
        Arbitrary<List<Message.HashQuery.Range>> ranges = Combinators.combine(
                Arbitraries.longs().between(0, 1L << 40), Arbitraries.integers().between(1, 1 << 20))
                .as((gap, length) -> new long[] {gap, length})
                .list().ofMinSize(1).ofMaxSize(8).map(pairs -> {
                    List<Message.HashQuery.Range> out = new ArrayList<>();
                    long at = 0;
                    for (long[] p : pairs) {
                        at += p[0];
                        out.add(new Message.HashQuery.Range(at, (int) p[1]));
                        at += p[1];
                    }
                    return out;
                });
        Arbitrary<Message> hashQuery = Combinators.combine(Arbitraries.longs(), disk, blockSize,
                Arbitraries.longs().between(0, Long.MAX_VALUE), ranges).as(Message.HashQuery::new);
        Arbitrary<Message> hashesOk = Combinators.combine(Arbitraries.longs(), disk, blockSize,
                Arbitraries.longs().between(0, Long.MAX_VALUE), Arbitraries.integers().between(1, 300), Arbitraries.longs())
                .as((id, d, bs, applied, n, seed) -> {
                    byte[] h = new byte[n * WireProtocol.HASH_BYTES];
                    new Random(seed).nextBytes(h);
                    return new Message.Hashes(id, d, bs, applied, HashStatus.OK, "", ByteBuffer.wrap(h));
                });
        Arbitrary<Message> hashesRefused = Combinators.combine(Arbitraries.longs(), disk, blockSize,
                Arbitraries.longs().between(0, Long.MAX_VALUE), Arbitraries.of(HashStatus.RETRY, HashStatus.FAILED), texts())
                .as((id, d, bs, applied, status, text) -> new Message.Hashes(id, d, bs, applied, status,
                        "because " + text, ByteBuffer.allocate(0)));
        Arbitrary<UUID> tagId = Combinators.combine(Arbitraries.longs(), Arbitraries.longs()).as(UUID::new);
        Arbitrary<Message> tagPrepare = Combinators.combine(ids(), tags(),
                Arbitraries.integers().between(1, WireProtocol.MAX_TAG_HOLD_MILLIS))
                .as((g, t, hold) -> new Message.TagPrepare(GroupId.of(g), t, hold));
        Arbitrary<Message> tagHeld = Combinators.combine(tagId, Arbitraries.of(true, false),
                disk.list().uniqueElements().ofMaxSize(20))
                .as(Message.TagHeld::new);
        Arbitrary<Message> tagRefused = Combinators.combine(tagId, texts()).as((id, t) -> new Message.TagRefused(id,
                "refused: " + t));
        Arbitrary<Message> tagRelease = Combinators.combine(tagId, Arbitraries.of(true, false)).as(Message.TagRelease::new);
        Arbitrary<Message> tagDone = Combinators.combine(tagId, Arbitraries.of(true, false), texts())
                .as(Message.TagDone::new);
        return Arbitraries.oneOf(List.of(hello, helloAck, ack, resend, heartbeat, error, query, point, diskInfo, hashQuery,
                hashesOk, hashesRefused, tagPrepare, tagHeld, tagRefused, tagRelease, tagDone));
    }

    /** A change of a valid frame: bit flips, truncation, extension, overwritten ranges, or unrelated bytes. */
    @Provide
    Arbitrary<Mutation> mutations() {
        return Combinators.combine(Arbitraries.integers().between(0, 5), Arbitraries.longs()).as(Mutation::new);
    }

    record Mutation(int kind, long seed) {
        byte[] apply(byte[] frame) {
            Random r = new Random(seed);
            byte[] m;
            switch (kind) {
                case 0 -> { // flip 1..8 bits
                    m = frame.clone();
                    int flips = 1 + r.nextInt(8);
                    for (int i = 0; i < flips; i++) {
                        int bit = r.nextInt(m.length * 8);
                        m[bit / 8] ^= (byte) (1 << (bit % 8));
                    }
                }
                case 1 -> m = Arrays.copyOf(frame, r.nextInt(frame.length)); // truncate
                case 2 -> { // extend with random bytes
                    m = Arrays.copyOf(frame, frame.length + 1 + r.nextInt(64));
                    for (int i = frame.length; i < m.length; i++) {
                        m[i] = (byte) r.nextInt(256);
                    }
                }
                case 3 -> { // overwrite a range with random bytes
                    m = frame.clone();
                    int from = r.nextInt(m.length);
                    int to = Math.min(m.length, from + 1 + r.nextInt(32));
                    for (int i = from; i < to; i++) {
                        m[i] = (byte) r.nextInt(256);
                    }
                }
                case 4 -> { // remove a range from the middle
                    int from = r.nextInt(frame.length);
                    int len = 1 + r.nextInt(Math.min(32, frame.length - from));
                    m = new byte[frame.length - len];
                    System.arraycopy(frame, 0, m, 0, from);
                    System.arraycopy(frame, from + len, m, from, frame.length - from - len);
                }
                default -> { // unrelated random bytes, sometimes with a plausible first byte
                    m = new byte[r.nextInt(2 * frame.length + 8)];
                    r.nextBytes(m);
                    if (m.length > 0 && r.nextBoolean()) {
                        m[0] = frame[0];
                    }
                }
            }
            return m;
        }
    }

    private byte[] encode(DeltaBatch batch, Compressor compressor) throws CompressionException {
        ByteBuffer out = ByteBuffer.allocate(BatchEncoder.maxFrameLength(batch, compressor));
        encoder.encode(batch, compressor, out);
        return Frames.bytes(out.flip());
    }

    // ---------------------------------------------------------------- properties

    @Property(tries = 300)
    void batchesRoundTrip(@ForAll("batches") DeltaBatch batch, @ForAll("compressors") Compressor compressor) throws Exception {
        byte[] frame = encode(batch, compressor);
        DeltaBatch back = decoder.decode(ByteBuffer.wrap(frame));
        assertEquals(batch, back);
        BatchHeader h = BatchDecoder.readHeader(ByteBuffer.wrap(frame));
        assertEquals(batch.sequence(), h.sequence());
        assertEquals(batch.dataBytes(), h.payloadLength());
    }

    @Property(tries = 500)
    void messagesRoundTrip(@ForAll("messages") Message message) throws Exception {
        ByteBuffer frame = MessageCodec.encode(message);
        assertEquals(MessageCodec.encodedLength(message), frame.remaining());
        assertEquals(message, MessageCodec.decode(frame));
    }

    @Property(tries = 600)
    void everyMutationOfABatchFrameIsRefused(@ForAll("batches") DeltaBatch batch, @ForAll("compressors") Compressor compressor,
                                             @ForAll("mutations") Mutation mutation) throws Exception {
        byte[] frame = encode(batch, compressor);
        byte[] mutated = mutation.apply(frame);
        if (Arrays.equals(frame, mutated)) {
            return; // an overwrite that wrote the same bytes: nothing was mutated
        }
        assertThrows(WireFormatException.class, () -> decoder.decode(ByteBuffer.wrap(mutated)));
        assertThrows(WireFormatException.class, () -> BatchDecoder.readHeader(ByteBuffer.wrap(mutated)));
    }

    @Property(tries = 800)
    void everyMutationOfAMessageFrameIsRefused(@ForAll("messages") Message message, @ForAll("mutations") Mutation mutation) {
        byte[] frame = Frames.bytes(MessageCodec.encode(message));
        byte[] mutated = mutation.apply(frame);
        if (Arrays.equals(frame, mutated)) {
            return;
        }
        assertThrows(WireFormatException.class, () -> MessageCodec.decode(ByteBuffer.wrap(mutated)));
    }

    /**
     * Mutations with a recomputed frame CRC get past the CRC to the field checks: they must
     * end in a decode or a checked refusal, never in an unchecked exception or an error.
     */
    @Property(tries = 1500)
    void batchFieldChecksHoldWithoutTheCrc(@ForAll("batches") DeltaBatch batch, @ForAll("compressors") Compressor compressor,
                                           @ForAll("mutations") Mutation mutation) throws Exception {
        byte[] mutated = Frames.fixCrc(mutation.apply(encode(batch, compressor)));
        try {
            decoder.decode(ByteBuffer.wrap(mutated));
        } catch (WireFormatException | UnknownCompressorException expected) {
            // refused or held: fine
        } catch (Throwable t) {
            fail("decoder threw " + t + " instead of a checked refusal", t);
        }
        try {
            BatchDecoder.readHeader(ByteBuffer.wrap(mutated));
        } catch (WireFormatException expected) {
            // refused: fine
        } catch (Throwable t) {
            fail("readHeader threw " + t, t);
        }
    }

    @Property(tries = 2000)
    void messageFieldChecksHoldWithoutTheCrc(@ForAll("messages") Message message, @ForAll("mutations") Mutation mutation) {
        byte[] mutated = Frames.fixCrc(mutation.apply(Frames.bytes(MessageCodec.encode(message))));
        try {
            Message m = MessageCodec.decode(ByteBuffer.wrap(mutated));
            // whatever decoded must be a valid message that encodes to the same frame
            assertEquals(ByteBuffer.wrap(mutated), MessageCodec.encode(m));
        } catch (WireFormatException expected) {
            // refused: fine
        } catch (Throwable t) {
            fail("decoder threw " + t + " instead of WireFormatException", t);
        }
    }

    /** Field-level fuzz at the start of a batch frame, where counts and lengths live. */
    @Property(tries = 1500)
    void batchHeaderBytesAreCheckedBeforeUse(@ForAll("batches") DeltaBatch batch, @ForAll int position, @ForAll byte value)
            throws Exception {
        byte[] frame = encode(batch, TestCompressors.RLE);
        int limit = Math.min(frame.length - 4, 2 + 129 * 2 + 24 + 4 + 2 + 17 + 8 + 17 * 3);
        byte[] mutated = frame.clone();
        mutated[Math.floorMod(position, limit)] = value;
        Frames.fixCrc(mutated);
        try {
            DeltaBatch back = decoder.decode(ByteBuffer.wrap(mutated));
            if (Arrays.equals(frame, mutated)) {
                assertEquals(batch, back);
            }
        } catch (WireFormatException | UnknownCompressorException expected) {
            // refused or held: fine
        } catch (Throwable t) {
            fail("decoder threw " + t, t);
        }
    }

    /** The generated test data is realistic: compressible by RLE only in part, many byte values, not mostly zeros. */
    @Property(tries = 20)
    void mixedDataIsNeitherZerosNorNoise(@ForAll long seed) throws Exception {
        byte[] data = MixedData.generate(new Random(seed), 65536);
        ByteBuffer out = ByteBuffer.allocate(TestCompressors.RLE.maxCompressedLength(data.length));
        int n = TestCompressors.RLE.compress(ByteBuffer.wrap(data), out);
        int zeros = 0;
        boolean[] seen = new boolean[256];
        int distinct = 0;
        for (byte b : data) {
            zeros += b == 0 ? 1 : 0;
            if (!seen[b & 0xFF]) {
                seen[b & 0xFF] = true;
                distinct++;
            }
        }
        assertTrue(zeros < data.length / 2, zeros + " zeros");
        assertTrue(n > data.length / 4, "RLE shrank it to " + n + " bytes: too regular");
        assertTrue(distinct >= 64, distinct + " distinct byte values");
    }
}
