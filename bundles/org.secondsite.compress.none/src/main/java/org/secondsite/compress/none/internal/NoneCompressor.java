package org.secondsite.compress.none.internal;

import java.nio.ByteBuffer;

import org.osgi.service.component.annotations.Component;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

/**
 * Stores the payload unchanged ({@code secondsite.compressor=none}): for links fast enough
 * that compression costs more than it saves, for data that does not compress, and as the
 * compressor every receiver can always decode. Stateless and thread-safe; the plain class is
 * also the DS component since it has no configuration or lifecycle.
 */
@Component(name = "org.secondsite.compress.none", service = Compressor.class,
        property = Compressor.PROPERTY + "=" + NoneCompressor.NAME)
public final class NoneCompressor implements Compressor {
    /** Name in batches and in the {@value Compressor#PROPERTY} service property. */
    public static final String NAME = "none";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int maxCompressedLength(int length) {
        return length;
    }

    @Override
    public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
        int n = src.remaining();
        if (dst.isReadOnly()) {
            throw new CompressionException("none: destination buffer is read-only");
        }
        if (dst.remaining() < n) {
            throw new CompressionException("none: destination has " + dst.remaining() + " bytes left, " + n + " needed");
        }
        dst.put(src);
        return n;
    }

    @Override
    public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
        if (src.remaining() != originalLength) {
            throw new CompressionException("none: stored payload has " + src.remaining() + " bytes, the original had "
                    + originalLength);
        }
        if (dst.isReadOnly()) {
            throw new CompressionException("none: destination buffer is read-only");
        }
        if (dst.remaining() < originalLength) {
            throw new CompressionException("none: destination has " + dst.remaining() + " bytes left, the original was "
                    + originalLength);
        }
        dst.put(src);
    }
}
