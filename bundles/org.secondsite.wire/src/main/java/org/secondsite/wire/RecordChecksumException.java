package org.secondsite.wire;

/**
 * A batch frame was intact (frame CRC and structure valid) but the data of one record did
 * not match its CRC32C after decompression. The receiver asks for the batch again with
 * {@link ResendReason#BAD_CRC}.
 */
public class RecordChecksumException extends WireFormatException {
    private static final long serialVersionUID = 1L;

    private final transient BatchHeader header;
    private final int recordIndex;

    public RecordChecksumException(BatchHeader header, int recordIndex, int expected, int actual) {
        super(String.format("batch %s seq %d: record %d data CRC32C is %08x, the header says %08x",
                header.disk(), header.sequence(), recordIndex, actual, expected));
        this.header = header;
        this.recordIndex = recordIndex;
    }

    /** The header of the batch whose record failed. */
    public BatchHeader header() {
        return header;
    }

    /** Index (0-based) of the first record whose data failed its check. */
    public int recordIndex() {
        return recordIndex;
    }
}
