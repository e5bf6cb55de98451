package org.secondsite.api.compress;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Compresses and decompresses the payload of a delta batch. Register an implementation as
 * an OSGi service with the property {@value #PROPERTY} set to its {@link #name()}. A batch
 * names the compressor that encoded it; a receiver that lacks that compressor holds the
 * batch until one with that name appears.
 *
 * <p>Implementations are thread-safe and keep no state between calls that changes results
 * (each call's output depends only on its input). They work on heap or direct buffers.
 */
@ConsumerType
public interface Compressor {
    /** Service property naming the compressor, e.g. {@code secondsite.compressor=lz4}. */
    String PROPERTY = "secondsite.compressor";

    /** Name written into every batch it encodes: lowercase letters and digits, at most 16 characters. */
    String name();

    /** Upper bound of the compressed size of {@code length} input bytes. */
    int maxCompressedLength(int length);

    /**
     * Compresses all of {@code src} (position to limit) into {@code dst} at its position,
     * advancing both positions.
     *
     * @return the number of bytes written to {@code dst}
     * @throws CompressionException if {@code dst} has less than
     *         {@code maxCompressedLength(src.remaining())} bytes left
     */
    int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException;

    /**
     * Decompresses all of {@code src} into exactly {@code originalLength} bytes of
     * {@code dst}, advancing both positions. Never reads or writes outside the buffers'
     * bounds, whatever {@code src} holds.
     *
     * @throws CompressionException if {@code src} is malformed or does not decompress
     *         to exactly {@code originalLength} bytes
     */
    void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException;
}
