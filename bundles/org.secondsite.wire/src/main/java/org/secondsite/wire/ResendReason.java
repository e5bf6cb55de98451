package org.secondsite.wire;

/** Why a receiver asks for batches again. */
public enum ResendReason {
    /** The batch's sequence was beyond the next expected one. */
    GAP(1),
    /** A record's data failed its CRC32C after decompression. */
    BAD_CRC(2),
    /** The batch named a compressor the receiver does not have. */
    UNKNOWN_COMPRESSOR(3);

    private final int code;

    ResendReason(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The reason with that code, or {@code null}. */
    public static ResendReason ofCode(int code) {
        for (ResendReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return null;
    }
}
