package org.secondsite.wire;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.zip.CRC32C;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.wire.internal.Codes;
import org.secondsite.wire.internal.Fields;
import org.secondsite.wire.internal.WireReader;

/**
 * Decodes BATCH frames (docs/PROTOCOL.md §3.3). Every field is checked before it is used;
 * malformed input ends in a {@link WireFormatException}, never in another exception or an
 * allocation sized by an unchecked length. The payload is decompressed once into one buffer
 * and each record's data is a slice of it.
 *
 * <p>Thread-safe if the compressor lookup is.
 */
public final class BatchDecoder {
    private final Function<String, Compressor> compressors;

    /**
     * @param compressors finds a compressor by name, {@code null} if there is none of that name
     *        (e.g. {@code Map::get} over the registered compressor services)
     */
    public BatchDecoder(Function<String, Compressor> compressors) {
        this.compressors = Objects.requireNonNull(compressors, "compressors");
    }

    /**
     * Checks a whole BATCH frame (CRC, header, record table, tags, lengths) without
     * decompressing it and returns its header: what a process server needs to route and
     * spool the frame as it is.
     */
    public static BatchHeader readHeader(ByteBuffer frame) throws WireFormatException {
        return parse(frame).header;
    }

    /** Decodes a BATCH frame into a fresh heap buffer for the record data. */
    public DeltaBatch decode(ByteBuffer frame) throws WireFormatException, UnknownCompressorException {
        return decode(frame, ByteBuffer::allocate);
    }

    /**
     * Decodes a BATCH frame. {@code frame} (position to limit) is not modified and may be
     * reused once this returns: the records' data lives in a buffer from
     * {@code payloadBuffers}, which is asked once, for exactly the payload length (at most
     * {@link WireProtocol#MAX_PAYLOAD}), and only if the batch carries data.
     *
     * @throws UnknownCompressorException if the payload's compressor is not found (the frame
     *         is valid: hold it or ask for a resend)
     * @throws RecordChecksumException if a record's data fails its CRC32C
     * @throws WireFormatException if the frame is malformed or does not decompress
     */
    public DeltaBatch decode(ByteBuffer frame, IntFunction<ByteBuffer> payloadBuffers)
            throws WireFormatException, UnknownCompressorException {
        Parsed p = parse(frame);
        BatchHeader h = p.header;
        ByteBuffer payload = null;
        if (h.payloadLength() > 0) {
            Compressor compressor = compressors.apply(h.compressor());
            if (compressor == null) {
                throw new UnknownCompressorException(h);
            }
            ByteBuffer target = payloadBuffers.apply(h.payloadLength());
            if (target == null || target.isReadOnly() || target.remaining() < h.payloadLength()) {
                throw new IllegalArgumentException("payload buffer for " + h.payloadLength() + " bytes is "
                        + (target == null ? "null" : target.isReadOnly() ? "read-only" : "too small: " + target.remaining()));
            }
            payload = target.slice(target.position(), h.payloadLength());
            try {
                compressor.decompress(p.compressed, payload, h.payloadLength());
            } catch (CompressionException | RuntimeException e) {
                throw new WireFormatException("BATCH " + h.disk() + " seq " + h.sequence() + ": payload of "
                        + h.compressedLength() + " bytes does not decompress with '" + h.compressor() + "' to "
                        + h.payloadLength() + " bytes: " + e.getMessage(), e);
            }
            if (payload.position() != h.payloadLength()) {
                throw new WireFormatException("BATCH " + h.disk() + " seq " + h.sequence() + ": compressor '"
                        + h.compressor() + "' produced " + payload.position() + " bytes, expected " + h.payloadLength());
            }
        }

        WireReader r = p.reader;
        CRC32C crc = new CRC32C();
        List<ChangeRecord> records = new ArrayList<>(h.recordCount());
        int dataOffset = 0;
        for (int i = 0; i < h.recordCount(); i++) {
            int at = p.recordsAt + i * WireProtocol.RECORD_ENTRY_SIZE;
            ChangeKind kind = Codes.changeKind(r.u8At(at));
            long offset = r.longAt(at + 1);
            int length = r.intAt(at + 9);
            switch (kind) {
                case WRITE -> {
                    ByteBuffer data = payload.slice(dataOffset, length);
                    crc.reset();
                    crc.update(data.duplicate());
                    int expected = r.intAt(at + 13);
                    if ((int) crc.getValue() != expected) {
                        throw new RecordChecksumException(h, i, expected, (int) crc.getValue());
                    }
                    records.add(ChangeRecord.write(offset, data));
                    dataOffset += length;
                }
                case ZERO -> records.add(ChangeRecord.zero(offset, length));
                case TRIM -> records.add(ChangeRecord.trim(offset, length));
                case DIRTY -> records.add(ChangeRecord.dirty(offset, length));
            }
        }
        try {
            return new DeltaBatch(h.disk(), h.group(), h.sequence(), h.firstWrite(), h.lastWrite(), records, p.tags);
        } catch (IllegalArgumentException e) {
            throw new WireFormatException("BATCH: " + e.getMessage(), e);
        }
    }

