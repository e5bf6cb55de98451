package org.secondsite.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

class BatchCodecTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00.000001Z");
    private final BatchEncoder encoder = new BatchEncoder();
    private final BatchDecoder decoder = new BatchDecoder(TestCompressors.ALL);

    private static DeltaBatch sample(Random random) {
        List<ChangeRecord> records = new ArrayList<>();
        records.add(ChangeRecord.write(0, ByteBuffer.wrap(MixedData.generate(random, 4096))));
        records.add(ChangeRecord.zero(4096, 1 << 20));
        records.add(ChangeRecord.write(8192, ByteBuffer.wrap(MixedData.generate(random, 65536))));
        records.add(ChangeRecord.trim(1L << 40, ChangeRecord.MAX_LENGTH));
        records.add(ChangeRecord.dirty(12345, 512));
        ByteBuffer direct = ByteBuffer.allocateDirect(1000);
        direct.put(MixedData.generate(random, 1000)).flip();
        records.add(ChangeRecord.write(Long.MAX_VALUE - 1000, direct));
        List<ConsistencyTag> tags = List.of(
                new ConsistencyTag(UUID.randomUUID(), "sql-daily 日本 ✓", TagKind.APPLICATION, T0.plusSeconds(1)),
                new ConsistencyTag(UUID.randomUUID(), "before upgrade", TagKind.BOOKMARK, T0.plusSeconds(2)));
        return new DeltaBatch(DiskId.of("web01:disk0"), GroupId.of("web-tier"), 17, T0, T0.plusMillis(900), records, tags);
    }

    private byte[] encode(DeltaBatch batch, Compressor compressor) throws CompressionException {
        ByteBuffer out = ByteBuffer.allocate(BatchEncoder.maxFrameLength(batch, compressor));
        int n = encoder.encode(batch, compressor, out);
        assertEquals(n, out.position());
        return Frames.bytes(out.flip());
    }

    @Test
    void batchesRoundTripWithEveryRecordKindAndTags() throws Exception {
        DeltaBatch batch = sample(new Random(1));
        for (Compressor c : List.of(TestCompressors.IDENTITY, TestCompressors.RLE)) {
            DeltaBatch back = decoder.decode(ByteBuffer.wrap(encode(batch, c)));
            assertEquals(batch, back, c.name());
            for (int i = 0; i < batch.records().size(); i++) {
                if (batch.records().get(i).hasData()) {
                    assertEquals(batch.records().get(i).data(), back.records().get(i).data(), "record " + i + " bytes");
                }
            }
        }
    }

    @Test
    void directAndLittleEndianBuffersWork() throws Exception {
        DeltaBatch batch = sample(new Random(2));
        ByteBuffer out = ByteBuffer.allocateDirect(BatchEncoder.maxFrameLength(batch, TestCompressors.RLE) + 100)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.position(100);
        int n = encoder.encode(batch, TestCompressors.RLE, out);
        out.flip().position(100);
        assertEquals(n, out.remaining());
        ByteBuffer[] allocated = new ByteBuffer[1];
        DeltaBatch back = decoder.decode(out, len -> allocated[0] = ByteBuffer.allocateDirect(len));
        assertEquals(batch, back);
        assertEquals(100, out.position(), "frame untouched");
        assertTrue(back.records().get(0).data().isDirect(), "record data is a slice of the caller's payload buffer");
        assertEquals(batch.dataBytes(), allocated[0].capacity());
    }

    @Test
    void encoderReusesItsScratchAcrossBatches() throws Exception {
        Random random = new Random(3);
        for (int i = 0; i < 5; i++) {
            DeltaBatch b = sample(random);
            assertEquals(b, decoder.decode(ByteBuffer.wrap(encode(b, TestCompressors.RLE))));
        }
    }

    @Test
    void recompressYieldsTheSameBatchUnderAnotherCompressor() throws Exception {
        DeltaBatch batch = sample(new Random(11));
        var all = Compressors.withNone(TestCompressors.ALL);
        for (Compressor from : List.of(Compressors.NONE, TestCompressors.IDENTITY, TestCompressors.RLE)) {
            for (boolean direct : new boolean[] {false, true}) {
                ByteBuffer frame = ByteBuffer.wrap(encode(batch, from));
                int max = BatchEncoder.maxRecompressedLength(frame, TestCompressors.RLE);
                ByteBuffer out = direct ? ByteBuffer.allocateDirect(max) : ByteBuffer.allocate(max);
                int n = encoder.recompress(frame, all, TestCompressors.RLE, out);
                assertEquals(n, out.position());
                out.flip();
                assertEquals("rle", BatchDecoder.readHeader(out).compressor());
                DeltaBatch back = decoder.decode(out);
                assertEquals(batch, back, from.name());
                for (int i = 0; i < batch.records().size(); i++) {
                    if (batch.records().get(i).hasData()) {
                        assertEquals(batch.records().get(i).data(), back.records().get(i).data(), "record " + i);
                    }
                }
            }
        }
    }

    @Test
    void recompressChecksRecordCrcsAndKnowsItsCompressors() throws Exception {
        DeltaBatch batch = sample(new Random(12));
        byte[] frame = encode(batch, Compressors.NONE);
        BatchHeader h = BatchDecoder.readHeader(ByteBuffer.wrap(frame));
        int payloadAt = frame.length - 4 - h.compressedLength();
        frame[payloadAt + 10] ^= 1; // damage record 0's data, then make the frame CRC right again
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(frame, 0, frame.length - 4);
        ByteBuffer.wrap(frame).putInt(frame.length - 4, (int) crc.getValue());
        ByteBuffer out = ByteBuffer.allocate(BatchEncoder.maxRecompressedLength(ByteBuffer.wrap(frame), TestCompressors.RLE));
        RecordChecksumException e = assertThrows(RecordChecksumException.class, () -> encoder.recompress(
                ByteBuffer.wrap(frame), Compressors.withNone(TestCompressors.ALL), TestCompressors.RLE, out));
        assertEquals(0, e.recordIndex());
        byte[] rle = encode(batch, TestCompressors.RLE);
        assertThrows(UnknownCompressorException.class, () -> encoder.recompress(ByteBuffer.wrap(rle),
                Map.of("copy", TestCompressors.IDENTITY)::get, TestCompressors.IDENTITY, ByteBuffer.allocate(1 << 20)));
    }

    @Test
    void readHeaderNeedsNoCompressor() throws Exception {
        DeltaBatch batch = sample(new Random(4));
        byte[] frame = encode(batch, TestCompressors.RLE);
        BatchHeader h = BatchDecoder.readHeader(ByteBuffer.wrap(frame));
        assertEquals(batch.disk(), h.disk());
        assertEquals(batch.group(), h.group());
        assertEquals(17, h.sequence());
        assertEquals(T0, h.firstWrite());
        assertEquals(6, h.recordCount());
        assertEquals(2, h.tagCount());
        assertEquals("rle", h.compressor());
        assertEquals(batch.dataBytes(), h.payloadLength());
    }

    @Test
    void unknownCompressorIsDistinctAndCarriesTheHeader() throws Exception {
        DeltaBatch batch = sample(new Random(5));
        byte[] frame = encode(batch, TestCompressors.RLE);
        BatchDecoder lacking = new BatchDecoder(Map.of("copy", TestCompressors.IDENTITY)::get);
        UnknownCompressorException e = assertThrows(UnknownCompressorException.class,
                () -> lacking.decode(ByteBuffer.wrap(frame)));
        assertEquals("rle", e.compressorName());
        assertEquals(17, e.header().sequence());
        assertTrue(e.getMessage().contains("'rle'"), e.getMessage());
    }

    @Test
    void batchWithoutDataNeedsNoCompressor() throws Exception {
        DeltaBatch batch = new DeltaBatch(DiskId.of("d"), GroupId.of("g"), 1, T0, T0,
                List.of(ChangeRecord.zero(0, 4096)),
                List.of(new ConsistencyTag(UUID.randomUUID(), "t", TagKind.PLANNED_FAILOVER, T0)));
        byte[] frame = encode(batch, TestCompressors.RLE);
        BatchDecoder none = new BatchDecoder(name -> null);
        assertEquals(batch, none.decode(ByteBuffer.wrap(frame)));
    }

    @Test
    void recordChecksumMismatchNamesTheRecord() throws Exception {
        DeltaBatch batch = sample(new Random(6));
        byte[] frame = encode(batch, TestCompressors.IDENTITY);
        // the identity payload sits right before the CRC; corrupt the last data byte (record 5)
        frame[frame.length - 5] ^= 1;
        RecordChecksumException e = assertThrows(RecordChecksumException.class,
                () -> decoder.decode(ByteBuffer.wrap(Frames.fixCrc(frame))));
        assertEquals(5, e.recordIndex());
        assertEquals(17, e.header().sequence());
    }

    @Test
    void payloadThatDoesNotDecompressIsAWireFormatException() throws Exception {
        DeltaBatch batch = sample(new Random(7));
        byte[] frame = encode(batch, TestCompressors.RLE);
        frame[frame.length - 6] = 0; // a run of length 0 is malformed RLE
        WireFormatException e = assertThrows(WireFormatException.class,
                () -> decoder.decode(ByteBuffer.wrap(Frames.fixCrc(frame))));
        assertTrue(e.getMessage().contains("does not decompress with 'rle'"), e.getMessage());
        assertTrue(e.getCause() instanceof CompressionException);
    }

    @Test
    void compressorThatThrowsUncheckedIsContained() throws Exception {
        DeltaBatch batch = sample(new Random(8));
        byte[] frame = encode(batch, TestCompressors.RLE);
        Compressor broken = new Compressor() {
            public String name() {
                return "rle";
            }

            public int maxCompressedLength(int length) {
                return length;
            }

            public int compress(ByteBuffer src, ByteBuffer dst) {
                throw new IllegalStateException("this fake only decodes");
            }

            public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) {
                throw new IndexOutOfBoundsException("plugin bug");
            }
        };
        assertThrows(WireFormatException.class, () -> new BatchDecoder(n -> broken).decode(ByteBuffer.wrap(frame)));
        assertThrows(CompressionException.class, () -> encoder.encode(batch, broken, ByteBuffer.allocate(1 << 20)));
    }

    @Test
    void fieldChecksOfTheBatchHeader() throws Exception {
        DeltaBatch batch = new DeltaBatch(DiskId.of("d"), GroupId.of("g"), 5, T0, T0,
                List.of(ChangeRecord.write(0, ByteBuffer.wrap(new byte[] {1, 2, 3}))), List.of());
        byte[] frame = encode(batch, TestCompressors.IDENTITY);
        // layout: 0 type, 1 flags, 2 len 'd', 4 len 'g', 6 sequence, 14 first, 22 last, 30 records, 34 tags,
        // 36 len "copy", 41 payload length, 45 compressed length, 49 record 0
        byte[] seq = frame.clone();
        ByteBuffer.wrap(seq).putLong(6, 0);
        assertBatchError("field 'sequence' at offset 6: is 0, must be >= 1", seq);

        byte[] time = frame.clone();
        ByteBuffer.wrap(time).putLong(22, 0);
        assertBatchError("field 'last write' at offset 22", time);

        byte[] records = frame.clone();
        ByteBuffer.wrap(records).putInt(30, WireProtocol.MAX_RECORDS + 1);
        assertBatchError("field 'record count' at offset 30: is 65537, must be 0..65536", records);

        byte[] tableTooLong = frame.clone();
        ByteBuffer.wrap(tableTooLong).putInt(30, 1000);
        assertBatchError("truncated frame", tableTooLong);

        byte[] payload = frame.clone();
        ByteBuffer.wrap(payload).putInt(41, WireProtocol.MAX_PAYLOAD + 1);
        assertBatchError("'payload length' at offset 41", payload);

        byte[] sum = frame.clone();
        ByteBuffer.wrap(sum).putInt(41, 4);
        assertBatchError("WRITE records hold 3 bytes of data, the header's payload length says 4", sum);

        byte[] kind = frame.clone();
        kind[49] = 9;
        assertBatchError("record 0 at offset 49: kind is 9", kind);

        byte[] offset = frame.clone();
        ByteBuffer.wrap(offset).putLong(50, -5);
        assertBatchError("offset is -5", offset);

        byte[] compressed = frame.clone();
        ByteBuffer.wrap(compressed).putInt(45, 2);
        assertBatchError("the header says 2 compressed bytes, the frame has 3 left", compressed);

        byte[] group = frame.clone();
        group[5] = '-';
        assertBatchError("field 'group id' at offset 4: byte 0 is 0x2d", group);
    }

    @Test
    void encoderRefusesBatchesBeyondTheLimits() {
        List<ChangeRecord> many = new ArrayList<>();
        for (int i = 0; i <= WireProtocol.MAX_RECORDS; i++) {
            many.add(ChangeRecord.zero(i * 512L, 512));
        }
        DeltaBatch tooMany = new DeltaBatch(DiskId.of("d"), GroupId.of("g"), 1, T0, T0, many, List.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> encoder.encode(tooMany, TestCompressors.IDENTITY, ByteBuffer.allocate(WireProtocol.MAX_FRAME_SIZE)));
        assertTrue(e.getMessage().contains("split it"), e.getMessage());

        DeltaBatch tooBig = new DeltaBatch(DiskId.of("d"), GroupId.of("g"), 1, T0, T0,
                List.of(ChangeRecord.write(0, ByteBuffer.allocate(WireProtocol.MAX_PAYLOAD + 1))), List.of());
        assertThrows(IllegalArgumentException.class,
                () -> encoder.encode(tooBig, TestCompressors.IDENTITY, ByteBuffer.allocate(WireProtocol.MAX_FRAME_SIZE)));

        DeltaBatch ok = sample(new Random(9));
        assertThrows(IllegalArgumentException.class, () -> encoder.encode(ok, TestCompressors.IDENTITY, ByteBuffer.allocate(100)));
    }

    @Test
    void largestBatchFitsInTheLargestFrame() throws Exception {
        List<ChangeRecord> records = new ArrayList<>();
        byte[] data = MixedData.generate(new Random(10), WireProtocol.MAX_PAYLOAD);
        int chunk = WireProtocol.MAX_PAYLOAD / (WireProtocol.MAX_RECORDS / 2);
        for (int i = 0; i < WireProtocol.MAX_RECORDS / 2; i++) {
            records.add(ChangeRecord.write((long) i * chunk, ByteBuffer.wrap(data, i * chunk, chunk)));
            records.add(ChangeRecord.dirty((long) i * chunk, 1));
        }
        List<ConsistencyTag> tags = new ArrayList<>();
        for (int i = 0; i < WireProtocol.MAX_TAGS; i++) {
            tags.add(new ConsistencyTag(UUID.randomUUID(), "日".repeat(128), TagKind.BOOKMARK, T0));
        }
        String longId = "x".repeat(128);
        DeltaBatch batch = new DeltaBatch(DiskId.of(longId), GroupId.of(longId), Long.MAX_VALUE, T0, T0, records, tags);
        int max = BatchEncoder.maxFrameLength(batch, TestCompressors.IDENTITY);
        assertTrue(max <= WireProtocol.MAX_FRAME_SIZE, "bound " + max);
        byte[] frame = encode(batch, TestCompressors.IDENTITY);
        DeltaBatch back = decoder.decode(ByteBuffer.wrap(frame));
        assertEquals(batch, back);
        ByteBuffer joined = ByteBuffer.allocate(WireProtocol.MAX_PAYLOAD);
        back.records().stream().filter(ChangeRecord::hasData).forEach(r -> joined.put(r.data()));
        assertArrayEquals(data, joined.array());
    }

    private void assertBatchError(String expected, byte[] frame) {
        WireFormatException e = assertThrows(WireFormatException.class,
                () -> decoder.decode(ByteBuffer.wrap(Frames.fixCrc(frame))));
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should contain '" + expected + "'");
        assertThrows(WireFormatException.class, () -> BatchDecoder.readHeader(ByteBuffer.wrap(frame)));
    }
}
