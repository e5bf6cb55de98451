package org.secondsite.wire;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.function.Function;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

/** Compressors for the codec's tests, so the wire bundle's tests need no plugin. */
final class TestCompressors {
    static final Compressor IDENTITY = new Identity();
    static final Compressor RLE = new Rle();
    static final Function<String, Compressor> ALL = Map.of(IDENTITY.name(), IDENTITY, RLE.name(), RLE)::get;

    private TestCompressors() {
    }

    /** Stores the input unchanged, under the name {@code copy}. */
    private static final class Identity implements Compressor {
        @Override
        public String name() {
            return "copy";
        }

        @Override
        public int maxCompressedLength(int length) {
            return length;
        }

        @Override
        public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
            int n = src.remaining();
            if (dst.remaining() < n) {
                throw new CompressionException("destination too small");
            }
            dst.put(src);
            return n;
        }

        @Override
        public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
            if (src.remaining() != originalLength || dst.remaining() < originalLength) {
                throw new CompressionException("length mismatch: " + src.remaining() + " vs " + originalLength);
            }
            dst.put(src);
        }
    }

    /**
     * Byte-oriented run-length coding: pairs (count 1..255, byte). Compresses runs, so the
     * compressed length differs from the payload's, and it has malformed inputs to refuse.
     */
    private static final class Rle implements Compressor {
        @Override
        public String name() {
            return "rle";
        }

        @Override
        public int maxCompressedLength(int length) {
            return 2 * length;
        }

        @Override
        public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
            if (dst.remaining() < maxCompressedLength(src.remaining())) {
                throw new CompressionException("destination too small");
            }
            int start = dst.position();
            while (src.hasRemaining()) {
                byte b = src.get();
                int run = 1;
                while (run < 255 && src.hasRemaining() && src.get(src.position()) == b) {
                    src.get();
                    run++;
                }
                dst.put((byte) run).put(b);
            }
            return dst.position() - start;
        }

        @Override
        public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
            int produced = 0;
            if (src.remaining() % 2 != 0) {
                throw new CompressionException("odd length");
            }
            while (src.hasRemaining()) {
                int run = src.get() & 0xFF;
                byte b = src.get();
                if (run == 0 || produced + run > originalLength || dst.remaining() < run) {
                    throw new CompressionException("bad run " + run + " at output " + produced);
                }
                for (int i = 0; i < run; i++) {
                    dst.put(b);
                }
                produced += run;
            }
            if (produced != originalLength) {
                throw new CompressionException("produced " + produced + " bytes, expected " + originalLength);
            }
        }
    }
}
