package org.secondsite.nbd.internal;

import org.secondsite.nbd.NbdProtocol;

/**
 * One decoded transmission request. Mutable and reused by its connection for every request, so the
 * hot path allocates nothing to decode.
 */
final class NbdRequest {
    int flags;
    int type;
    long handle;
    /** Offset as sent: an unsigned 64-bit value, so negative means at or above 2^63. */
    long offset;
    /** Length as sent: an unsigned 32-bit value. */
    long length;

    /** 0 when the request may be executed, else the NBD error value to reply with. */
    int error;
    /** Whether the connection must be closed (the stream cannot be resynchronised). */
    boolean fatal;
    /** What was wrong, for the log; null for a valid request. */
    String problem;

    boolean fua() {
        return (flags & NbdProtocol.CMD_FLAG_FUA) != 0;
    }

    void reject(int errorValue, String why) {
        error = errorValue;
        problem = why;
    }

    void fail(String why) {
        fatal = true;
        problem = why;
    }

    @Override
    public String toString() {
        return NbdProtocol.commandName(type) + "(flags=0x" + Integer.toHexString(flags) + ", offset="
                + Long.toUnsignedString(offset) + ", length=" + length + ", handle=0x" + Long.toHexString(handle) + ")";
    }
}
