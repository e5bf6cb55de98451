package org.secondsite.testkit.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.secondsite.api.storage.ObjectStore;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.storage.Volume;
import org.secondsite.testkit.TestData;

/**
 * The compatibility kit of the {@link StorageBackend} extension point. A storage plugin's test
 * extends it and supplies an empty backend, and a way to open the same storage again as a
 * restarted appliance would:
 *
 * <pre>
 * class MyBackendTckTest extends StorageBackendTck {
 *     &#64;TempDir Path root;
 *
 *     &#64;Override
 *     protected StorageBackend createBackend() throws IOException {
 *         return new MyBackend(root);
 *     }
 *
 *     &#64;Override
 *     protected StorageBackend reopenBackend(StorageBackend previous) throws IOException {
 *         return new MyBackend(root);
 *     }
 * }
 * </pre>
 *
 * It checks what the {@code org.secondsite.api.storage} javadoc promises. Volumes: created
 * sparse and reading as zeros, writes read back (compared by hash) from heap, direct and
 * read-only buffers with positions advanced, content kept across a reopen of the volume and
 * of the backend, growth, {@code zero()}, {@code flush()}, {@link EOFException} for ranges
 * beyond the size, concurrent writers on disjoint ranges, listing (sorted) and deletion.
 * Objects: create/append/sync/open and read back at random positions, an existing name refused
 * with {@link FileAlreadyExistsException}, atomic replacement by {@code put} and {@code get},
 * listing by prefix (sorted), idempotent deletion, separate namespaces, names outside the
 * documented alphabet ({@code ..}, {@code /}, empty, over 200 characters) refused without
 * touching anything, and {@code usedBytes()} following the data.
 *
 * <p>Volumes opened through {@link #open} are closed after each test.
 */
public abstract class StorageBackendTck {

    private static final int MIB = 1024 * 1024;
    private static final long GIB = 1024L * MIB;

    private StorageBackend backend;
    private final List<Volume> opened = new ArrayList<>();

    /** A new backend over empty storage, ready to use (as its DS component would be after activation). */
    protected abstract StorageBackend createBackend() throws Exception;

    /**
     * A new backend instance over the same storage as {@code previous}, as after a restart of the
     * appliance. The TCK has closed every volume it opened through {@code previous}.
     */
    protected abstract StorageBackend reopenBackend(StorageBackend previous) throws Exception;

    /** The backend under test for the current test, created on first use. */
    protected final StorageBackend backend() throws Exception {
        if (backend == null) {
            backend = createBackend();
            assertNotNull(backend, "createBackend() returned null");
        }
        return backend;
    }

    /** Opens a volume of the backend under test; it is closed after the test. */
    protected final Volume open(String name, long size) throws Exception {
        Volume v = backend().openVolume(name, size);
        assertNotNull(v, "openVolume returned null");
        opened.add(v);
        return v;
    }

    @AfterEach
    void closeVolumes() throws IOException {
        for (Volume v : opened) {
            v.close();
        }
        opened.clear();
    }

    private void restart() throws Exception {
        closeVolumes();
        StorageBackend reopened = reopenBackend(backend());
        assertNotNull(reopened, "reopenBackend() returned null");
        backend = reopened;
    }

    // ================================================================ backend

    @Test
    void nameIsNotBlankAndStable() throws Exception {
        String name = backend().name();
        assertNotNull(name, "name() must not be null");
        assertFalse(name.isBlank(), "name() must not be blank");
        assertEquals(name, backend().name());
    }

    @Test
    void freeBytesIsKnownOrMinusOne() throws Exception {
        long free = backend().freeBytes();
        assertTrue(free >= 0 || free == -1, "freeBytes() must be >= 0 or -1 (unknown), was " + free);
    }

    // ================================================================ volumes

