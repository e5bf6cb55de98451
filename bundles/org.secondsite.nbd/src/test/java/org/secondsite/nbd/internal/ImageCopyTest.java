package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.nbd.ImageCopy;

/** Copying a device to a raw image: equal bytes, holes for zeros, nothing left behind when cancelled. */
class ImageCopyTest {
    private static final int SIZE = (16 << 20) + 12345;

    @TempDir
    Path dir;

    private byte[] content() {
        byte[] content = new byte[SIZE];
        new Random(7).nextBytes(content);
        Arrays.fill(content, 2 << 20, 10 << 20, (byte) 0); // 8 MiB of zeros: 8 pieces to skip
        return content;
    }

    @Test
    void copyEqualsTheSourceAndZeroPiecesAreHoles() throws Exception {
        Tools.assumeTool("stat");
        byte[] content = content();
        Path source = dir.resolve("source.img");
        Files.write(source, content);
        Path target = dir.resolve("copy.raw");
        List<long[]> progress = new ArrayList<>();
        try (FileDevice device = new FileDevice(source, true)) {
            ImageCopy copy = new ImageCopy(device, target, (done, total) -> progress.add(new long[] {done, total}));
            assertEquals(SIZE, copy.run());
            assertEquals(SIZE - (8L << 20), copy.bytesWritten(), "zero pieces are not written");
        }
        assertEquals(ServedDisk.sha256(content), ServedDisk.sha256(Files.readAllBytes(target)), "copy vs source (SHA-256)");
        assertFalse(Files.exists(dir.resolve("copy.raw.partial")));
        long[] last = progress.get(progress.size() - 1);
        assertEquals(SIZE, last[0]);
        assertEquals(SIZE, last[1]);
        assertEquals(17, progress.size(), "one progress call per 1 MiB piece");
        // stat: allocated 512-byte blocks. The 8 MiB of zeros must not be allocated.
        long allocated = Long.parseLong(Tools.run(10, "stat", "-c", "%b", target.toString()).trim()) * 512;
        assertTrue(allocated <= SIZE - (8L << 20) + (1 << 20), "allocated " + allocated + " bytes of " + SIZE
                + ": the zero region must be a hole");
    }

    @Test
    void cancelLeavesNeitherPartialNorTarget() throws Exception {
        Path source = dir.resolve("source.img");
        Files.write(source, content());
        Path target = dir.resolve("copy.raw");
        try (FileDevice device = new FileDevice(source, true)) {
            ImageCopy[] self = new ImageCopy[1];
            self[0] = new ImageCopy(device, target, (done, total) -> {
                assertTrue(Files.exists(self[0].partialFile()), "writing to the .partial file");
                if (done >= 3 << 20) {
                    self[0].cancel();
                }
            });
            CancellationException e = assertThrows(CancellationException.class, self[0]::run);
            assertTrue(e.getMessage().contains("cancelled"), e.getMessage());
        }
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(dir.resolve("copy.raw.partial")), ".partial deleted on cancel");
    }

    @Test
    void anExistingTargetIsNeverOverwrittenAndAStalePartialIsReplaced() throws Exception {
        byte[] content = content();
        Path source = dir.resolve("source.img");
        Files.write(source, content);
        Path target = dir.resolve("copy.raw");
        Files.write(target, new byte[] {1});
        try (FileDevice device = new FileDevice(source, true)) {
            assertThrows(FileAlreadyExistsException.class, () -> new ImageCopy(device, target, null).run());
            assertEquals(1, Files.size(target));
            Files.delete(target);
            Files.write(dir.resolve("copy.raw.partial"), new byte[SIZE + 4096]); // left by a crash, longer
            new ImageCopy(device, target, null).run();
        }
        assertEquals(ServedDisk.sha256(content), ServedDisk.sha256(Files.readAllBytes(target)));
    }
}
