package ${package}.internal;

import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

/**
 * The compression logic as plain Java (no OSGi types), so it is tested without a container.
 * This starting point uses the JDK's zlib (Deflate at level 1); replace the bodies of
 * compress() and decompress() with your algorithm and keep the checks: the
 * compressor TCK ({@code CompressorComponentTckTest}) tells you whether the contract holds.
 *
 * <p>Thread-safe: every call uses its own {@link Deflater}/{@link Inflater}. A production
 * plugin would pool them (they hold native memory), as the zstd plugin pools its contexts.
 */
public final class DeflateCodec implements Compressor {
    /** Name in batches and in the secondsite.compressor service property. */
    public static final String NAME = "${compressorName}";

    private static final int LEVEL = 1;

    @Override
    public String name() {
        return NAME;
    }

    /** zlib's compressBound() plus the zlib wrapper and a margin. */
    @Override
    public int maxCompressedLength(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must not be negative: " + length);
        }
        long bound = (long) length + (length >>> 12) + (length >>> 14) + (length >>> 25) + 13 + 64;
        return (int) Math.min(Integer.MAX_VALUE, bound);
    }

    @Override
    public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
        int n = src.remaining();
        int bound = maxCompressedLength(n);
        if (dst.isReadOnly()) {
            throw new CompressionException(NAME + ": destination buffer is read-only");
        }
        if (dst.remaining() < bound) {
            throw new CompressionException(NAME + ": destination has " + dst.remaining() + " bytes left, " + n
                    + " input bytes need up to " + bound);
        }
        Deflater deflater = new Deflater(LEVEL);
        try {
            int start = dst.position();
            deflater.setInput(src);
            deflater.finish();
            while (!deflater.finished()) {
                if (deflater.deflate(dst) == 0 && !dst.hasRemaining()) {
                    throw new CompressionException(NAME + ": output exceeded maxCompressedLength(" + n + ")");
                }
            }
            return dst.position() - start;
        } finally {
            deflater.end();
        }
    }

    @Override
    public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
        if (originalLength < 0) {
            throw new CompressionException(NAME + ": original length " + originalLength + " is negative");
        }
        if (dst.isReadOnly()) {
            throw new CompressionException(NAME + ": destination buffer is read-only");
        }
        if (dst.remaining() < originalLength) {
            throw new CompressionException(NAME + ": destination has " + dst.remaining()
                    + " bytes left, the original was " + originalLength);
        }
        int srcLength = src.remaining();
        // Inflate into a view limited to originalLength bytes: whatever src holds, nothing lands outside.
        ByteBuffer out = dst.duplicate();
        out.limit(out.position() + originalLength);
        ByteBuffer in = src.duplicate();
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(in);
            while (!inflater.finished()) {
                int before = in.remaining();
                if (inflater.inflate(out) == 0 && in.remaining() == before) {
                    break; // no progress: input exhausted (truncated), output full (too long) or a dictionary needed
                }
            }
            if (!inflater.finished()) {
                throw new CompressionException(NAME + ": input of " + srcLength + " bytes is truncated or decompresses"
                        + " to more than the original " + originalLength + " bytes");
            }
            int produced = out.position() - dst.position();
            if (produced != originalLength) {
                throw new CompressionException(NAME + ": input decompressed to " + produced + " bytes, expected "
                        + originalLength);
            }
            if (in.hasRemaining()) {
                throw new CompressionException(NAME + ": " + in.remaining() + " bytes follow the end of the compressed"
                        + " stream");
            }
        } catch (DataFormatException e) {
            throw new CompressionException(NAME + ": malformed input of " + srcLength + " bytes: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
        src.position(src.limit());
        dst.position(dst.position() + originalLength);
    }
}