    @Test
    void newVolumeIsSparseReadsAsZerosAndHasItsSize() throws Exception {
        long size = 16 * GIB;
        long freeBefore = backend().freeBytes();
        assertFalse(backend().volumeExists("fresh"), "volumeExists before creation");
        Volume v = open("fresh", size);
        assertEquals("fresh", v.name());
        assertEquals(size, v.size());
        assertTrue(backend().volumeExists("fresh"), "volumeExists after creation");
        for (long at : new long[] {0, 4096, size / 2 + 12345, size - MIB}) {
            ByteBuffer dst = ByteBuffer.allocate(MIB);
            v.read(at, dst);
            assertFalse(dst.hasRemaining(), "read must fill dst");
            assertEquals(-1, dst.flip().mismatch(ByteBuffer.allocate(MIB)), "a new volume reads as zeros at " + at);
        }
        long freeAfter = backend().freeBytes();
        if (freeBefore >= 0 && freeAfter >= 0) {
            assertTrue(freeBefore - freeAfter < size / 2, "a new " + size + "-byte volume must be sparse, but free"
                    + " space dropped by " + (freeBefore - freeAfter) + " bytes");
        }
    }

    @Test
    void writesReadBackIdenticallyByHash() throws Exception {
        int size = 16 * MIB;
        byte[] model = new byte[size];
        Random random = new Random(1);
        Volume v = open("data", size);
        for (int i = 0; i < 300; i++) {
            int len = 1 + random.nextInt(i % 10 == 0 ? 1 : 128 * 1024);
            int off = random.nextInt(size - len + 1);
            byte[] data = i % 3 == 0 ? TestData.mixed(len, i) : randomBytes(len, i);
            System.arraycopy(data, 0, model, off, len);
            ByteBuffer src = sourceOfKind(i, data);
            int limit = src.limit();
            v.write(off, src);
            assertEquals(limit, src.position(), "write must advance src's position to its limit");
        }
        // at the very end and the very start
        byte[] head = randomBytes(512, 77);
        byte[] tail = randomBytes(512, 78);
        v.write(0, ByteBuffer.wrap(head));
        v.write(size - 512, ByteBuffer.wrap(tail));
        System.arraycopy(head, 0, model, 0, 512);
        System.arraycopy(tail, 0, model, size - 512, 512);
        v.flush();
        assertArrayEquals(sha256(model), sha256(readAll(v, 3 * MIB + 17)), "volume content differs from what was written");

        // reads into heap, direct and sliced buffers, positions advanced
        for (int i = 0; i < 50; i++) {
            int len = 1 + random.nextInt(64 * 1024);
            int off = random.nextInt(size - len + 1);
            ByteBuffer whole = i % 2 == 0 ? ByteBuffer.allocate(len + 20) : ByteBuffer.allocateDirect(len + 20);
            ByteBuffer dst = whole.slice(5, len + 10).position(3).limit(3 + len);
            v.read(off, dst);
            assertEquals(3 + len, dst.position(), "read must advance dst's position to its limit");
            byte[] got = new byte[len];
            dst.get(3, got);
            byte[] want = new byte[len];
            System.arraycopy(model, off, want, 0, len);
            assertArrayEquals(want, got, "read of " + len + " bytes at " + off);
            assertEquals(0, whole.get(5 + 2), "read wrote before dst's position");
            assertEquals(0, whole.get(5 + 3 + len), "read wrote past dst's limit");
        }
    }

    @Test
    void volumeKeepsItsContentWhenReopenedAndAfterARestart() throws Exception {
        int size = 8 * MIB;
        byte[] model = TestData.mixed(size, 21);
        Volume v = open("keep", size);
        v.write(0, ByteBuffer.wrap(model));
        v.flush();
        v.close();
        opened.remove(v);

        Volume again = open("keep", size);
        assertEquals(size, again.size());
        assertArrayEquals(sha256(model), sha256(readAll(again, MIB)), "content changed when the volume was reopened");

        restart();
        assertTrue(backend().volumeExists("keep"), "the volume is gone after a restart");
        assertEquals(List.of("keep"), backend().volumes());
        Volume afterRestart = open("keep", size);
        assertArrayEquals(sha256(model), sha256(readAll(afterRestart, MIB)), "content changed across a restart");
    }

