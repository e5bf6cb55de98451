package org.secondsite.wire;

import java.time.Instant;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;

/**
 * The header of a BATCH frame, readable without decompressing it
 * ({@link BatchDecoder#readHeader}), e.g. to spool or route a frame as it is.
 *
 * @param disk the disk
 * @param group its consistency group
 * @param sequence the batch's sequence, >= 1
 * @param firstWrite time of the first write (microsecond precision)
 * @param lastWrite time of the last write
 * @param recordCount number of change records
 * @param tagCount number of consistency tags
 * @param compressor name of the compressor of the payload
 * @param payloadLength uncompressed bytes of record data
 * @param compressedLength compressed bytes of record data in the frame
 */
public record BatchHeader(DiskId disk, GroupId group, long sequence, Instant firstWrite, Instant lastWrite,
                          int recordCount, int tagCount, String compressor, int payloadLength,
                          int compressedLength) {
}
