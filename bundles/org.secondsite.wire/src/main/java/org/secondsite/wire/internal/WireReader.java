package org.secondsite.wire.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

import org.secondsite.wire.MessageType;
import org.secondsite.wire.WireFormatException;
import org.secondsite.wire.WireProtocol;

/**
 * Bounds-checked reader of one frame's body. Every read checks the bytes left first and
 * fails with a {@link WireFormatException} naming the field; nothing is allocated from a
 * length before that length is checked against its limit.
 */
public final class WireReader {
    private final ByteBuffer buf;
    private final int base;
    private final int end;
    private final MessageType type;
    private int pos;
    private int fieldStart;

    private WireReader(ByteBuffer buf, int base, int end, MessageType type) {
        this.buf = buf;
        this.base = base;
        this.end = end;
        this.type = type;
        this.pos = base + 2;
        this.fieldStart = pos;
    }

    /**
     * Checks a frame's size, CRC, type and flags and returns a reader positioned on its body.
     * Does not change {@code frame}'s position, limit or order.
     */
    public static WireReader open(ByteBuffer frame) throws WireFormatException {
        ByteBuffer buf = frame.duplicate().order(ByteOrder.BIG_ENDIAN);
        int len = buf.remaining();
        if (len < WireProtocol.MIN_FRAME_SIZE) {
            throw new WireFormatException("frame of " + len + " bytes is shorter than the minimum of "
                    + WireProtocol.MIN_FRAME_SIZE + " (type, flags, CRC32C)");
        }
        if (len > WireProtocol.MAX_FRAME_SIZE) {
            throw new WireFormatException("frame of " + len + " bytes exceeds the maximum of " + WireProtocol.MAX_FRAME_SIZE);
        }
        int base = buf.position();
        int end = base + len - 4;
        CRC32C crc = new CRC32C();
        ByteBuffer covered = buf.duplicate();
        covered.limit(end);
        crc.update(covered);
        int expected = buf.getInt(end);
        int actual = (int) crc.getValue();
        if (expected != actual) {
            throw new WireFormatException(String.format(
                    "frame CRC32C mismatch: frame of %d bytes says %08x, content gives %08x", len, expected, actual));
        }
        int code = buf.get(base) & 0xFF;
        MessageType type = MessageType.ofCode(code);
        if (type == null) {
            throw new WireFormatException("unknown message type " + code + " at offset 0; version "
                    + WireProtocol.VERSION + " knows 1-" + MessageType.values().length);
        }
        int flags = buf.get(base + 1) & 0xFF;
        if (flags != 0) {
            throw new WireFormatException(type + ": flags at offset 1 are " + flags + ", must be 0 in version "
                    + WireProtocol.VERSION);
        }
        return new WireReader(buf, base, end, type);
    }

    public MessageType type() {
        return type;
    }

    /** Offset of the next field from the start of the frame. */
    public int offset() {
        return pos - base;
    }

    /** Bytes left before the frame CRC. */
    public int remaining() {
        return end - pos;
    }

    /** A failure naming the message type and the offset (from the frame's start) of the field last read. */
    public WireFormatException error(String field, String problem) {
        return new WireFormatException(type + ": field '" + field + "' at offset " + (fieldStart - base) + ": " + problem);
    }

    private void need(int n, String field) throws WireFormatException {
        if (end - pos < n) {
            throw error(field, "needs " + n + " bytes, only " + (end - pos) + " left (truncated frame)");
        }
    }

    public int u8(String field) throws WireFormatException {
        fieldStart = pos;
        need(1, field);
        return buf.get(pos++) & 0xFF;
    }

    public int u16(String field) throws WireFormatException {
        fieldStart = pos;
        need(2, field);
        int v = buf.getShort(pos) & 0xFFFF;
        pos += 2;
        return v;
    }

    public int i32(String field) throws WireFormatException {
        fieldStart = pos;
        need(4, field);
        int v = buf.getInt(pos);
        pos += 4;
        return v;
    }

    public long i64(String field) throws WireFormatException {
        fieldStart = pos;
        need(8, field);
        long v = buf.getLong(pos);
        pos += 8;
        return v;
    }

    /** An i32 that must lie in {@code min..max}. */
    public int i32(String field, int min, int max) throws WireFormatException {
        int at = pos;
        int v = i32(field);
        if (v < min || v > max) {
            pos = at;
            throw error(field, "is " + v + ", must be " + min + ".." + max);
        }
        return v;
    }

    /** A u16 count that must lie in {@code 0..max}. */
    public int u16Count(String field, int max) throws WireFormatException {
        int at = pos;
        int v = u16(field);
        if (v > max) {
            pos = at;
            throw error(field, "is " + v + ", must be 0.." + max);
        }
        return v;
    }

