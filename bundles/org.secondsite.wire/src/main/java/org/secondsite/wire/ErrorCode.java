package org.secondsite.wire;

/** Codes of the ERROR message; the sender of an ERROR closes the connection after it. */
public enum ErrorCode {
    /** A message arrived that is not allowed at that point of the conversation. */
    PROTOCOL_VIOLATION(1),
    /** A frame failed its CRC or a field check. */
    MALFORMED_FRAME(2),
    /** No common protocol version. */
    UNSUPPORTED_VERSION(3),
    /** The peer is not allowed to do this (role, unknown component, disk not assigned). */
    UNAUTHORIZED(4),
    /** The receiver cannot take more data now (spool or journal full). */
    RECEIVER_FULL(5),
    /** The receiver failed for a reason of its own. */
    INTERNAL(6);

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The error code with that number, or {@code null}. */
    public static ErrorCode ofCode(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return null;
    }
}
