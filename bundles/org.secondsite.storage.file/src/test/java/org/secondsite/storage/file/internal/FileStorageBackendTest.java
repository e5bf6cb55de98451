package org.secondsite.storage.file.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.storage.ObjectStore;
import org.secondsite.api.storage.Volume;

class FileStorageBackendTest {

    private static final int MIB = 1024 * 1024;

    @TempDir
    Path root;

    @Test
    void volumeWritesReadBackIdenticallyByHash() throws Exception {
        FileStorageBackend backend = new FileStorageBackend(root);
        int size = 32 * MIB;
        byte[] model = new byte[size];
        Random random = new Random(3);
        try (Volume v = backend.openVolume("disk-0", size)) {
            assertEquals(size, v.size());
            assertFalse(v.isReadOnly());
            for (int i = 0; i < 400; i++) {
                int len = 1 + random.nextInt(256 * 1024);
                int off = random.nextInt(size - len + 1);
                byte[] data = new byte[len];
                random.nextBytes(data);
                System.arraycopy(data, 0, model, off, len);
                ByteBuffer src = i % 2 == 0 ? ByteBuffer.wrap(data) : ByteBuffer.allocateDirect(len).put(data).flip();
                v.write(off, src);
                assertFalse(src.hasRemaining());
            }
            v.flush();
            assertArrayEquals(sha256(model), sha256(readAll(v)));
        }
    }

    @Test
    void newVolumeIsSparseAndReadsAsZeros() throws Exception {
        Path store = root.resolve("s");
        FileStorageBackend backend = new FileStorageBackend(store);
        long size = 4L * 1024 * MIB; // 4 GiB
        try (Volume v = backend.openVolume("big", size)) {
            ByteBuffer dst = ByteBuffer.allocate(MIB);
            v.read(size - MIB, dst);
            assertEquals(-1, dst.flip().mismatch(ByteBuffer.allocate(MIB)), "reads as zeros");
        }
        assertTrue(allocatedBytes(store.resolve("volumes/big.img")) < 4 * MIB, "a new volume takes no space");
    }

    @Test
    void zeroClearsTheRangeAndDeallocatesATail() throws Exception {
        FileStorageBackend backend = new FileStorageBackend(root);
        int size = 16 * MIB;
        byte[] model = new byte[size];
        new Random(5).nextBytes(model);
        try (Volume v = backend.openVolume("z", size)) {
            v.write(0, ByteBuffer.wrap(model));
            v.flush();
            long before = allocatedBytes(root.resolve("volumes/z.img"));

            v.zero(1000, 3 * MIB + 17); // a middle range, not chunk aligned
            java.util.Arrays.fill(model, 1000, 1000 + 3 * MIB + 17, (byte) 0);
            v.zero(8 * MIB, 8 * MIB); // the tail
            java.util.Arrays.fill(model, 8 * MIB, size, (byte) 0);
            v.flush();

            assertEquals(size, v.size());
            assertArrayEquals(sha256(model), sha256(readAll(v)));
            long after = allocatedBytes(root.resolve("volumes/z.img"));
            assertTrue(after <= before - 8 * MIB, "tail deallocated: " + before + " -> " + after);
            assertEquals(size, Files.size(root.resolve("volumes/z.img")));
        }
    }

    @Test
    void zeroOfAHoleAllocatesNothing() throws Exception {
        FileStorageBackend backend = new FileStorageBackend(root);
        try (Volume v = backend.openVolume("h", 64 * MIB)) {
            v.write(0, ByteBuffer.wrap(new byte[] {1}));
            v.zero(MIB, 32 * MIB);
            v.flush();
        }
        assertTrue(allocatedBytes(root.resolve("volumes/h.img")) < 2 * MIB, "already-zero chunks are not written");
    }

    @Test
    void accessOutsideTheVolumeIsAnError() throws Exception {
        FileStorageBackend backend = new FileStorageBackend(root);
        try (Volume v = backend.openVolume("b", MIB)) {
            EOFException e = assertThrows(EOFException.class, () -> v.read(MIB - 10, ByteBuffer.allocate(11)));
            assertEquals("read of 11 bytes at offset 1048566 is outside volume 'b' of 1048576 bytes", e.getMessage());
            assertThrows(EOFException.class, () -> v.write(MIB, ByteBuffer.allocate(1)));
            assertThrows(EOFException.class, () -> v.write(-1, ByteBuffer.allocate(1)));
            assertThrows(EOFException.class, () -> v.zero(10, MIB));
        }
    }

