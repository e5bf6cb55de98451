package org.secondsite.compress.lz4.internal;

import java.nio.ByteBuffer;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * LZ4 block compression with lz4-java. Plain Java (no OSGi types), thread-safe.
 *
 * <p>Inside OSGi {@code LZ4Factory.fastestInstance()} silently returns pure Java (it tries JNI
 * only from the system class loader), so this asks for {@code nativeInstance()} explicitly and
 * falls back to {@code fastestJavaInstance()} only if the JNI library cannot be loaded. It
 * decompresses with the <em>safe</em> decompressor: in lz4-java 1.14 {@code fastDecompressor()}
 * is pure Java and several times slower, and only the safe one is bounded by its input.
 */
public final class Lz4Codec implements Compressor {
    /** Name in batches and in the {@value Compressor#PROPERTY} service property. */
    public static final String NAME = "lz4";

    /** Which lz4-java implementation runs. */
    public enum Implementation {
        /** The JNI binding of the C library. */
        NATIVE,
        /** lz4-java's pure-Java port (fallback). */
        JAVA
    }

    private final Implementation implementation;
    private final String fallbackReason;
    private final LZ4Compressor compressor;
    private final LZ4SafeDecompressor decompressor;

    private Lz4Codec(LZ4Factory factory, Implementation implementation, String fallbackReason) {
        this.implementation = implementation;
        this.fallbackReason = fallbackReason;
        this.compressor = factory.fastCompressor();
        this.decompressor = factory.safeDecompressor();
    }

    /** The native implementation if its JNI library loads, otherwise the fastest pure-Java one. */
    public static Lz4Codec create() {
        try {
            return new Lz4Codec(LZ4Factory.nativeInstance(), Implementation.NATIVE, null);
        } catch (LinkageError | RuntimeException | AssertionError e) {
            return javaOnly("JNI library did not load: " + e);
        }
    }

    /** The pure-Java implementation, e.g. where no native library exists for the platform. */
    public static Lz4Codec javaOnly(String reason) {
        return new Lz4Codec(LZ4Factory.fastestJavaInstance(), Implementation.JAVA, reason);
    }

    /** Which implementation runs. */
    public Implementation implementation() {
        return implementation;
    }

    /** Why the native implementation is not used; {@code null} when it is. */
    public String fallbackReason() {
        return fallbackReason;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int maxCompressedLength(int length) {
        return compressor.maxCompressedLength(length);
    }

    @Override
    public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
        int n = src.remaining();
        int bound = compressor.maxCompressedLength(n);
        if (dst.isReadOnly()) {
            throw new CompressionException("lz4: destination buffer is read-only");
        }
        if (dst.remaining() < bound) {
            throw new CompressionException("lz4: destination has " + dst.remaining() + " bytes left, " + n
                    + " input bytes need up to " + bound);
        }
        try {
            int written;
            if (!src.hasArray() && !src.isDirect()) {
                // A read-only heap buffer: lz4-java would silently use its pure-Java port, whose output differs
                // from the native one's (the output must depend only on the input), and is slower. Copy it.
                byte[] in = new byte[n];
                src.get(src.position(), in);
                written = compressor.compress(ByteBuffer.wrap(in), 0, n, dst, dst.position(), dst.remaining());
            } else {
                written = compressor.compress(src, src.position(), n, dst, dst.position(), dst.remaining());
            }
            src.position(src.limit());
            dst.position(dst.position() + written);
            return written;
        } catch (RuntimeException e) {
            throw new CompressionException("lz4: compression of " + n + " bytes failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
        if (originalLength < 0) {
            throw new CompressionException("lz4: original length " + originalLength + " is negative");
        }
        if (dst.isReadOnly()) {
            throw new CompressionException("lz4: destination buffer is read-only");
        }
        if (dst.remaining() < originalLength) {
            throw new CompressionException("lz4: destination has " + dst.remaining() + " bytes left, the original was "
                    + originalLength);
        }
        int n;
        try {
            n = decompressor.decompress(src, src.position(), src.remaining(), dst, dst.position(), originalLength);
        } catch (RuntimeException e) {
            throw new CompressionException("lz4: malformed input of " + src.remaining() + " bytes for " + originalLength
                    + " original bytes: " + e.getMessage(), e);
        }
        if (n != originalLength) {
            throw new CompressionException("lz4: input decompressed to " + n + " bytes, expected " + originalLength);
        }
        src.position(src.limit());
        dst.position(dst.position() + n);
    }

    @Override
    public String toString() {
        return "lz4 (" + implementation + ")";
    }
}
