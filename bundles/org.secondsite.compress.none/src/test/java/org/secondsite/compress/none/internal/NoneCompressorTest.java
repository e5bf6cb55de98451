package org.secondsite.compress.none.internal;

import org.secondsite.testkit.TestData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.secondsite.api.compress.CompressionException;

class NoneCompressorTest {
    private final NoneCompressor none = new NoneCompressor();

    @Test
    void roundTripOnMixedDataWithHeapAndDirectBuffers() throws Exception {
        for (int size : new int[] {0, 1, 4096, 1 << 20}) {
            byte[] data = TestData.mixed(size, size);
            for (boolean directSrc : new boolean[] {false, true}) {
                for (boolean directDst : new boolean[] {false, true}) {
                    ByteBuffer src = directSrc ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
                    src.put(data).flip();
                    ByteBuffer dst = directDst ? ByteBuffer.allocateDirect(size + 2) : ByteBuffer.allocate(size + 2);
                    dst.position(2);
                    assertEquals(size, none.compress(src.asReadOnlyBuffer(), dst));
                    assertEquals(size + 2, dst.position());
                    dst.flip().position(2);
                    ByteBuffer back = ByteBuffer.allocate(size);
                    none.decompress(dst, back, size);
                    assertEquals(dst.limit(), dst.position());
                    assertArrayEquals(data, back.array());
                }
            }
        }
    }

    @Test
    void malformedInputIsACompressionException() {
        ByteBuffer stored = ByteBuffer.wrap(TestData.mixed(1000, 1));
        assertThrows(CompressionException.class, () -> none.decompress(stored.duplicate(), ByteBuffer.allocate(2000), 999));
        assertThrows(CompressionException.class, () -> none.decompress(stored.duplicate(), ByteBuffer.allocate(2000), 1001));
        assertThrows(CompressionException.class, () -> none.decompress(stored.duplicate(), ByteBuffer.allocate(2000), -1));
    }

    @Test
    void destinationTooSmallIsACompressionException() {
        ByteBuffer data = ByteBuffer.wrap(TestData.mixed(1000, 2));
        assertThrows(CompressionException.class, () -> none.compress(data.duplicate(), ByteBuffer.allocate(999)));
        assertThrows(CompressionException.class, () -> none.decompress(data.duplicate(), ByteBuffer.allocate(999), 1000));
        assertThrows(CompressionException.class,
                () -> none.compress(data.duplicate(), ByteBuffer.allocate(1000).asReadOnlyBuffer()));
        assertEquals(0, data.position(), "nothing consumed on failure");
    }

    @Test
    void isNamedNone() {
        assertEquals("none", none.name());
        assertEquals(123, none.maxCompressedLength(123));
    }
}
