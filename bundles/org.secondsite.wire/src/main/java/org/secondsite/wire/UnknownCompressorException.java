package org.secondsite.wire;

import java.io.IOException;

/**
 * A valid batch frame names a compressor this side does not have. The frame itself is fine:
 * the caller may hold it until a compressor of that name appears, or ask the sender to
 * resend with {@link ResendReason#UNKNOWN_COMPRESSOR}. Deliberately not a
 * {@link WireFormatException}.
 */
public class UnknownCompressorException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient BatchHeader header;

    public UnknownCompressorException(BatchHeader header) {
        super("batch " + header.disk() + " seq " + header.sequence() + " is compressed with '"
                + header.compressor() + "', which is not available here");
        this.header = header;
    }

    /** The name of the missing compressor. */
    public String compressorName() {
        return header.compressor();
    }

    /** The header of the batch that could not be decompressed. */
    public BatchHeader header() {
        return header;
    }
}
