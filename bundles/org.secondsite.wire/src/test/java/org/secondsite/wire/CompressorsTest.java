package org.secondsite.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.secondsite.api.compress.CompressionException;

class CompressorsTest {

    @Test
    void noneRoundTripsAndChecksLengths() throws Exception {
        byte[] data = MixedData.generate(new java.util.Random(7), 10_000);
        ByteBuffer out = ByteBuffer.allocate(Compressors.NONE.maxCompressedLength(data.length));
        Compressors.NONE.compress(ByteBuffer.wrap(data), out);
        ByteBuffer back = ByteBuffer.allocate(data.length);
        Compressors.NONE.decompress(out.flip(), back, data.length);
        assertArrayEquals(data, back.array());
        assertThrows(CompressionException.class,
                () -> Compressors.NONE.decompress(ByteBuffer.allocate(5), ByteBuffer.allocate(10), 6));
    }

    @Test
    void lookupFallsBackToNoneOnlyForNone() {
        var lookup = Compressors.withNone(Map.of("rle", TestCompressors.RLE)::get);
        assertSame(Compressors.NONE, lookup.apply("none"));
        assertSame(TestCompressors.RLE, lookup.apply("rle"));
        assertNull(lookup.apply("lz4"));
    }
}
