package org.secondsite.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import org.secondsite.api.storage.BlockDevice;

/**
 * The block hash of the resync messages (docs/PROTOCOL.md §3.11): the first
 * {@value WireProtocol#HASH_BYTES} bytes of the SHA-256 of the block's bytes. A range is cut into
 * blocks of the query's block size from its first byte; its last block may be shorter. One
 * instance per thread (it holds a {@link MessageDigest}); the JDK's SHA-256 uses the CPU's SHA
 * extensions where there are some.
 */
public final class BlockHashes {
    private final MessageDigest sha256;
    private final byte[] digest = new byte[32];

    public BlockHashes() {
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** Number of blocks of {@code blockSize} bytes (the last maybe shorter) in {@code length} bytes. */
    public static int blocks(long length, int blockSize) {
        long n = (length + blockSize - 1) / blockSize;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(length + " bytes in blocks of " + blockSize + " are too many blocks");
        }
        return (int) n;
    }

    /**
     * Hashes {@code length} bytes of {@code data} from {@code from} in blocks of {@code blockSize},
     * writing {@value WireProtocol#HASH_BYTES} bytes per block to {@code out} from {@code outOffset}.
     *
     * @return the number of blocks hashed
     */
    public int hash(byte[] data, int from, int length, int blockSize, byte[] out, int outOffset) {
        int n = 0;
        for (int off = 0; off < length; off += blockSize) {
            int len = Math.min(blockSize, length - off);
            sha256.update(data, from + off, len);
            finish(out, outOffset + n * WireProtocol.HASH_BYTES);
            n++;
        }
        return n;
    }

    /**
     * Hashes the remaining bytes of {@code data} (its position is not moved) in blocks of
     * {@code blockSize}, writing the hashes to {@code out} from {@code outOffset}. A direct buffer
     * is hashed through the digest's small internal copy, which stays in the CPU cache.
     *
     * @return the number of blocks hashed
     */
    public int hash(ByteBuffer data, int blockSize, byte[] out, int outOffset) {
        ByteBuffer d = data.duplicate();
        int end = d.limit();
        int n = 0;
        for (int at = d.position(); at < end; at += blockSize) {
            d.limit(Math.min(end, at + blockSize)).position(at);
            sha256.update(d);
            finish(out, outOffset + n * WireProtocol.HASH_BYTES);
            n++;
        }
        return n;
    }

    /**
     * Reads {@code length} bytes of {@code device} from {@code offset} with large positional reads
     * into {@code buffer} (best direct: the read then copies once) and hashes them in blocks of
     * {@code blockSize}, writing the hashes to {@code out} from {@code outOffset}. A block larger
     * than the buffer is hashed piece by piece.
     *
     * @return the number of blocks hashed
     */
    public int hash(BlockDevice device, long offset, int length, int blockSize, ByteBuffer buffer, byte[] out,
                    int outOffset) throws IOException {
        int capacity = buffer.capacity();
        int n = 0;
        if (blockSize <= capacity) {
            int piece = capacity - capacity % blockSize;
            for (int done = 0; done < length; ) {
                int len = Math.min(piece, length - done);
                buffer.clear().limit(len);
                device.read(offset + done, buffer);
                buffer.flip();
                n += hash(buffer, blockSize, out, outOffset + n * WireProtocol.HASH_BYTES);
                done += len;
            }
            return n;
        }
        for (int done = 0; done < length; ) {
            int block = Math.min(blockSize, length - done);
            for (int in = 0; in < block; ) {
                int len = Math.min(capacity, block - in);
                buffer.clear().limit(len);
                device.read(offset + done + in, buffer);
                buffer.flip();
                sha256.update(buffer);
                in += len;
            }
            finish(out, outOffset + n * WireProtocol.HASH_BYTES);
            n++;
            done += block;
        }
        return n;
    }

    private void finish(byte[] out, int at) {
        try {
            sha256.digest(digest, 0, digest.length);
        } catch (DigestException e) {
            throw new IllegalStateException(e);
        }
        System.arraycopy(digest, 0, out, at, WireProtocol.HASH_BYTES);
    }

    /** Whether hash {@code i} of {@code a} equals hash {@code j} of {@code b} (both laid out as in HASHES). */
    public static boolean same(ByteBuffer a, int i, ByteBuffer b, int j) {
        int x = i * WireProtocol.HASH_BYTES;
        int y = j * WireProtocol.HASH_BYTES;
        return a.getLong(a.position() + x) == b.getLong(b.position() + y)
                && a.getLong(a.position() + x + 8) == b.getLong(b.position() + y + 8);
    }
}
