package org.secondsite.capture.scan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

class Xxh64Test {
    private static final long PRIME32 = 2654435761L;

    /** The sanity buffer of xxHash's {@code cli/xsum_sanity_check.c}. */
    private static byte[] sanityBuffer(int len) {
        byte[] b = new byte[len];
        long gen = PRIME32;
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (gen >>> 56);
            gen *= 0x9E3779B185EBCA8DL; // 11400714785074694797
        }
        return b;
    }

    private static long hash(byte[] b, int len, long seed) {
        return Xxh64.hash(ByteBuffer.wrap(b), 0, len, seed);
    }

    @Test
    void referenceSanityVectors() {
        // xxHash v0.8.x cli/xsum_sanity_check.c, XXH64 (length, seed, expected)
        byte[] b = sanityBuffer(222);
        assertEquals(0xEF46DB3751D8E999L, hash(b, 0, 0));
        assertEquals(0xAC75FDA2929B17EFL, hash(b, 0, PRIME32));
        assertEquals(0xE934A84ADB052768L, hash(b, 1, 0));
        assertEquals(0x5014607643A9B4C3L, hash(b, 1, PRIME32));
        assertEquals(0x9136A0DCA57457EEL, hash(b, 4, 0));
        assertEquals(0x8282DCC4994E35C8L, hash(b, 14, 0));
        assertEquals(0xC3BD6BF63DEB6DF0L, hash(b, 14, PRIME32));
        assertEquals(0xB641AE8CB691C174L, hash(b, 222, 0));
        assertEquals(0x20CB8AB7AE10C14AL, hash(b, 222, PRIME32));
    }

    @Test
    void knownStrings() {
        assertEquals(0x44BC2CF5AD770999L, hash("abc".getBytes(StandardCharsets.US_ASCII), 3, 0));
        byte[] s = "Nobody inspects the spammish repetition".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xFBCEA83C8A378BF1L, hash(s, s.length, 0));
    }

    @Test
    void sameHashWhateverTheBufferKindOffsetAndOrder() {
        byte[] data = new byte[70_000];
        new Random(7).nextBytes(data);
        for (int len : new int[] {0, 3, 31, 32, 33, 4096, 65536 + 17}) {
            byte[] exact = java.util.Arrays.copyOfRange(data, 1001, 1001 + len);
            long want = hash(exact, len, 0);
            ByteBuffer heapBe = ByteBuffer.wrap(data);
            ByteBuffer direct = ByteBuffer.allocateDirect(data.length).order(ByteOrder.LITTLE_ENDIAN).put(data);
            direct.position(5);
            assertEquals(want, Xxh64.hash(heapBe, 1001, len, 0), "heap, big-endian view, len " + len);
            assertEquals(want, Xxh64.hash(direct, 1001, len, 0), "direct, len " + len);
            assertEquals(5, direct.position(), "position untouched");
            assertEquals(ByteOrder.BIG_ENDIAN, heapBe.order(), "order untouched");
        }
    }

    @Test
    void oneBitFlipChangesTheHash() {
        byte[] data = new byte[4096];
        long base = hash(data, data.length, 0);
        for (int bit = 0; bit < data.length * 8; bit += 97) {
            data[bit / 8] ^= (byte) (1 << (bit % 8));
            assertNotEquals(base, hash(data, data.length, 0), "bit " + bit);
            data[bit / 8] ^= (byte) (1 << (bit % 8));
        }
    }
}