    static final class Parsed {
        WireReader reader;
        BatchHeader header;
        int recordsAt;
        /** Offset from the frame's start of the (compressed) payload, right after the tags. */
        int payloadAt;
        List<ConsistencyTag> tags;
        ByteBuffer compressed;
    }

    static Parsed parse(ByteBuffer frame) throws WireFormatException {
        WireReader r = WireReader.open(frame);
        if (r.type() != MessageType.BATCH) {
            throw new WireFormatException("expected a BATCH frame, got " + r.type());
        }
        DiskId disk = MessageCodec.diskId(r, "disk id");
        String groupValue = r.id("group id");
        GroupId group;
        try {
            group = GroupId.of(groupValue);
        } catch (IllegalArgumentException e) {
            throw r.error("group id", e.getMessage());
        }
        long sequence = r.i64("sequence");
        if (sequence < 1) {
            throw r.error("sequence", "is " + sequence + ", must be >= 1");
        }
        long first = r.i64("first write");
        long last = r.i64("last write");
        if (last < first) {
            throw r.error("last write", "is " + last + " us, before first write " + first + " us");
        }
        int recordCount = r.i32("record count", 0, WireProtocol.MAX_RECORDS);
        int tagCount = r.u16Count("tag count", WireProtocol.MAX_TAGS);
        String compressor = r.compressor("compressor");
        int payloadLength = r.i32("payload length", 0, WireProtocol.MAX_PAYLOAD);
        int compressedLength = r.i32("compressed length", 0, WireProtocol.MAX_COMPRESSED_PAYLOAD);
        if ((payloadLength == 0) != (compressedLength == 0)) {
            throw r.error("compressed length", "is " + compressedLength + " for a payload of " + payloadLength
                    + " bytes; it is 0 exactly when the payload is empty");
        }

        int recordsAt = r.offset();
        r.skip(recordCount * WireProtocol.RECORD_ENTRY_SIZE, "record table of " + recordCount + " records");
        long dataBytes = 0;
        for (int i = 0; i < recordCount; i++) {
            int at = recordsAt + i * WireProtocol.RECORD_ENTRY_SIZE;
            int code = r.u8At(at);
            ChangeKind kind = Codes.changeKind(code);
            if (kind == null) {
                throw recordError(i, at, "kind is " + code + ", must be 0 (write), 1 (zero), 2 (trim) or 3 (dirty)");
            }
            long offset = r.longAt(at + 1);
            int length = r.intAt(at + 9);
            int crc = r.intAt(at + 13);
            if (offset < 0) {
                throw recordError(i, at, "offset is " + offset + ", must be >= 0");
            }
            int maxLength = kind == ChangeKind.WRITE ? WireProtocol.MAX_PAYLOAD : WireProtocol.MAX_RECORD_LENGTH;
            if (length < 1 || length > maxLength) {
                throw recordError(i, at, kind + " length is " + length + ", must be 1.." + maxLength);
            }
            if (offset > Long.MAX_VALUE - length) {
                throw recordError(i, at, "offset " + offset + " + length " + length + " overflows 64 bits");
            }
            if (kind == ChangeKind.WRITE) {
                dataBytes += length;
            } else if (crc != 0) {
                throw recordError(i, at, kind + " record carries no data, its CRC field must be 0, is " + Integer.toHexString(crc));
            }
        }
        if (dataBytes != payloadLength) {
            throw new WireFormatException("BATCH: the WRITE records hold " + dataBytes
                    + " bytes of data, the header's payload length says " + payloadLength);
        }

        List<ConsistencyTag> tags = new ArrayList<>(tagCount);
        for (int i = 0; i < tagCount; i++) {
            long hi = r.i64("tag " + i + " id");
            long lo = r.i64("tag " + i + " id");
            int code = r.u8("tag " + i + " kind");
            TagKind kind = Codes.tagKind(code);
            if (kind == null) {
                throw r.error("tag " + i + " kind", "is " + code + ", must be 0 (application), 1 (bookmark), 2 (planned failover) or 3 (checkpoint)");
            }
            long micros = r.i64("tag " + i + " time");
            String name = r.utf8("tag " + i + " name", 1, WireProtocol.MAX_TAG_NAME_BYTES);
            try {
                tags.add(new ConsistencyTag(new UUID(hi, lo), name, kind, Fields.instant(micros)));
            } catch (IllegalArgumentException e) {
                throw r.error("tag " + i + " name", e.getMessage());
            }
        }

        if (r.remaining() != compressedLength) {
            throw r.error("payload", "the header says " + compressedLength + " compressed bytes, the frame has "
                    + r.remaining() + " left before its CRC");
        }
        Parsed p = new Parsed();
        p.reader = r;
        p.recordsAt = recordsAt;
        p.tags = tags;
        p.payloadAt = r.offset();
        p.compressed = r.slice(compressedLength, "payload");
        r.expectEnd();
        p.header = new BatchHeader(disk, group, sequence, Fields.instant(first), Fields.instant(last), recordCount,
                tagCount, compressor, payloadLength, compressedLength);
        return p;
    }

    private static WireFormatException recordError(int index, int offset, String problem) {
        return new WireFormatException("BATCH: record " + index + " at offset " + offset + ": " + problem);
    }
}
