package org.secondsite.wire;

import java.nio.ByteBuffer;
import java.util.function.Function;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

/**
 * The protocol's built-in compressor {@code none} (docs/PROTOCOL.md §2: "{@code none} is
 * always possible"), so that a sender and a receiver can always agree on one even when no
 * compressor plugin is installed.
 */
public final class Compressors {
    /** Name of the built-in compressor that stores the payload unchanged. */
    public static final String NONE_NAME = "none";

    /** Stores the payload unchanged. Stateless and thread-safe. */
    public static final Compressor NONE = new Compressor() {
        @Override
        public String name() {
            return NONE_NAME;
        }

        @Override
        public int maxCompressedLength(int length) {
            return length;
        }

        @Override
        public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
            int n = src.remaining();
            if (dst.isReadOnly() || dst.remaining() < n) {
                throw new CompressionException("none: destination is read-only or has " + dst.remaining()
                        + " bytes left, " + n + " needed");
            }
            dst.put(src);
            return n;
        }

        @Override
        public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
            if (src.remaining() != originalLength) {
                throw new CompressionException("none: stored payload has " + src.remaining()
                        + " bytes, the original had " + originalLength);
            }
            if (dst.isReadOnly() || dst.remaining() < originalLength) {
                throw new CompressionException("none: destination is read-only or has " + dst.remaining()
                        + " bytes left, " + originalLength + " needed");
            }
            dst.put(src);
        }

        @Override
        public String toString() {
            return NONE_NAME;
        }
    };

    private Compressors() {
    }

    /** {@code lookup}, falling back to {@link #NONE} for the name {@code none}. */
    public static Function<String, Compressor> withNone(Function<String, Compressor> lookup) {
        return name -> {
            Compressor c = lookup.apply(name);
            return c == null && NONE_NAME.equals(name) ? NONE : c;
        };
    }
}
