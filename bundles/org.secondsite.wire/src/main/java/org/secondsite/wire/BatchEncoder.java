package org.secondsite.wire;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import java.util.zip.CRC32C;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.wire.internal.Codes;
import org.secondsite.wire.internal.Fields;
import org.secondsite.wire.internal.WireReader;
import org.secondsite.wire.internal.WireWriter;

/**
 * Encodes delta batches as BATCH frames (docs/PROTOCOL.md §3.3) into a caller's buffer.
 *
 * <p>The record data is copied once, into a scratch buffer that this encoder keeps and
 * reuses; record CRCs are computed on it and it is compressed straight into the caller's
 * buffer. One encoder per thread: instances are not thread-safe.
 */
public final class BatchEncoder {
    private static final int HEADER_FIXED = 2 + 8 + 8 + 8 + 4 + 2 + 4 + 4;
    private static final int TAG_FIXED = 8 + 8 + 1 + 8 + 2;
    private static final int MIN_SCRATCH = 1 << 20;

    private final CRC32C crc = new CRC32C();
    private final CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private ByteBuffer scratch;

    /**
     * Upper bound of the frame that {@link #encode} writes for {@code batch} with
     * {@code compressor}: size the output buffer with it.
     *
     * @throws IllegalArgumentException if the batch exceeds a limit of the protocol
     */
    public static int maxFrameLength(DeltaBatch batch, Compressor compressor) {
        int payload = checkLimits(batch);
        long bound = payload == 0 ? 0 : Math.max(0, compressor.maxCompressedLength(payload));
        long len = (long) fixedLength(batch, compressor) + Math.min(bound, WireProtocol.MAX_COMPRESSED_PAYLOAD) + 4;
        return (int) Math.min(len, WireProtocol.MAX_FRAME_SIZE);
    }

    /**
     * Writes {@code batch} as one BATCH frame at {@code out}'s position, compressed with
     * {@code compressor}, and moves the position past it. Record times and tag times travel
     * with microsecond precision.
     *
     * @return the frame's length
     * @throws IllegalArgumentException if the batch exceeds a limit of the protocol (split it),
     *         has a tag name that is not valid UTF-16, or {@code out} has less than
     *         {@link #maxFrameLength} bytes left or is read-only
     * @throws CompressionException if the compressor fails
     */
    public int encode(DeltaBatch batch, Compressor compressor, ByteBuffer out) throws CompressionException {
        String compressorName = Fields.checkCompressor(compressor.name());
        int payload = checkLimits(batch);
        int maxLen = maxFrameLength(batch, compressor);
        if (out.isReadOnly()) {
            throw new IllegalArgumentException("output buffer is read-only");
        }
        if (out.remaining() < maxLen) {
            throw new IllegalArgumentException("batch " + batch.disk() + " seq " + batch.sequence() + " may need "
                    + maxLen + " bytes, the buffer has " + out.remaining() + " left");
        }
        long firstMicros = Fields.micros(batch.firstWrite());
        long lastMicros = Fields.micros(batch.lastWrite());
        byte[][] tagNames = tagNames(batch.tags());
        ByteBuffer data = gather(batch.records(), payload, out.isDirect());

        WireWriter w = new WireWriter(out, MessageType.BATCH);
        w.ascii8(batch.disk().value());
        w.ascii8(batch.group().value());
        w.i64(batch.sequence());
        w.i64(firstMicros);
        w.i64(lastMicros);
        w.i32(batch.records().size());
        w.u16(batch.tags().size());
        w.ascii8(compressorName);
        w.i32(payload);
        int compressedAt = w.position();
        w.i32(0);

        int dataOffset = 0;
        for (ChangeRecord r : batch.records()) {
            w.u8(Codes.changeKind(r.kind()));
            w.i64(r.offset());
            w.i32(r.length());
            if (r.hasData()) {
                crc.reset();
                data.limit(dataOffset + r.length()).position(dataOffset);
                crc.update(data);
                w.i32((int) crc.getValue());
                dataOffset += r.length();
            } else {
                w.i32(0);
            }
        }
        List<ConsistencyTag> tags = batch.tags();
        for (int i = 0; i < tags.size(); i++) {
            ConsistencyTag t = tags.get(i);
            w.i64(t.id().getMostSignificantBits());
            w.i64(t.id().getLeastSignificantBits());
            w.u8(Codes.tagKind(t.kind()));
            w.i64(Fields.micros(t.time()));
            w.utf8(tagNames[i]);
        }

        int compressed = 0;
        if (payload > 0) {
            data.limit(payload).position(0);
            ByteBuffer dst = out.duplicate();
            dst.position(w.position());
            dst.limit(out.limit() - 4);
            try {
                compressed = compressor.compress(data, dst);
            } catch (CompressionException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new CompressionException("compressor '" + compressorName + "' failed: " + e, e);
            }
            if (compressed < 0 || compressed > WireProtocol.MAX_COMPRESSED_PAYLOAD || dst.position() != w.position() + compressed) {
                throw new CompressionException("compressor '" + compressorName + "' reported " + compressed
                        + " bytes for " + payload + " input bytes (limit " + WireProtocol.MAX_COMPRESSED_PAYLOAD + ")");
            }
            w.advance(compressed);
            w.i32At(compressedAt, compressed);
        }
        return w.finish(crc);
    }