    @Test
    void openingWithALargerSizeGrowsAndKeepsTheContent() throws Exception {
        int size = 4 * MIB;
        byte[] model = randomBytes(size, 31);
        Volume v = open("grow", size);
        v.write(0, ByteBuffer.wrap(model));
        v.flush();
        v.close();
        opened.remove(v);

        int bigger = 10 * MIB;
        Volume grown = open("grow", bigger);
        assertEquals(bigger, grown.size(), "openVolume with a larger size must grow the volume");
        byte[] all = readAll(grown, MIB);
        byte[] expected = new byte[bigger];
        System.arraycopy(model, 0, expected, 0, size);
        assertArrayEquals(sha256(expected), sha256(all), "growing must keep the content and read the new tail as zeros");
        // the grown part is writable
        byte[] last = randomBytes(4096, 32);
        grown.write(bigger - 4096, ByteBuffer.wrap(last));
        ByteBuffer back = ByteBuffer.allocate(4096);
        grown.read(bigger - 4096, back);
        assertArrayEquals(last, back.array());
    }

    @Test
    void openingWithASmallerSizeIsRefusedAndKeepsTheContent() throws Exception {
        int size = 4 * MIB;
        byte[] model = randomBytes(size, 33);
        Volume v = open("noshrink", size);
        v.write(0, ByteBuffer.wrap(model));
        v.flush();
        v.close();
        opened.remove(v);
        IOException e = assertThrows(IOException.class, () -> open("noshrink", size / 2),
                "openVolume with a smaller size cannot grow the volume, so it must explain why with an IOException");
        assertNotNull(e.getMessage(), "the IOException must explain why");
        Volume again = open("noshrink", size);
        assertArrayEquals(sha256(model), sha256(readAll(again, MIB)), "a refused shrink changed the content");
    }

    @Test
    void zeroMakesRangesReadAsZerosAndLeavesTheRestAlone() throws Exception {
        int size = 8 * MIB;
        byte[] model = randomBytes(size, 41);
        Volume v = open("zero", size);
        v.write(0, ByteBuffer.wrap(model));
        long[][] ranges = {{0, 1}, {4096, 4096}, {100_000, 3 * MIB + 5}, {size - 2 * MIB - 1, 2 * MIB + 1},
            {12345, 0}};
        for (long[] r : ranges) {
            v.zero(r[0], r[1]);
            java.util.Arrays.fill(model, (int) r[0], (int) (r[0] + r[1]), (byte) 0);
        }
        assertArrayEquals(sha256(model), sha256(readAll(v, MIB)), "zero() cleared the wrong bytes");
        // the zeroed tail is still part of the volume and writable
        assertEquals(size, v.size());
        byte[] last = randomBytes(100, 42);
        v.write(size - 100, ByteBuffer.wrap(last));
        System.arraycopy(last, 0, model, size - 100, 100);
        v.flush();
        v.close();
        opened.remove(v);
        restart();
        assertArrayEquals(sha256(model), sha256(readAll(open("zero", size), MIB)),
                "content after zero() and a restart differs");
    }