    @Test
    void reopenedVolumeKeepsItsDataAndGrows() throws Exception {
        byte[] data = new byte[3 * MIB];
        new Random(9).nextBytes(data);
        FileStorageBackend backend = new FileStorageBackend(root);
        try (Volume v = backend.openVolume("grow", 4 * MIB)) {
            v.write(MIB, ByteBuffer.wrap(data));
            v.flush();
        }
        FileStorageBackend again = new FileStorageBackend(root); // as after a restart
        try (Volume v = again.openVolume("grow", 4 * MIB)) {
            ByteBuffer back = ByteBuffer.allocate(data.length);
            v.read(MIB, back);
            assertArrayEquals(sha256(data), sha256(back.array()));
        }
        try (Volume v = again.openVolume("grow", 10 * MIB)) {
            assertEquals(10 * MIB, v.size());
            ByteBuffer back = ByteBuffer.allocate(data.length);
            v.read(MIB, back);
            assertArrayEquals(sha256(data), sha256(back.array()), "growth keeps the content");
            ByteBuffer tail = ByteBuffer.allocate(6 * MIB);
            v.read(4 * MIB, tail);
            assertEquals(-1, tail.flip().mismatch(ByteBuffer.allocate(6 * MIB)), "grown area reads as zeros");
            v.write(10 * MIB - 4, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
        }
        IOException e = assertThrows(IOException.class, () -> again.openVolume("grow", 4 * MIB));
        assertEquals("volume 'grow' is 10485760 bytes; it cannot shrink to 4194304 bytes (delete it first to start over)",
                e.getMessage());
    }

    @Test
    void volumesAreListedSortedAndDeleted() throws Exception {
        FileStorageBackend backend = new FileStorageBackend(root);
        for (String n : List.of("vm2-disk0", "vm1-disk1", "vm1-disk0")) {
            backend.openVolume(n, MIB).close();
        }
        Files.writeString(root.resolve("volumes/not-a-volume.txt"), "x");
        assertEquals(List.of("vm1-disk0", "vm1-disk1", "vm2-disk0"), backend.volumes());
        assertTrue(backend.volumeExists("vm1-disk1"));
        backend.deleteVolume("vm1-disk1");
        backend.deleteVolume("vm1-disk1"); // no error the second time
        assertFalse(backend.volumeExists("vm1-disk1"));
        assertEquals(List.of("vm1-disk0", "vm2-disk0"), backend.volumes());
        assertTrue(backend.freeBytes() > 0);
    }

    @Test
    void appendedObjectReadsBackByHash() throws Exception {
        ObjectStore store = new FileStorageBackend(root).objects("journal-disk-0");
        MessageDigest written = MessageDigest.getInstance("SHA-256");
        Random random = new Random(11);
        long total = 0;
        try (ObjectStore.Appender a = store.create("seg-000001")) {
            for (int i = 0; i < 200; i++) {
                byte[] chunk = new byte[random.nextInt(64 * 1024)];
                random.nextBytes(chunk);
                written.update(chunk);
                assertEquals(chunk.length, a.write(ByteBuffer.wrap(chunk)));
                total += chunk.length;
                if (i % 50 == 0) {
                    a.sync();
                }
            }
            a.sync();
            assertEquals(total, a.size());
        }
        assertThrows(FileAlreadyExistsException.class, () -> store.create("seg-000001"));
        MessageDigest read = MessageDigest.getInstance("SHA-256");
        try (SeekableByteChannel ch = store.open("seg-000001")) {
            assertEquals(total, ch.size());
            ByteBuffer buf = ByteBuffer.allocate(100_000);
            while (ch.read(buf.clear()) > 0) {
                read.update(buf.flip());
            }
        }
        assertArrayEquals(written.digest(), read.digest());
        assertEquals(total, store.usedBytes());
        assertThrows(NoSuchFileException.class, () -> store.open("missing"));
    }

    @Test
    void putReplacesAtomicallyAndGetReadsBack() throws Exception {
        ObjectStore store = new FileStorageBackend(root).objects("meta");
        assertEquals(Optional.empty(), store.get("catalogue"));
        store.put("catalogue", utf8("version 1"));
        ByteBuffer v2 = utf8("version 2, longer than the first");
        v2.position(8); // put stores the remaining bytes and leaves the caller's buffer alone
        store.put("catalogue", v2);
        assertEquals(8, v2.position());
        assertEquals("2, longer than the first", text(store.get("catalogue").orElseThrow()));
        assertEquals(List.of("catalogue"), store.list(""));
    }

    @Test
    void interruptedPutLeavesTheOldContentAndItsTempFileIsIgnoredThenCleaned() throws Exception {
        ObjectStore store = new FileStorageBackend(root).objects("meta");
        store.put("state", utf8("committed"));
        // Simulate a crash in the middle of a put: a half-written temporary file, never renamed.
        Path leftover = root.resolve("objects/meta/state~1");
        Files.writeString(leftover, "half-writ");

        assertEquals("committed", text(store.get("state").orElseThrow()), "readers see the old content");
        assertEquals(List.of("state"), store.list(""), "temporary files are never listed");

        ObjectStore reopened = new FileStorageBackend(root).objects("meta"); // after the restart
        assertFalse(Files.exists(leftover), "leftover temporary file cleaned when the namespace opens");
        assertEquals("committed", text(reopened.get("state").orElseThrow()));
        reopened.put("state", utf8("next"));
        assertEquals("next", text(reopened.get("state").orElseThrow()));
        assertEquals(List.of("state"), Files.list(root.resolve("objects/meta")).map(p -> p.getFileName().toString())
                .toList(), "no temporary file remains after a put");
    }

    @Test
    void listFiltersByPrefixSortedAndDeleteIsIdempotent() throws Exception {
        ObjectStore store = new FileStorageBackend(root).objects("j");
        for (String n : List.of("seg-3", "seg-1", "idx-1", "seg-2")) {
            store.put(n, utf8(n));
        }
        assertEquals(List.of("seg-1", "seg-2", "seg-3"), store.list("seg-"));
        assertEquals(List.of("idx-1", "seg-1", "seg-2", "seg-3"), store.list(""));
        store.delete("seg-2");
        store.delete("seg-2");
        assertEquals(List.of("seg-1", "seg-3"), store.list("seg"));
        assertEquals(15, store.usedBytes());
        ObjectStore other = new FileStorageBackend(root).objects("k");
        assertEquals(List.of(), other.list(""), "namespaces are separate");
    }

    @Test
    void badNamesAreRejectedWithClearErrors() throws Exception {
        FileStorageBackend backend = new FileStorageBackend(root);
        ObjectStore store = backend.objects("ns");
        Map<String, String> cases = Map.of(
                "..", "'..' refers to a directory",
                "../etc", "character '/' at index 2 is not allowed",
                "a/b", "character '/' at index 1 is not allowed",
                "", "it is empty",
                "x".repeat(201), "it is 201 characters long",
                "with space", "character ' ' at index 4 is not allowed",
                "nul\0", "character U+0000 at index 3 is not allowed",
                "tmp~1", "character '~' at index 3 is not allowed");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.put(c.getKey(),
                    utf8("x")), c.getKey());
            assertTrue(e.getMessage().startsWith("invalid object name '"), e.getMessage());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
            assertTrue(e.getMessage().endsWith("expected 1 to 200 letters, digits, '.', '_' or '-'"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> backend.openVolume(c.getKey(), MIB));
            assertThrows(IllegalArgumentException.class, () -> backend.objects(c.getKey()));
            assertThrows(IllegalArgumentException.class, () -> store.get(c.getKey()));
            assertThrows(IllegalArgumentException.class, () -> store.delete(c.getKey()));
        }
        assertThrows(IllegalArgumentException.class, () -> store.list("../"));
        store.put("x".repeat(200), utf8("ok"));
        store.put("a.b_c-D9", utf8("ok"));
        store.put("...", utf8("ok")); // a file name, not a directory reference
        assertEquals(List.of("...", "a.b_c-D9", "x".repeat(200)), store.list(""));
        assertEquals(List.of("ns"), Files.list(root.resolve("objects")).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void rootResolvesKarafDataOrFailsClearly() {
        assertEquals(Path.of("/var/karaf/data/secondsite/storage"),
                FileStorageBackend.resolveRoot(FileStorageBackend.DEFAULT_ROOT, k -> "/var/karaf/data"));
        assertEquals(Path.of("/srv/dr"), FileStorageBackend.resolveRoot("/srv/dr", k -> null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileStorageBackend.resolveRoot(FileStorageBackend.DEFAULT_ROOT, k -> null));
        assertTrue(e.getMessage().contains("the system property karaf.data is not set"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FileStorageBackend.resolveRoot("relative/dir", k -> null));
        assertThrows(IllegalArgumentException.class, () -> FileStorageBackend.resolveRoot("${user.home}/x", k -> "/d"));
    }

    private static byte[] readAll(Volume v) throws IOException {
        ByteBuffer all = ByteBuffer.allocate((int) v.size());
        v.read(0, all);
        return all.array();
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b).toString();
    }

    /** Allocated size as the file system reports it (st_blocks * 512), via coreutils stat. */
    static long allocatedBytes(Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertEquals(0, p.waitFor(), out);
        String[] parts = out.split(" ");
        return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
    }
}
