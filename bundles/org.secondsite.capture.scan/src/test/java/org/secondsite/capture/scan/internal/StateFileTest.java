package org.secondsite.capture.scan.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateFileTest {
    @TempDir
    Path dir;

    @Test
    void missingFileIsNoState() throws IOException {
        assertNull(new StateFile(dir.resolve("none.scanstate")).load(BlockHash.XXH64, 4096, 1000));
    }

    @Test
    void roundTripAcrossSeveralIoChunks() throws IOException {
        // 300 000 longs = 2.3 MB, more than the 1 MiB I/O chunk; odd count so the trailer straddles
        long size = 150_000L * 4096 - 1;
        long[] table = new long[300_000];
        Random r = new Random(1);
        for (int i = 0; i < table.length; i++) {
            table[i] = r.nextLong();
        }
        StateFile f = new StateFile(dir.resolve("d.scanstate"));
        f.save(BlockHash.SHA256, 4096, size, table, table.length);
        assertEquals(StateFile.HEADER + table.length * 8L + 4, Files.size(f.path()));
        StateFile.Loaded loaded = f.load(BlockHash.SHA256, 4096, Integer.MAX_VALUE);
        assertEquals(size, loaded.sourceSize());
        assertArrayEquals(table, loaded.table());
        // replacing it works, and leaves no temp file
        f.save(BlockHash.SHA256, 4096, 4096, new long[] {7, 8}, 2);
        assertArrayEquals(new long[] {7, 8}, f.load(BlockHash.SHA256, 4096, 10).table());
        assertTrue(Files.notExists(dir.resolve("d.scanstate.tmp")));
    }

    @Test
    void emptySourceRoundTrips() throws IOException {
        StateFile f = new StateFile(dir.resolve("e.scanstate"));
        f.save(BlockHash.XXH64, 65536, 0, new long[0], 0);
        StateFile.Loaded loaded = f.load(BlockHash.XXH64, 65536, 10);
        assertEquals(0, loaded.sourceSize());
        assertEquals(0, loaded.table().length);
    }

    private String unusable(StateFile f, BlockHash hash, int bs, long max) {
        return assertThrows(StateFile.UnusableStateException.class, () -> f.load(hash, bs, max)).getMessage();
    }

    @Test
    void badFilesAreRejectedWithTheReason() throws IOException {
        StateFile f = new StateFile(dir.resolve("b.scanstate"));
        f.save(BlockHash.XXH64, 4096, 3 * 4096, new long[] {1, 2, 3}, 3);
        assertTrue(unusable(f, BlockHash.SHA256, 4096, 10).contains("written with hash xxh64, the session uses sha256"));
        assertTrue(unusable(f, BlockHash.XXH64, 8192, 10).contains("written with blockSize 4096, the session uses 8192"));
        assertTrue(unusable(f, BlockHash.XXH64, 4096, 2).contains("do not match"), "more words than allowed");

        byte[] good = Files.readAllBytes(f.path());
        byte[] b = good.clone();
        b[0] = 'X';
        Files.write(f.path(), b);
        assertTrue(unusable(f, BlockHash.XXH64, 4096, 10).contains("magic"));

        b = good.clone();
        b[b.length - 1] ^= 1;
        Files.write(f.path(), b);
        assertTrue(unusable(f, BlockHash.XXH64, 4096, 10).contains("CRC32C"));

        Files.write(f.path(), java.util.Arrays.copyOf(good, good.length - 8));
        assertTrue(unusable(f, BlockHash.XXH64, 4096, 10).contains("bytes long, expected"));

        Files.write(f.path(), new byte[5]);
        assertTrue(unusable(f, BlockHash.XXH64, 4096, 10).contains("shorter than its header"));

        // a header claiming a huge table is refused before anything is allocated for it
        b = good.clone();
        ByteBuffer.wrap(b).putLong(20, Long.MAX_VALUE / 2).putLong(28, Long.MAX_VALUE / 2 / 4096 + 1);
        Files.write(f.path(), b);
        assertTrue(unusable(f, BlockHash.XXH64, 4096, Integer.MAX_VALUE - 8).contains("do not match"));
    }
}