    @Test
    void rangesBeyondTheEndAreEofErrors() throws Exception {
        int size = MIB;
        Volume v = open("eof", size);
        byte[] model = randomBytes(size, 51);
        v.write(0, ByteBuffer.wrap(model));
        assertThrows(EOFException.class, () -> v.read(size - 10, ByteBuffer.allocate(11)),
                "a read extending one byte past the end must throw EOFException");
        assertThrows(EOFException.class, () -> v.read(size, ByteBuffer.allocate(1)),
                "a read starting at the end must throw EOFException");
        assertThrows(EOFException.class, () -> v.read(10L * size, ByteBuffer.allocate(1)),
                "a read far past the end must throw EOFException");
        assertThrows(EOFException.class, () -> v.write(size - 10, ByteBuffer.wrap(new byte[11])),
                "a write extending one byte past the end must throw EOFException");
        assertThrows(EOFException.class, () -> v.write(size, ByteBuffer.wrap(new byte[1])),
                "a write starting at the end must throw EOFException");
        assertEquals(size, v.size(), "a refused write changed the volume's size");
        // the exact last byte is fine
        v.write(size - 1, ByteBuffer.wrap(new byte[] {7}));
        model[size - 1] = 7;
        assertArrayEquals(sha256(model), sha256(readAll(v, MIB)), "a refused write changed the content");
    }