    /**
     * Re-encodes a BATCH frame with another compressor without building change records (the
     * process server's hot path): the frame is checked whole as {@link BatchDecoder#decode}
     * checks it (frame CRC, fields, record CRCs after decompression), then the header, record
     * table and tags are written again with {@code to}'s name and the payload compressed with
     * {@code to}. A payload that travelled uncompressed ({@code none}) is verified and
     * compressed where it lies in {@code frame}; any other is decompressed once into this
     * encoder's scratch buffer. Record CRCs are those of the frame (checked, not recomputed).
     *
     * @return the new frame's length, written at {@code out}'s position, which moves past it
     * @throws UnknownCompressorException if the frame's compressor is not found
     * @throws RecordChecksumException if a record's data fails its CRC32C
     * @throws WireFormatException if the frame is malformed or does not decompress
     * @throws IllegalArgumentException if {@code out} is read-only or has less room than
     *         {@link #maxRecompressedLength} asks
     * @throws CompressionException if {@code to} fails
     */
    public int recompress(ByteBuffer frame, Function<String, Compressor> compressors, Compressor to, ByteBuffer out)
            throws WireFormatException, UnknownCompressorException, CompressionException {
        BatchDecoder.Parsed p = BatchDecoder.parse(frame);
        BatchHeader h = p.header;
        String toName = Fields.checkCompressor(to.name());
        int payload = h.payloadLength();
        int maxLen = maxRecompressedLength(p, to);
        if (out.isReadOnly()) {
            throw new IllegalArgumentException("output buffer is read-only");
        }
        if (out.remaining() < maxLen) {
            throw new IllegalArgumentException("batch " + h.disk() + " seq " + h.sequence() + " may need " + maxLen
                    + " bytes, the buffer has " + out.remaining() + " left");
        }
        ByteBuffer data = null;
        if (payload > 0) {
            if (Compressors.NONE_NAME.equals(h.compressor()) && h.compressedLength() == payload) {
                data = p.compressed;
            } else {
                Compressor from = compressors.apply(h.compressor());
                if (from == null) {
                    throw new UnknownCompressorException(h);
                }
                ByteBuffer s = scratch(payload, out.isDirect());
                s.limit(payload);
                try {
                    from.decompress(p.compressed.duplicate(), s, payload);
                } catch (CompressionException | RuntimeException e) {
                    throw new WireFormatException("BATCH " + h.disk() + " seq " + h.sequence() + ": payload of "
                            + h.compressedLength() + " bytes does not decompress with '" + h.compressor() + "' to "
                            + payload + " bytes: " + e.getMessage(), e);
                }
                if (s.position() != payload) {
                    throw new WireFormatException("BATCH " + h.disk() + " seq " + h.sequence() + ": compressor '"
                            + h.compressor() + "' produced " + s.position() + " bytes, expected " + payload);
                }
                data = s.flip();
            }
            WireReader r = p.reader;
            int dataOffset = 0;
            for (int i = 0; i < h.recordCount(); i++) {
                int at = p.recordsAt + i * WireProtocol.RECORD_ENTRY_SIZE;
                if (r.u8At(at) != Codes.changeKind(ChangeKind.WRITE)) {
                    continue;
                }
                int length = r.intAt(at + 9);
                crc.reset();
                crc.update(data.duplicate().limit(dataOffset + length).position(dataOffset));
                int expected = r.intAt(at + 13);
                if ((int) crc.getValue() != expected) {
                    throw new RecordChecksumException(h, i, expected, (int) crc.getValue());
                }
                dataOffset += length;
            }
        }

        WireWriter w = new WireWriter(out, MessageType.BATCH);
        w.ascii8(h.disk().value());
        w.ascii8(h.group().value());
        w.i64(h.sequence());
        w.i64(Fields.micros(h.firstWrite()));
        w.i64(Fields.micros(h.lastWrite()));
        w.i32(h.recordCount());
        w.u16(h.tagCount());
        w.ascii8(toName);
        w.i32(payload);
        int compressedAt = w.position();
        w.i32(0);
        ByteBuffer src = frame.duplicate();
        int base = src.position();
        w.bytes(src.limit(base + p.payloadAt).position(base + p.recordsAt)); // record table and tags, as they are
        if (payload > 0) {
            ByteBuffer dst = out.duplicate();
            dst.position(w.position());
            dst.limit(out.limit() - 4);
            int compressed;
            try {
                compressed = to.compress(data.duplicate(), dst);
            } catch (CompressionException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new CompressionException("compressor '" + toName + "' failed: " + e, e);
            }
            if (compressed < 0 || compressed > WireProtocol.MAX_COMPRESSED_PAYLOAD || dst.position() != w.position() + compressed) {
                throw new CompressionException("compressor '" + toName + "' reported " + compressed
                        + " bytes for " + payload + " input bytes (limit " + WireProtocol.MAX_COMPRESSED_PAYLOAD + ")");
            }
            w.advance(compressed);
            w.i32At(compressedAt, compressed);
        }
        return w.finish(crc);
    }

