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
