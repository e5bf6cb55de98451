package org.secondsite.compress.zstd.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;

/**
 * Zstandard frames with zstd-jni at a fixed level. Plain Java (no OSGi types), thread-safe.
 *
 * <p>Native contexts are reused: a fresh context per call is more than ten times slower on
 * batch-sized inputs. Idle contexts wait in a small bounded pool rather than in thread-locals,
 * so that {@link #close()} frees their native memory when the component goes away and no
 * thread of another bundle keeps this bundle's classes alive.
 *
 * <p>Fast paths: both buffers direct, or both heap; for decompression also any mix. Other
 * combinations (compressing between a heap and a direct buffer, read-only heap input) copy
 * through a temporary array.
 */
public final class ZstdCodec implements Compressor, AutoCloseable {
    /** Name in batches and in the {@value Compressor#PROPERTY} service property. */
    public static final String NAME = "zstd";
    /** Lowest level accepted (fast negative levels). */
    public static final int MIN_LEVEL = -7;
    /** Highest level accepted. */
    public static final int MAX_LEVEL = 22;

    private static final int MAX_IDLE = 16;

    private final int level;
    private final BlockingQueue<ZstdCompressCtx> idleCompressors = new ArrayBlockingQueue<>(MAX_IDLE);
    private final BlockingQueue<ZstdDecompressCtx> idleDecompressors = new ArrayBlockingQueue<>(MAX_IDLE);
    private final AtomicInteger contextsCreated = new AtomicInteger();
    private volatile boolean closed;

    /** @throws IllegalArgumentException if {@code level} is outside {@link #MIN_LEVEL}..{@link #MAX_LEVEL} */
    public ZstdCodec(int level) {
        if (level < MIN_LEVEL || level > MAX_LEVEL || level == 0) {
            throw new IllegalArgumentException("zstd level must be " + MIN_LEVEL + "..-1 or 1.." + MAX_LEVEL + ": " + level);
        }
        this.level = level;
    }

    public int level() {
        return level;
    }

    /** Number of native contexts created so far (compression and decompression). */
    public int contextsCreated() {
        return contextsCreated.get();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int maxCompressedLength(int length) {
        long bound = Zstd.compressBound(length);
        return bound > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) bound;
    }

    @Override
    public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
        int n = src.remaining();
        int bound = maxCompressedLength(n);
        if (dst.isReadOnly()) {
            throw new CompressionException("zstd: destination buffer is read-only");
        }
        if (dst.remaining() < bound) {
            throw new CompressionException("zstd: destination has " + dst.remaining() + " bytes left, " + n
                    + " input bytes need up to " + bound);
        }
        ZstdCompressCtx ctx = borrowCompressor();
        try {
            int written;
            if (src.isDirect() && dst.isDirect()) {
                written = ctx.compressDirectByteBuffer(dst, dst.position(), dst.remaining(), src, src.position(), n);
            } else {
                byte[] in;
                int inOff;
                if (src.hasArray()) {
                    in = src.array();
                    inOff = src.arrayOffset() + src.position();
                } else {
                    in = new byte[n];
                    src.get(src.position(), in);
                    inOff = 0;
                }
                if (dst.hasArray()) {
                    written = ctx.compressByteArray(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining(), in, inOff, n);
                } else {
                    byte[] out = new byte[bound];
                    written = ctx.compressByteArray(out, 0, bound, in, inOff, n);
                    dst.put(dst.position(), out, 0, written);
                }
            }
            src.position(src.limit());
            dst.position(dst.position() + written);
            return written;
        } catch (RuntimeException e) {
            throw new CompressionException("zstd: compression of " + n + " bytes failed: " + e.getMessage(), e);
        } finally {
            release(ctx);
        }
    }

    @Override
    public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
        if (originalLength < 0) {
            throw new CompressionException("zstd: original length " + originalLength + " is negative");
        }
        if (dst.isReadOnly()) {
            throw new CompressionException("zstd: destination buffer is read-only");
        }
        if (dst.remaining() < originalLength) {
            throw new CompressionException("zstd: destination has " + dst.remaining() + " bytes left, the original was "
                    + originalLength);
        }
        int len = src.remaining();
        ZstdDecompressCtx ctx = borrowDecompressor();
        int n;
        try {
            if (src.isDirect()) {
                n = dst.isDirect()
                        ? ctx.decompressDirectByteBuffer(dst, dst.position(), originalLength, src, src.position(), len)
                        : ctx.decompressDirectByteBufferToByteArray(dst.array(), dst.arrayOffset() + dst.position(),
                                originalLength, src, src.position(), len);
            } else {
                byte[] in;
                int inOff;
                if (src.hasArray()) {
                    in = src.array();
                    inOff = src.arrayOffset() + src.position();
                } else {
                    in = new byte[len];
                    src.get(src.position(), in);
                    inOff = 0;
                }
                n = dst.isDirect()
                        ? ctx.decompressByteArrayToDirectByteBuffer(dst, dst.position(), originalLength, in, inOff, len)
                        : ctx.decompressByteArray(dst.array(), dst.arrayOffset() + dst.position(), originalLength, in, inOff, len);
            }
        } catch (RuntimeException e) {
            throw new CompressionException("zstd: malformed input of " + len + " bytes for " + originalLength
                    + " original bytes: " + e.getMessage(), e);
        } finally {
            release(ctx);
        }
        if (n != originalLength) {
            throw new CompressionException("zstd: input decompressed to " + n + " bytes, expected " + originalLength);
        }
        src.position(src.limit());
        dst.position(dst.position() + n);
    }

    private ZstdCompressCtx borrowCompressor() {
        ZstdCompressCtx ctx = idleCompressors.poll();
        if (ctx == null) {
            ctx = new ZstdCompressCtx().setLevel(level);
            contextsCreated.incrementAndGet();
        }
        return ctx;
    }

    private ZstdDecompressCtx borrowDecompressor() {
        ZstdDecompressCtx ctx = idleDecompressors.poll();
        if (ctx == null) {
            ctx = new ZstdDecompressCtx();
            contextsCreated.incrementAndGet();
        }
        return ctx;
    }

    private void release(ZstdCompressCtx ctx) {
        if (closed || !idleCompressors.offer(ctx)) {
            ctx.close();
        } else if (closed) {
            drain();
        }
    }

    private void release(ZstdDecompressCtx ctx) {
        if (closed || !idleDecompressors.offer(ctx)) {
            ctx.close();
        } else if (closed) {
            drain();
        }
    }

    /** Frees the idle native contexts; contexts in use are freed when their call ends. */
    @Override
    public void close() {
        closed = true;
        drain();
    }

    private void drain() {
        for (ZstdCompressCtx c; (c = idleCompressors.poll()) != null;) {
            c.close();
        }
        for (ZstdDecompressCtx d; (d = idleDecompressors.poll()) != null;) {
            d.close();
        }
    }

    @Override
    public String toString() {
        return "zstd (level " + level + ")";
    }
}
