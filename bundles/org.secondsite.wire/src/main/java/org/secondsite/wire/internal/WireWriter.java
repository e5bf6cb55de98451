package org.secondsite.wire.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

import org.secondsite.wire.MessageType;

/**
 * Writes one frame into a caller's buffer, big-endian, whatever the buffer's own order.
 * The caller has checked that the buffer has room for the whole frame.
 */
public final class WireWriter {
    private final ByteBuffer out;
    private final ByteBuffer buf;
    private final int start;
    private int pos;

    /** Starts a frame of {@code type} at {@code out.position()}. */
    public WireWriter(ByteBuffer out, MessageType type) {
        this.out = out;
        this.buf = out.duplicate().order(ByteOrder.BIG_ENDIAN);
        this.start = out.position();
        this.pos = start;
        u8(type.code());
        u8(0);
    }

    /** Position in the caller's buffer of the next byte. */
    public int position() {
        return pos;
    }

    /** Skips bytes written by someone else (e.g. a compressor) into the caller's buffer. */
    public void advance(int n) {
        pos += n;
    }

    public void u8(int v) {
        buf.put(pos++, (byte) v);
    }

    public void u16(int v) {
        buf.putShort(pos, (short) v);
        pos += 2;
    }

    public void i32(int v) {
        buf.putInt(pos, v);
        pos += 4;
    }

    public void i32At(int position, int v) {
        buf.putInt(position, v);
    }

    public void i64(long v) {
        buf.putLong(pos, v);
        pos += 8;
    }

    /** An already validated ASCII string with a u8 length. */
    public void ascii8(String s) {
        u8(s.length());
        for (int i = 0; i < s.length(); i++) {
            buf.put(pos++, (byte) s.charAt(i));
        }
    }

    /** The remaining bytes of {@code src} as they are (its position is not moved). */
    public void bytes(ByteBuffer src) {
        int n = src.remaining();
        buf.put(pos, src, src.position(), n);
        pos += n;
    }

    /** UTF-8 bytes with a u16 length. */
    public void utf8(byte[] b) {
        u16(b.length);
        buf.put(pos, b);
        pos += b.length;
    }

    /** An already normalized text (see {@link Fields#normalizeText}) with a u16 length. */
    public void text(String s) {
        utf8(s.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Appends the CRC32C of the frame, moves the caller's buffer position past the frame
     * and returns the frame's length.
     */
    public int finish(CRC32C crc) {
        crc.reset();
        ByteBuffer covered = buf.duplicate();
        covered.limit(pos).position(start);
        crc.update(covered);
        i32((int) crc.getValue());
        out.position(pos);
        return pos - start;
    }
}
