package org.secondsite.compress.lz4.internal;

import org.secondsite.testkit.TestData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

class Lz4CodecTest {
    private final Lz4Codec codec = Lz4Codec.create();

    @Test
    void nativeImplementationRunsOnLinuxX86_64() {
        String os = System.getProperty("os.name");
        String arch = System.getProperty("os.arch");
        assumeTrue(os.startsWith("Linux") && (arch.equals("amd64") || arch.equals("x86_64")),
                "lz4-java ships the JNI library tested here for linux x86_64; this is " + os + "/" + arch);
        assertEquals(Lz4Codec.Implementation.NATIVE, codec.implementation(), "fallback: " + codec.fallbackReason());
        assertEquals(Lz4Codec.Implementation.NATIVE, new Lz4CompressorComponent().implementation());
    }

    @Test
    void roundTripOnMixedDataWithHeapAndDirectBuffers() throws Exception {
        for (int size : new int[] {0, 1, 100, 4096, 1 << 20, 4 << 20}) {
            byte[] data = TestData.mixed(size, size);
            for (boolean directSrc : new boolean[] {false, true}) {
                for (boolean directDst : new boolean[] {false, true}) {
                    assertRoundTrip(codec, data, directSrc, directDst);
                }
            }
        }
    }

    @Test
    void mixedDataCompresses() throws Exception {
        byte[] data = TestData.mixed(4 << 20, 1);
        ByteBuffer dst = ByteBuffer.allocate(codec.maxCompressedLength(data.length));
        int n = codec.compress(ByteBuffer.wrap(data), dst);
        assertTrue(n < data.length * 0.8, "ratio " + (double) data.length / n);
    }

    @Test
    void javaFallbackIsFormatCompatibleWithNative() throws Exception {
        Lz4Codec java = Lz4Codec.javaOnly("test");
        assertEquals(Lz4Codec.Implementation.JAVA, java.implementation());
        byte[] data = TestData.mixed(300_000, 2);
        assertRoundTrip(java, data, false, true);
        ByteBuffer compressed = ByteBuffer.allocate(java.maxCompressedLength(data.length));
        java.compress(ByteBuffer.wrap(data), compressed);
        ByteBuffer out = ByteBuffer.allocate(data.length);
        codec.decompress(compressed.flip(), out, data.length);
        assertArrayEquals(data, out.array());
    }

    @Test
    void malformedInputIsACompressionException() throws Exception {
        byte[] data = TestData.mixed(65536, 3);
        ByteBuffer c = ByteBuffer.allocate(codec.maxCompressedLength(data.length));
        int n = codec.compress(ByteBuffer.wrap(data), c);
        byte[] compressed = Arrays.copyOf(c.array(), n);

        assertThrows(CompressionException.class, () -> decompress(codec, Arrays.copyOf(compressed, n / 2), data.length));
        assertThrows(CompressionException.class, () -> decompress(codec, compressed, data.length - 1), "original too small");
        assertThrows(CompressionException.class, () -> decompress(codec, compressed, data.length + 1), "original too large");
        assertThrows(CompressionException.class, () -> codec.decompress(ByteBuffer.wrap(compressed), ByteBuffer.allocate(1), -1));

        Random random = new Random(4);
        for (Lz4Codec impl : new Lz4Codec[] {codec, Lz4Codec.javaOnly("test")}) {
            for (int i = 0; i < 300; i++) {
                byte[] bad = compressed.clone();
                if (i % 2 == 0) {
                    bad = new byte[1 + random.nextInt(2000)];
                    random.nextBytes(bad);
                } else {
                    for (int k = 0; k < 1 + random.nextInt(8); k++) {
                        bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
                    }
                }
                byte[] input = bad;
                try {
                    byte[] out = decompress(impl, input, data.length);
                    // lz4 blocks carry no checksum: a mutation can decode to other bytes of the right length
                    assertEquals(data.length, out.length);
                } catch (CompressionException expected) {
                    // refused: fine
                }
            }
        }
    }

    @Test
    void destinationTooSmallIsACompressionException() throws Exception {
        byte[] data = TestData.mixed(10_000, 5);
        CompressionException e = assertThrows(CompressionException.class,
                () -> codec.compress(ByteBuffer.wrap(data), ByteBuffer.allocate(codec.maxCompressedLength(data.length) - 1)));
        assertTrue(e.getMessage().contains("need up to"), e.getMessage());

        ByteBuffer c = ByteBuffer.allocate(codec.maxCompressedLength(data.length));
        codec.compress(ByteBuffer.wrap(data), c);
        c.flip();
        assertThrows(CompressionException.class, () -> codec.decompress(c.duplicate(), ByteBuffer.allocate(data.length - 1), data.length));
        assertThrows(CompressionException.class,
                () -> codec.compress(ByteBuffer.wrap(data), ByteBuffer.allocate(20_000).asReadOnlyBuffer()));
    }

    @Test
    void componentIsNamedLz4() {
        Compressor c = new Lz4CompressorComponent();
        assertEquals("lz4", c.name());
        assertEquals(codec.maxCompressedLength(12345), c.maxCompressedLength(12345));
    }

    private static byte[] decompress(Compressor c, byte[] compressed, int originalLength) throws CompressionException {
        ByteBuffer out = ByteBuffer.allocate(Math.max(0, originalLength));
        c.decompress(ByteBuffer.wrap(compressed), out, originalLength);
        return out.array();
    }

    static void assertRoundTrip(Compressor c, byte[] data, boolean directSrc, boolean directDst) throws CompressionException {
        ByteBuffer src = directSrc ? ByteBuffer.allocateDirect(data.length + 7) : ByteBuffer.allocate(data.length + 7);
        src.position(7);
        src.put(data).flip().position(7);
        int bound = c.maxCompressedLength(data.length);
        ByteBuffer dst = directDst ? ByteBuffer.allocateDirect(bound + 3) : ByteBuffer.allocate(bound + 3);
        dst.position(3);
        int n = c.compress(src, dst);
        assertEquals(src.limit(), src.position(), "src consumed");
        assertEquals(3 + n, dst.position());
        dst.flip().position(3);
        ByteBuffer back = directSrc ? ByteBuffer.allocateDirect(data.length + 5) : ByteBuffer.allocate(data.length + 5);
        back.position(5);
        c.decompress(dst, back, data.length);
        assertEquals(5 + data.length, back.position());
        assertEquals(dst.limit(), dst.position(), "compressed input consumed");
        back.flip().position(5);
        byte[] out = new byte[data.length];
        back.get(out);
        assertArrayEquals(data, out, c.name() + " size " + data.length + " direct " + directSrc + "/" + directDst);
    }
}
