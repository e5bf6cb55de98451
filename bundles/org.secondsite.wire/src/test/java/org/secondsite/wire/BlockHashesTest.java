package org.secondsite.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.secondsite.api.storage.BlockDevice;

class BlockHashesTest {

    @Test
    void eachBlockIsTheTruncatedSha256OfItsBytesAndTheLastMayBeShorter() throws Exception {
        byte[] data = new byte[3 * 4096 + 100];
        new Random(5).nextBytes(data);
        byte[] out = new byte[4 * WireProtocol.HASH_BYTES];
        assertEquals(4, new BlockHashes().hash(data, 0, data.length, 4096, out, 0));
        assertEquals(4, BlockHashes.blocks(data.length, 4096));
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (int i = 0; i < 4; i++) {
            int len = Math.min(4096, data.length - i * 4096);
            byte[] want = Arrays.copyOf(md.digest(Arrays.copyOfRange(data, i * 4096, i * 4096 + len)), 16);
            assertArrayEquals(want, Arrays.copyOfRange(out, i * 16, i * 16 + 16), "block " + i);
        }
    }

    @Test
    void readingADeviceGivesTheSameHashesWhateverTheBufferSize() throws Exception {
        byte[] data = new byte[1 << 20];
        new Random(9).nextBytes(data);
        BlockDevice dev = new BlockDevice() {
            @Override
            public long size() {
                return data.length;
            }

            @Override
            public void read(long offset, ByteBuffer dst) {
                dst.put(data, (int) offset, dst.remaining());
            }

            @Override
            public void write(long offset, ByteBuffer src) throws java.io.IOException {
                throw new java.io.IOException("a read-only device: hashing only reads it");
            }

            @Override
            public void zero(long offset, long length) throws java.io.IOException {
                throw new java.io.IOException("a read-only device: hashing only reads it");
            }

            @Override
            public void flush() {
            }

            @Override
            public boolean isReadOnly() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        BlockHashes h = new BlockHashes();
        for (int blockSize : new int[] {512, 4096, 65536, 1 << 19}) {
            int length = data.length - 1000 - 7;
            int n = BlockHashes.blocks(length, blockSize);
            byte[] want = new byte[n * 16];
            h.hash(data, 7, length, blockSize, want, 0);
            for (int buffer : new int[] {4096, 10000, 1 << 20}) {
                for (boolean direct : new boolean[] {false, true}) {
                    byte[] got = new byte[n * 16];
                    ByteBuffer b = direct ? ByteBuffer.allocateDirect(buffer) : ByteBuffer.allocate(buffer);
                    assertEquals(n, h.hash(dev, 7, length, blockSize, b, got, 0));
                    assertArrayEquals(want, got, "block " + blockSize + ", buffer " + buffer + ", direct " + direct);
                }
            }
            byte[] fromBuffer = new byte[n * 16];
            ByteBuffer view = ByteBuffer.allocateDirect(length).put(ByteBuffer.wrap(data, 7, length)).flip();
            assertEquals(n, h.hash(view, blockSize, fromBuffer, 0));
            assertEquals(0, view.position(), "the buffer's position is not moved");
            assertArrayEquals(want, fromBuffer);
        }
    }

    @Test
    void sameComparesHashesAtTheirIndexes() {
        byte[] a = new byte[48];
        new Random(1).nextBytes(a);
        byte[] b = new byte[32];
        System.arraycopy(a, 16, b, 0, 16);
        assertTrue(BlockHashes.same(ByteBuffer.wrap(a), 1, ByteBuffer.wrap(b), 0));
        assertFalse(BlockHashes.same(ByteBuffer.wrap(a), 0, ByteBuffer.wrap(b), 0));
        b[15] ^= 1;
        assertFalse(BlockHashes.same(ByteBuffer.wrap(a), 1, ByteBuffer.wrap(b), 0));
    }
}
