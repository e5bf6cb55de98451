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
     * Reads {@code length} bytes of {@code device} from {@code offset} with large positional reads
     * into {@code buffer} and hashes them in blocks of {@code blockSize}, writing the hashes to
     * {@code out} from {@code outOffset}. A block larger than the buffer is hashed piece by piece.
     *
     * @return the number of blocks hashed
     */
    public int hash(BlockDevice device, long offset, int length, int blockSize, byte[] buffer, byte[] out,
                    int outOffset) throws IOException {
        int n = 0;
        if (blockSize <= buffer.length) {
            int piece = buffer.length - buffer.length % blockSize;
            for (int done = 0; done < length; ) {
                int len = Math.min(piece, length - done);
                device.read(offset + done, ByteBuffer.wrap(buffer, 0, len));
                n += hash(buffer, 0, len, blockSize, out, outOffset + n * WireProtocol.HASH_BYTES);
                done += len;
            }
            return n;
        }
        for (int done = 0; done < length; ) {
            int block = Math.min(blockSize, length - done);
            for (int in = 0; in < block; ) {
                int len = Math.min(buffer.length, block - in);
                device.read(offset + done + in, ByteBuffer.wrap(buffer, 0, len));
                sha256.update(buffer, 0, len);
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