    /** A u8 count that must lie in {@code 0..max}. */
    public int u8Count(String field, int max) throws WireFormatException {
        int at = pos;
        int v = u8(field);
        if (v > max) {
            pos = at;
            throw error(field, "is " + v + ", must be 0.." + max);
        }
        return v;
    }

    /** A disk, group or component id: u8 length 1..128, ASCII of the id rule. */
    public String id(String field) throws WireFormatException {
        int len = u8(field + " length");
        if (len == 0 || len > WireProtocol.MAX_ID_LENGTH) {
            pos--;
            throw error(field + " length", "is " + len + ", must be 1.." + WireProtocol.MAX_ID_LENGTH);
        }
        need(len, field);
        for (int i = 0; i < len; i++) {
            int c = buf.get(pos + i) & 0xFF;
            if (!Fields.idChar(c, i == 0)) {
                throw error(field, "byte " + i + " is 0x" + Integer.toHexString(c)
                        + ", allowed: letters, digits, '.', '_', ':', '-' (first a letter or digit)");
            }
        }
        return ascii(len);
    }

    /** A compressor name: u8 length 1..16, lowercase letters and digits. */
    public String compressor(String field) throws WireFormatException {
        int len = u8(field + " length");
        if (len == 0 || len > WireProtocol.MAX_COMPRESSOR_NAME_LENGTH) {
            pos--;
            throw error(field + " length", "is " + len + ", must be 1.." + WireProtocol.MAX_COMPRESSOR_NAME_LENGTH);
        }
        need(len, field);
        for (int i = 0; i < len; i++) {
            int c = buf.get(pos + i) & 0xFF;
            if (!Fields.compressorChar(c)) {
                throw error(field, "byte " + i + " is 0x" + Integer.toHexString(c) + ", allowed: a-z, 0-9");
            }
        }
        return ascii(len);
    }

    /** A token: u8 length 1..64, lowercase letters, digits, {@code . _ : -}. */
    public String token(String field) throws WireFormatException {
        int len = u8(field + " length");
        if (len == 0 || len > WireProtocol.MAX_TOKEN_LENGTH) {
            pos--;
            throw error(field + " length", "is " + len + ", must be 1.." + WireProtocol.MAX_TOKEN_LENGTH);
        }
        need(len, field);
        for (int i = 0; i < len; i++) {
            int c = buf.get(pos + i) & 0xFF;
            if (!Fields.tokenChar(c, i == 0)) {
                throw error(field, "byte " + i + " is 0x" + Integer.toHexString(c)
                        + ", allowed: a-z, 0-9, '.', '_', ':', '-' (first a-z or 0-9)");
            }
        }
        return ascii(len);
    }

    private String ascii(int len) {
        char[] chars = new char[len];
        for (int i = 0; i < len; i++) {
            chars[i] = (char) (buf.get(pos + i) & 0xFF);
        }
        pos += len;
        return new String(chars);
    }

    /** A text: u16 length 0..max, well-formed UTF-8. */
    public String utf8(String field, int minLen, int maxLen) throws WireFormatException {
        int len = u16(field + " length");
        if (len < minLen || len > maxLen) {
            pos -= 2;
            throw error(field + " length", "is " + len + ", must be " + minLen + ".." + maxLen);
        }
        need(len, field);
        ByteBuffer bytes = buf.slice(pos, len);
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            pos += len;
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw error(field, "is not well-formed UTF-8 (" + e + ")");
        }
    }

    /** A view of the next {@code len} bytes (already known to be within the frame), skipping them. */
    public ByteBuffer slice(int len, String field) throws WireFormatException {
        fieldStart = pos;
        need(len, field);
        ByteBuffer s = buf.slice(pos, len);
        pos += len;
        return s;
    }

    /** Skips {@code len} bytes. */
    public void skip(int len, String field) throws WireFormatException {
        fieldStart = pos;
        need(len, field);
        pos += len;
    }

    /** Absolute reads used on a region already checked with {@link #skip}. */
    public int intAt(int frameOffset) {
        return buf.getInt(base + frameOffset);
    }

    public long longAt(int frameOffset) {
        return buf.getLong(base + frameOffset);
    }

    public int u8At(int frameOffset) {
        return buf.get(base + frameOffset) & 0xFF;
    }

    /** Fails unless every byte before the CRC has been read. */
    public void expectEnd() throws WireFormatException {
        if (pos != end) {
            throw new WireFormatException(type + ": " + (end - pos) + " unexpected bytes after the last field at offset "
                    + offset());
        }
    }
}
