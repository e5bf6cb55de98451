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
    HASHES(12),
    /** Process server to agent: hold the group's writes for a coordinated tag (capability {@code tag.coordination}). */
    TAG_PREPARE(13),
    /** Agent to process server: the group's writes are held (capability {@code tag.coordination}). */
    TAG_HELD(14),
    /** Agent to process server: the tag cannot be held, or the hold expired before TAG_RELEASE (capability {@code tag.coordination}). */
    TAG_REFUSED(15),
    /** Process server to agent: end the hold, inserting the tag or not (capability {@code tag.coordination}). */
    TAG_RELEASE(16),
    /** Agent to process server: the hold ended on TAG_RELEASE; whether the tag entered the streams (capability {@code tag.coordination}). */
    TAG_DONE(17);

    private static final MessageType[] BY_CODE = new MessageType[18];

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
