package org.secondsite.processserver.internal.spool;

import java.nio.ByteBuffer;

/**
 * One entry read back from a spool.
 *
 * @param position where the entry starts (pass {@code nextPosition} to continue reading)
 * @param nextPosition where the following entry starts
 * @param diskId the key's disk
 * @param sequence the key's sequence number
 * @param timestamp the caller-supplied timestamp
 * @param payload the opaque record (position 0, limit its length), a buffer of its own
 */
public record SpoolEntry(long position, long nextPosition, String diskId, long sequence, long timestamp,
        ByteBuffer payload) {
}