    @Test
    void concurrentWritersOnDisjointRangesAllLand() throws Exception {
        int threads = 4;
        int slice = 4 * MIB;
        Volume v = open("concurrent", (long) threads * slice);
        byte[][] parts = new byte[threads][];
        for (int t = 0; t < threads; t++) {
            parts[t] = randomBytes(slice, 60 + t);
        }
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    start.await();
                    int block = 64 * 1024;
                    for (int off = 0; off < slice; off += block) {
                        v.write((long) id * slice + off, ByteBuffer.wrap(parts[id], off, block));
                        ByteBuffer check = ByteBuffer.allocate(block);
                        v.read((long) id * slice + off, check);
                        assertEquals(-1, check.flip().mismatch(ByteBuffer.wrap(parts[id], off, block)),
                                "a write was not visible to the next read on the same thread");
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(5, TimeUnit.MINUTES); // a hang guard, not a performance threshold
            }
        } finally {
            pool.shutdownNow();
        }
        v.flush();
        byte[] all = readAll(v, MIB);
        for (int t = 0; t < threads; t++) {
            byte[] got = new byte[slice];
            System.arraycopy(all, t * slice, got, 0, slice);
            assertArrayEquals(sha256(parts[t]), sha256(got), "writer " + t + "'s range differs");
        }
    }

    @Test
    void volumesAreListedSortedAndDeleted() throws Exception {
        assertEquals(List.of(), backend().volumes(), "a new backend has no volumes");
        for (String name : new String[] {"vm-2_disk-0", "vm-10.disk.0", "A", "vm-1_disk-1"}) {
            open(name, MIB).close();
        }
        List<String> expected = new ArrayList<>(List.of("vm-2_disk-0", "vm-10.disk.0", "A", "vm-1_disk-1"));
        expected.sort(null);
        assertEquals(expected, backend().volumes(), "volumes() must list every volume, sorted");

        Volume doomed = open("doomed", MIB);
        doomed.write(0, ByteBuffer.wrap(randomBytes(4096, 70)));
        doomed.flush();
        doomed.close();
        opened.remove(doomed);
        backend().deleteVolume("doomed");
        assertFalse(backend().volumeExists("doomed"), "volumeExists after deleteVolume");
        assertEquals(expected, backend().volumes(), "a deleted volume is still listed");
        backend().deleteVolume("doomed"); // no error when it does not exist
        backend().deleteVolume("never-existed");

        Volume reborn = open("doomed", MIB);
        ByteBuffer dst = ByteBuffer.allocate(4096);
        reborn.read(0, dst);
        assertEquals(-1, dst.flip().mismatch(ByteBuffer.allocate(4096)),
                "a volume created again after deletion must read as zeros, not as the deleted data");
        restart();
        expected.add("doomed");
        expected.sort(null);
        assertEquals(expected, backend().volumes(), "volumes after a restart");
    }

    // ================================================================ objects

    @Test
    void appendedObjectReadsBackAtRandomPositions() throws Exception {
        ObjectStore store = backend().objects("journal");
        byte[] model = TestData.mixed(3 * MIB + 123, 80);
        try (ObjectStore.Appender a = store.create("seg-000001")) {
            assertEquals(0, a.size(), "a new object is empty");
            Random random = new Random(80);
            int pos = 0;
            while (pos < model.length) {
                int len = Math.min(model.length - pos, 1 + random.nextInt(200_000));
                ByteBuffer src = sourceOfKind(pos, java.util.Arrays.copyOfRange(model, pos, pos + len));
                while (src.hasRemaining()) {
                    a.write(src);
                }
                pos += len;
                assertEquals(pos, a.size(), "Appender.size() must count the bytes appended");
                if (random.nextInt(4) == 0) {
                    a.sync();
                }
            }
            a.sync();
        }
        try (SeekableByteChannel ch = store.open("seg-000001")) {
            assertEquals(model.length, ch.size(), "the object's size");
            assertArrayEquals(sha256(model), sha256(readChannel(ch, model.length)), "object content differs");
            Random random = new Random(81);
            for (int i = 0; i < 40; i++) {
                int len = 1 + random.nextInt(10_000);
                int at = random.nextInt(model.length - len + 1);
                ByteBuffer dst = ByteBuffer.allocate(len);
                ch.position(at);
                while (dst.hasRemaining() && ch.read(dst) >= 0) {
                    // read until full
                }
                assertFalse(dst.hasRemaining(), "short read at " + at);
                assertArrayEquals(java.util.Arrays.copyOfRange(model, at, at + len), dst.array(), "bytes at " + at);
            }
        }
        restart();
        try (SeekableByteChannel ch = backend().objects("journal").open("seg-000001")) {
            assertArrayEquals(sha256(model), sha256(readChannel(ch, model.length)), "object content after a restart");
        }
    }

    @Test
    void creatingAnExistingObjectIsRefused() throws Exception {
        ObjectStore store = backend().objects("ns");
        byte[] data = randomBytes(1000, 90);
        try (ObjectStore.Appender a = store.create("once")) {
            a.write(ByteBuffer.wrap(data));
            a.sync();
        }
        assertThrows(FileAlreadyExistsException.class, () -> store.create("once").close(),
                "create() of an existing name must throw FileAlreadyExistsException");
        store.put("meta", ByteBuffer.wrap(data));
        assertThrows(FileAlreadyExistsException.class, () -> store.create("meta").close(),
                "create() of a name written by put() must throw FileAlreadyExistsException");
        try (SeekableByteChannel ch = store.open("once")) {
            assertArrayEquals(data, readChannel(ch, data.length), "a refused create() changed the existing object");
        }
    }

    @Test
    void putReplacesAtomicallyAndGetReturnsTheWholeContent() throws Exception {
        ObjectStore store = backend().objects("meta");
        assertEquals(Optional.empty(), store.get("catalogue"), "get() of a missing object");
        byte[] first = "first version of the catalogue, rather long".getBytes(StandardCharsets.UTF_8);
        byte[] second = "v2".getBytes(StandardCharsets.UTF_8);
        byte[] third = TestData.mixed(300_000, 91);

        store.put("catalogue", ByteBuffer.wrap(first));
        assertArrayEquals(first, content(store.get("catalogue")));
        store.put("catalogue", ByteBuffer.wrap(second).asReadOnlyBuffer());
        assertArrayEquals(second, content(store.get("catalogue")), "a shorter put() must replace the whole content");
        ByteBuffer direct = ByteBuffer.allocateDirect(third.length + 10);
        direct.position(10);
        direct.put(third).position(10);
        store.put("catalogue", direct);
        assertArrayEquals(third, content(store.get("catalogue")), "put() from a direct buffer at a non-zero position");
        store.put("empty", ByteBuffer.allocate(0));
        assertArrayEquals(new byte[0], content(store.get("empty")), "an empty object exists and is empty");

        restart();
        ObjectStore again = backend().objects("meta");
        assertArrayEquals(third, content(again.get("catalogue")), "put() content after a restart");
        assertTrue(again.get("empty").isPresent(), "an empty object survives a restart");
    }

    @Test
    void listReturnsNamesWithThePrefixSorted() throws Exception {
        ObjectStore store = backend().objects("listing");
        assertEquals(List.of(), store.list(""), "a new namespace is empty");
        String[] names = {"seg-0003", "seg-0001", "meta.json", "seg-0002", "segment_x", "Seg-0009", "s"};
        for (int i = 0; i < names.length; i++) {
            if (i % 2 == 0) {
                try (ObjectStore.Appender a = store.create(names[i])) {
                    a.write(ByteBuffer.wrap(new byte[] {(byte) i}));
                    a.sync();
                }
            } else {
                store.put(names[i], ByteBuffer.wrap(new byte[] {(byte) i}));
            }
        }
        List<String> all = new ArrayList<>(List.of(names));
        all.sort(null);
        assertEquals(all, store.list(""), "list(\"\") must return every object, sorted");
        assertEquals(List.of("seg-0001", "seg-0002", "seg-0003"), store.list("seg-"), "list(\"seg-\")");
        assertEquals(List.of("seg-0001", "seg-0002", "seg-0003", "segment_x"), store.list("seg"), "list(\"seg\")");
        assertEquals(List.of("meta.json"), store.list("meta.json"), "a prefix equal to a whole name");
        assertEquals(List.of(), store.list("zzz"), "a prefix nothing starts with");
        assertEquals(List.of(), backend().objects("other").list(""), "namespaces are separate");
    }

    @Test
    void deleteRemovesAndIsIdempotent() throws Exception {
        ObjectStore store = backend().objects("del");
        try (ObjectStore.Appender a = store.create("seg-1")) {
            a.write(ByteBuffer.wrap(randomBytes(10_000, 100)));
            a.sync();
        }
        store.put("meta", ByteBuffer.wrap(new byte[] {1, 2, 3}));
        store.delete("seg-1");
        store.delete("meta");
        assertEquals(List.of(), store.list(""), "deleted objects are still listed");
        assertEquals(Optional.empty(), store.get("meta"), "get() of a deleted object");
        store.delete("seg-1");
        store.delete("never-existed");
        // the name can be used again
        try (ObjectStore.Appender a = store.create("seg-1")) {
            a.write(ByteBuffer.wrap(new byte[] {9}));
            a.sync();
        }
        try (SeekableByteChannel ch = store.open("seg-1")) {
            assertArrayEquals(new byte[] {9}, readChannel(ch, 1), "an object created again after deletion");
        }
    }

    @Test
    void namesOutsideTheDocumentedAlphabetAreRefusedWithoutSideEffects() throws Exception {
        ObjectStore victim = backend().objects("victim");
        victim.put("precious", ByteBuffer.wrap(new byte[] {1, 2, 3}));
        ObjectStore store = backend().objects("ns");
        store.put("ok", ByteBuffer.wrap(new byte[] {4}));
        String tooLong = "a".repeat(201);
        String[] bad = {"", "..", ".", "/", "a/b", "../victim/precious", "..\\victim\\precious", "/etc/passwd",
            "a b", "name\u0000", "caf\u00e9", tooLong, "x~1", "a:b", "*"};
        for (String name : bad) {
            String shown = name.length() > 20 ? name.substring(0, 20) + "..." : name;
            assertRefused(() -> store.create(name).close(), "create('" + shown + "')");
            assertRefused(() -> store.put(name, ByteBuffer.wrap(new byte[] {6})), "put('" + shown + "')");
            assertRefused(() -> store.get(name), "get('" + shown + "')");
            assertRefused(() -> store.open(name).close(), "open('" + shown + "')");
            try {
                store.delete(name);
            } catch (IllegalArgumentException | IOException refused) {
                // refusing is fine; deleting something is not (checked below)
            }
        }
        assertEquals(List.of("ok"), store.list(""), "refused names left something behind");
        assertArrayEquals(new byte[] {4}, content(store.get("ok")));
        assertArrayEquals(new byte[] {1, 2, 3}, content(victim.get("precious")),
                "a refused name reached another namespace");

        // the documented alphabet and length are accepted
        String longest = "b".repeat(200);
        for (String name : new String[] {"a", "Z9", "seg-000001.jnl", "a_b-c.d", longest, "...x"}) {
            store.put(name, ByteBuffer.wrap(new byte[] {7}));
            assertArrayEquals(new byte[] {7}, content(store.get(name)), "valid name '" + name + "'");
        }
    }

    @Test
    void usedBytesFollowsTheData() throws Exception {
        ObjectStore store = backend().objects("usage");
        long empty = store.usedBytes();
        assertTrue(empty >= 0, "usedBytes() is negative: " + empty);
        int n = 2 * MIB;
        try (ObjectStore.Appender a = store.create("seg-1")) {
            a.write(ByteBuffer.wrap(randomBytes(n, 110)));
            a.sync();
        }
        long afterAppend = store.usedBytes();
        assertTrue(afterAppend >= empty + n, "usedBytes() must count " + n + " appended bytes: " + empty + " -> "
                + afterAppend);
        store.put("meta", ByteBuffer.wrap(randomBytes(MIB, 111)));
        long afterPut = store.usedBytes();
        assertTrue(afterPut >= afterAppend + MIB, "usedBytes() must count a put() object: " + afterAppend + " -> "
                + afterPut);
        assertEquals(empty, backend().objects("usage-other").usedBytes(), "usedBytes() of another, empty namespace");
        store.delete("seg-1");
        long afterDelete = store.usedBytes();
        assertTrue(afterDelete <= afterPut - n, "usedBytes() must drop when an object is deleted: " + afterPut + " -> "
                + afterDelete);
    }

    // ================================================================ helpers

    private static void assertRefused(ThrowingRunnable call, String what) {
        try {
            call.run();
        } catch (IllegalArgumentException | IOException refused) {
            assertNotNull(refused.getMessage(), what + " was refused without a message");
            return;
        } catch (Exception e) {
            fail(what + " must be refused with IllegalArgumentException or IOException, threw " + e, e);
        }
        fail(what + " must be refused: object names are 1 to 200 letters, digits, '.', '_' or '-' (never '..')");
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Heap, direct, read-only and sliced sources in turn. */
    private static ByteBuffer sourceOfKind(int i, byte[] data) {
        Buffers.Kind[] kinds = Buffers.Kind.values();
        return kinds[Math.floorMod(i, kinds.length)].source(data);
    }

    private static byte[] content(Optional<ByteBuffer> got) {
        assertTrue(got.isPresent(), "get() of an object written by put() returned empty");
        return Buffers.remaining(got.get());
    }

    private static byte[] readAll(Volume v, int chunk) throws IOException {
        long size = v.size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("volume too large to read into memory: " + size);
        }
        byte[] all = new byte[(int) size];
        for (int off = 0; off < all.length; off += chunk) {
            int len = Math.min(chunk, all.length - off);
            ByteBuffer dst = ByteBuffer.wrap(all, off, len);
            v.read(off, dst);
            assertFalse(dst.hasRemaining(), "read must fill dst");
        }
        return all;
    }

    private static byte[] readChannel(SeekableByteChannel ch, int length) throws IOException {
        ch.position(0);
        ByteBuffer all = ByteBuffer.allocate(length + 1);
        while (ch.read(all) >= 0 && all.hasRemaining()) {
            // read until the end
        }
        assertEquals(length, all.position(), "object length");
        return java.util.Arrays.copyOf(all.array(), length);
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
