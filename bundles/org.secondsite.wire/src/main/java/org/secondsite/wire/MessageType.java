package org.secondsite.wire;

/** The message types of protocol version 1 and their codes in a frame's first byte. */
public enum MessageType {
    HELLO(1),
    HELLO_ACK(2),
    BATCH(3),
    ACK(4),
    RESEND(5),
    HEARTBEAT(6),
    ERROR(7),
    RESUME_QUERY(8),
    RESUME_POINT(9),
    /** Announces a disk (its group and size) before its batches; added in version 1 before the first release. */
    DISK_INFO(10),
    /** Asks the block hashes of replica ranges (capability {@code resync.hash}); added in version 1 before the first release. */
    HASH_QUERY(11),
    /** Answers a HASH_QUERY (capability {@code resync.hash}); added in version 1 before the first release. */
    HASHES(12);

    private static final MessageType[] BY_CODE = new MessageType[13];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    /** The code written in the frame. */
    public int code() {
        return code;
    }

    /** The type with that code, or {@code null}. */
    public static MessageType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
