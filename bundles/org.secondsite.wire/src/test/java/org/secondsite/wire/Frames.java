package org.secondsite.wire;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** Helpers to look into and tamper with encoded frames. */
final class Frames {
    private Frames() {
    }

    static byte[] bytes(ByteBuffer frame) {
        ByteBuffer d = frame.duplicate();
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return b;
    }

    /** Recomputes the trailing CRC32C, so that a tampered body reaches the field checks. */
    static byte[] fixCrc(byte[] frame) {
        if (frame.length >= 4) {
            CRC32C crc = new CRC32C();
            crc.update(frame, 0, frame.length - 4);
            ByteBuffer.wrap(frame).putInt(frame.length - 4, (int) crc.getValue());
        }
        return frame;
    }
}
