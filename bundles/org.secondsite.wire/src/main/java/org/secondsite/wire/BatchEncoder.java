package org.secondsite.wire;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.wire.internal.Codes;
import org.secondsite.wire.internal.Fields;
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

    /** Copies the WRITE records' data into the scratch buffer, back to back. */
    private ByteBuffer gather(List<ChangeRecord> records, int payload, boolean direct) {
        if (payload == 0) {
            return null;
        }
        if (scratch == null || scratch.capacity() < payload || scratch.isDirect() != direct) {
            int cap = Math.max(MIN_SCRATCH, Integer.highestOneBit(payload - 1) << 1);
            cap = Math.min(Math.max(cap, payload), WireProtocol.MAX_PAYLOAD);
            scratch = direct ? ByteBuffer.allocateDirect(cap) : ByteBuffer.allocate(cap);
        }
        ByteBuffer s = scratch.clear();
        for (ChangeRecord r : records) {
            if (r.hasData()) {
                s.put(r.data());
            }
        }
        return s.flip();
    }
}