    /** Upper bound of the frame {@link #recompress} writes for {@code frame} with {@code to}. */
    public static int maxRecompressedLength(ByteBuffer frame, Compressor to) throws WireFormatException {
        return maxRecompressedLength(BatchDecoder.parse(frame), to);
    }

    private static int maxRecompressedLength(BatchDecoder.Parsed p, Compressor to) {
        BatchHeader h = p.header;
        int payload = h.payloadLength();
        long bound = payload == 0 ? 0 : Math.max(0, to.maxCompressedLength(payload));
        long len = (long) HEADER_FIXED + 1 + h.disk().value().length() + 1 + h.group().value().length()
                + 1 + to.name().length() + (p.payloadAt - p.recordsAt)
                + Math.min(bound, WireProtocol.MAX_COMPRESSED_PAYLOAD) + 4;
        return (int) Math.min(len, WireProtocol.MAX_FRAME_SIZE);
    }

    /** Checks the batch against the protocol's limits; returns its payload length. */
    private static int checkLimits(DeltaBatch batch) {
        if (batch.records().size() > WireProtocol.MAX_RECORDS) {
            throw new IllegalArgumentException("batch " + batch.disk() + " seq " + batch.sequence() + " has "
                    + batch.records().size() + " records, at most " + WireProtocol.MAX_RECORDS + " fit in a frame: split it");
        }
        if (batch.tags().size() > WireProtocol.MAX_TAGS) {
            throw new IllegalArgumentException("batch " + batch.disk() + " seq " + batch.sequence() + " has "
                    + batch.tags().size() + " tags, at most " + WireProtocol.MAX_TAGS);
        }
        long payload = batch.dataBytes();
        if (payload > WireProtocol.MAX_PAYLOAD) {
            throw new IllegalArgumentException("batch " + batch.disk() + " seq " + batch.sequence() + " carries "
                    + payload + " bytes of data, at most " + WireProtocol.MAX_PAYLOAD + " fit in a frame: split it");
        }
        return (int) payload;
    }

    private static int fixedLength(DeltaBatch batch, Compressor compressor) {
        return HEADER_FIXED + 1 + batch.disk().value().length() + 1 + batch.group().value().length()
                + 1 + compressor.name().length()
                + WireProtocol.RECORD_ENTRY_SIZE * batch.records().size()
                + batch.tags().size() * (TAG_FIXED + WireProtocol.MAX_TAG_NAME_BYTES);
    }

    private byte[][] tagNames(List<ConsistencyTag> tags) {
        byte[][] names = new byte[tags.size()][];
        for (int i = 0; i < names.length; i++) {
            String name = tags.get(i).name();
            try {
                ByteBuffer b = utf8.reset().encode(CharBuffer.wrap(name));
                names[i] = new byte[b.remaining()];
                b.get(names[i]);
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("tag name '" + name + "' is not valid UTF-16 (unpaired surrogate)", e);
            }
        }
        return names;
    }

    /** The reused scratch buffer, cleared, with room for {@code payload} bytes. */
    private ByteBuffer scratch(int payload, boolean direct) {
        if (scratch == null || scratch.capacity() < payload || scratch.isDirect() != direct) {
            int cap = Math.max(MIN_SCRATCH, Integer.highestOneBit(payload - 1) << 1);
            cap = Math.min(Math.max(cap, payload), WireProtocol.MAX_PAYLOAD);
            scratch = direct ? ByteBuffer.allocateDirect(cap) : ByteBuffer.allocate(cap);
        }
        return scratch.clear();
    }

    /** Copies the WRITE records' data into the scratch buffer, back to back. */
    private ByteBuffer gather(List<ChangeRecord> records, int payload, boolean direct) {
        if (payload == 0) {
            return null;
        }
        ByteBuffer s = scratch(payload, direct);
        for (ChangeRecord r : records) {
            if (r.hasData()) {
                s.put(r.data());
            }
        }
        return s.flip();
    }
}
