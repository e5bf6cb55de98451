package org.secondsite.compress.zstd.internal;

import org.secondsite.testkit.TestData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

class ZstdCodecTest {
    private final ZstdCodec codec = new ZstdCodec(1);

    @AfterEach
    void close() {
        codec.close();
    }

    @Test
    void roundTripOnMixedDataWithEveryBufferKind() throws Exception {
        for (int size : new int[] {0, 1, 100, 4096, 1 << 20, 4 << 20}) {
            byte[] data = TestData.mixed(size, size);
            for (String srcKind : new String[] {"heap", "direct", "readonly"}) {
                for (boolean directDst : new boolean[] {false, true}) {
                    assertRoundTrip(codec, data, srcKind, directDst);
                }
            }
        }
    }

    @Test
    void higherLevelsCompressMixedDataAtLeastAsWell() throws Exception {
        byte[] data = TestData.mixed(2 << 20, 1);
        int fast = compressedSize(codec, data);
        assertTrue(fast < data.length * 0.7, "level 1 ratio " + (double) data.length / fast);
        try (ZstdCodec strong = new ZstdCodec(12)) {
            assertRoundTrip(strong, data, "heap", false);
            assertTrue(compressedSize(strong, data) <= fast, "level 12 no larger than level 1");
        }
        try (ZstdCodec negative = new ZstdCodec(-3)) {
            assertRoundTrip(negative, data, "direct", true);
        }
    }

    @Test
    void invalidLevelsAreRefused() {
        for (int level : new int[] {0, 23, -8, Integer.MIN_VALUE}) {
            assertThrows(IllegalArgumentException.class, () -> new ZstdCodec(level), "level " + level);
        }
    }

    @Test
    void contextsAreReusedAcrossCalls() throws Exception {
        byte[] data = TestData.mixed(100_000, 2);
        for (int i = 0; i < 50; i++) {
            assertRoundTrip(codec, data, i % 2 == 0 ? "heap" : "direct", i % 3 == 0);
        }
        assertEquals(2, codec.contextsCreated(), "one compression and one decompression context for sequential calls");

        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        assertRoundTrip(codec, data, "heap", false);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(codec.contextsCreated() <= 2 + 2 * 4, "at most one context of each kind per concurrent caller: "
                + codec.contextsCreated());
    }

    @Test
    void closedCodecStillWorksWithoutKeepingContexts() throws Exception {
        codec.close();
        assertRoundTrip(codec, TestData.mixed(5000, 3), "heap", false);
    }

    @Test
    void malformedInputIsACompressionException() throws Exception {
        byte[] data = TestData.mixed(65536, 4);
        ByteBuffer c = ByteBuffer.allocate(codec.maxCompressedLength(data.length));
        int n = codec.compress(ByteBuffer.wrap(data), c);
        byte[] compressed = Arrays.copyOf(c.array(), n);

        assertThrows(CompressionException.class, () -> decompress(Arrays.copyOf(compressed, n / 2), data.length, false));
        assertThrows(CompressionException.class, () -> decompress(compressed, data.length - 1, true), "original too small");
        assertThrows(CompressionException.class, () -> decompress(compressed, data.length + 1, false), "original too large");
        assertThrows(CompressionException.class, () -> codec.decompress(ByteBuffer.wrap(compressed), ByteBuffer.allocate(1), -1));

        Random random = new Random(5);
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
            try {
                byte[] out = decompress(bad, data.length, i % 3 == 0);
                assertEquals(data.length, out.length);
            } catch (CompressionException expected) {
                // refused: fine
            }
        }
    }

    @Test
    void destinationTooSmallIsACompressionException() throws Exception {
        byte[] data = TestData.mixed(10_000, 6);
        CompressionException e = assertThrows(CompressionException.class,
                () -> codec.compress(ByteBuffer.wrap(data), ByteBuffer.allocate(codec.maxCompressedLength(data.length) - 1)));
        assertTrue(e.getMessage().contains("need up to"), e.getMessage());
        ByteBuffer c = ByteBuffer.allocate(codec.maxCompressedLength(data.length));
        codec.compress(ByteBuffer.wrap(data), c);
        c.flip();
        assertThrows(CompressionException.class, () -> codec.decompress(c.duplicate(), ByteBuffer.allocate(data.length - 1), data.length));
        assertThrows(CompressionException.class,
                () -> codec.decompress(c.duplicate(), ByteBuffer.allocate(data.length).asReadOnlyBuffer(), data.length));
    }

    @Test
    void componentTakesItsLevelFromConfiguration() throws Exception {
        ZstdCompressorComponent component = new ZstdCompressorComponent(config(3));
        try {
            assertEquals(3, component.level());
            assertEquals("zstd", component.name());
            assertRoundTrip(component, TestData.mixed(50_000, 7), "heap", true);
        } finally {
            component.deactivate();
        }
        assertThrows(IllegalArgumentException.class, () -> new ZstdCompressorComponent(config(0)));
    }

    private static ZstdConfig config(int level) {
        return new ZstdConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return ZstdConfig.class;
            }

            @Override
            public int level() {
                return level;
            }
        };
    }

    private byte[] decompress(byte[] compressed, int originalLength, boolean direct) throws CompressionException {
        ByteBuffer src = direct ? ByteBuffer.allocateDirect(compressed.length).put(compressed).flip() : ByteBuffer.wrap(compressed);
        ByteBuffer out = ByteBuffer.allocate(Math.max(0, originalLength));
        codec.decompress(src, out, originalLength);
        return out.array();
    }

    private static int compressedSize(Compressor c, byte[] data) throws CompressionException {
        return c.compress(ByteBuffer.wrap(data), ByteBuffer.allocate(c.maxCompressedLength(data.length)));
    }

    static void assertRoundTrip(Compressor c, byte[] data, String srcKind, boolean directDst) throws CompressionException {
        ByteBuffer src = srcKind.equals("direct") ? ByteBuffer.allocateDirect(data.length + 7) : ByteBuffer.allocate(data.length + 7);
        src.position(7);
        src.put(data).flip().position(7);
        if (srcKind.equals("readonly")) {
            src = src.asReadOnlyBuffer();
        }
        int bound = c.maxCompressedLength(data.length);
        ByteBuffer dst = directDst ? ByteBuffer.allocateDirect(bound + 3) : ByteBuffer.allocate(bound + 3);
        dst.position(3);
        int n = c.compress(src, dst);
        assertEquals(src.limit(), src.position(), "src consumed");
        assertEquals(3 + n, dst.position());
        dst.flip().position(3);
        ByteBuffer back = directDst ? ByteBuffer.allocate(data.length + 5) : ByteBuffer.allocateDirect(data.length + 5);
        back.position(5);
        c.decompress(dst, back, data.length);
        assertEquals(5 + data.length, back.position());
        assertEquals(dst.limit(), dst.position(), "compressed input consumed");
        back.flip().position(5);
        byte[] out = new byte[data.length];
        back.get(out);
        assertArrayEquals(data, out, c + " size " + data.length + " src " + srcKind + " direct dst " + directDst);
    }
}
