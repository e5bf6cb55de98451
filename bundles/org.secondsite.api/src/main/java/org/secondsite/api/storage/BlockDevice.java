package org.secondsite.api.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A fixed-size, byte-addressed disk: a protected source disk on the agent or a replica
 * volume on the master target. Implementations are safe for concurrent use by several
 * threads on disjoint or overlapping ranges; ordering between overlapping writes is the
 * caller's business.
 */
public interface BlockDevice extends Closeable {

    /** Size in bytes. */
    long size() throws IOException;

    /**
     * Reads {@code dst.remaining()} bytes starting at {@code offset} into {@code dst},
     * advancing its position. Bytes past the end of the device are an error, never
     * silently zero.
     *
     * @throws java.io.EOFException if the range extends beyond {@link #size()}
     */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Writes {@code src.remaining()} bytes starting at {@code offset}, advancing its
     * position. The write is visible to later reads at once and durable after
     * {@link #flush()}.
     *
     * @throws java.io.EOFException if the range extends beyond {@link #size()}
     */
    void write(long offset, ByteBuffer src) throws IOException;

    /**
     * Makes {@code length} bytes at {@code offset} read as zeros, deallocating them where
     * the medium can (sparse files, thin volumes).
     */
    void zero(long offset, long length) throws IOException;

    /** Makes every completed write durable (fdatasync or equivalent). */
    void flush() throws IOException;

    /** Whether writes are refused (a read-only source or a materialised recovery point). */
    boolean isReadOnly();
}
