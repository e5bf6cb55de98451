package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.nbd.OverlayDevice;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** The overlay against a byte-array model, its scratch life cycle, and concurrent partial writes. */
class OverlayDeviceTest {
    /** Not a multiple of the block size: the last block is partial. */
    private static final int SIZE = (256 << 10) + 1000;

    @TempDir
    Path dir;

    /** One operation: 0 write, 1 zero, 2 read; offset and length inside the device. */
    record Op(int kind, int offset, int length, byte seed) {
    }

    @Property(tries = 200)
    void readsEqualTheModelAndTheBaseIsNeverWritten(@ForAll @Size(min = 1, max = 40) List<@net.jqwik.api.From("ops") Op> ops)
            throws IOException {
        Path tmp = Files.createTempDirectory("overlay");
        try {
            byte[] base = new byte[SIZE];
            new Random(ops.size()).nextBytes(base);
            Arrays.fill(base, 8192, 20000, (byte) 0);
            Path baseFile = tmp.resolve("base.img");
            Files.write(baseFile, base);
            byte[] model = base.clone();
            Path scratch = tmp.resolve("scratch");
            try (FileDevice device = new FileDevice(baseFile, true);
                    OverlayDevice overlay = OverlayDevice.create(device, scratch)) {
                for (Op op : ops) {
                    switch (op.kind()) {
                        case 0 -> {
                            byte[] data = new byte[op.length()];
                            new Random(op.seed()).nextBytes(data);
                            // a direct buffer with a non-zero position, as the server passes them
                            ByteBuffer src = ByteBuffer.allocateDirect(op.length() + 7).position(7);
                            src.put(data).position(7);
                            overlay.write(op.offset(), src);
                            assertFalse(src.hasRemaining(), "write consumes its buffer");
                            System.arraycopy(data, 0, model, op.offset(), op.length());
                        }
                        case 1 -> {
                            overlay.zero(op.offset(), op.length());
                            Arrays.fill(model, op.offset(), op.offset() + op.length(), (byte) 0);
                        }
                        default -> {
                            ByteBuffer dst = ByteBuffer.allocate(op.length());
                            overlay.read(op.offset(), dst);
                            assertFalse(dst.hasRemaining());
                            assertArrayEquals(Arrays.copyOfRange(model, op.offset(), op.offset() + op.length()), dst.array(),
                                    "read " + op);
                        }
                    }
                }
                ByteBuffer all = ByteBuffer.allocate(SIZE);
                overlay.read(0, all);
                assertArrayEquals(model, all.array(), "whole device after " + ops.size() + " operations");
                assertEquals(0, device.changes.sum());
            }
            assertFalse(Files.exists(scratch), "scratch deleted on close");
            assertArrayEquals(base, Files.readAllBytes(baseFile), "base unchanged");
        } finally {
            try (var files = Files.list(tmp)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(tmp);
        }
    }

    @Provide
    Arbitrary<Op> ops() {
        Arbitrary<Integer> kind = Arbitraries.integers().between(0, 2);
        Arbitrary<Integer> offset = Arbitraries.oneOf(Arbitraries.integers().between(0, SIZE - 1),
                Arbitraries.integers().between(0, SIZE / 4096).map(b -> Math.min(SIZE - 1, b * 4096)));
        Arbitrary<Integer> length = Arbitraries.oneOf(Arbitraries.integers().between(1, 20000),
                Arbitraries.of(4096, 8192, 65536));
        Arbitrary<Byte> seed = Arbitraries.bytes();
        return Combinators.combine(kind, offset, length, seed)
                .as((k, o, l, s) -> new Op(k, o, Math.min(l, SIZE - o), s));
    }

    @Test
    void lifeCycleAndBadInput() throws IOException {
        Path baseFile = FileDevice.sparse(dir.resolve("base.img"), 1 << 20);
        Path scratch = dir.resolve("scratch");
        try (FileDevice device = new FileDevice(baseFile, true)) {
            OverlayDevice overlay = OverlayDevice.create(device, scratch);
            assertEquals(1 << 20, overlay.size());
            assertFalse(overlay.isReadOnly());
            assertThrows(FileAlreadyExistsException.class, () -> OverlayDevice.create(device, scratch),
                    "a scratch file in use is never shared");
            assertThrows(EOFException.class, () -> overlay.write((1 << 20) - 10, ByteBuffer.allocate(11)));
            assertThrows(EOFException.class, () -> overlay.read(-1, ByteBuffer.allocate(1)));
            overlay.write(100, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertEquals(4096, overlay.scratchBytes(), "one block overlaid");
            overlay.zero(0, 1 << 20);
            assertEquals(0, overlay.scratchBytes(), "whole-block zeroes take no scratch");
            overlay.flush();
            overlay.close();
            overlay.close();
            assertFalse(Files.exists(scratch));
            assertThrows(ClosedChannelException.class, () -> overlay.read(0, ByteBuffer.allocate(1)));
            assertTrue(device.isReadOnly());
        }
    }

    /**
     * Eight writers each own 512 bytes of every 4 KiB block and write them over and over with partial
     * writes (each a read-modify-write of the block): no writer's bytes may be lost. Meanwhile readers
     * read a two-block range written whole by a ninth writer with one value per write: never torn.
     */
    @Test
    void concurrentPartialWritesNeverLoseBytesAndReadsAreNeverTorn() throws Exception {
        int blocks = 32;
        Path baseFile = FileDevice.sparse(dir.resolve("base.img"), (long) blocks * 4096 + 8192);
        try (FileDevice device = new FileDevice(baseFile, true);
                OverlayDevice overlay = OverlayDevice.create(device, dir.resolve("scratch"))) {
            ExecutorService pool = Executors.newFixedThreadPool(11);
            try {
                CountDownLatch start = new CountDownLatch(1);
                AtomicBoolean stop = new AtomicBoolean();
                List<Future<?>> writers = new ArrayList<>();
                for (int w = 0; w < 8; w++) {
                    int slot = w;
                    writers.add(pool.submit(() -> {
                        start.await();
                        for (int round = 1; round <= 20; round++) {
                            for (int b = 0; b < blocks; b++) {
                                byte[] data = new byte[512];
                                Arrays.fill(data, (byte) (slot * 20 + round));
                                overlay.write((long) b * 4096 + slot * 512L, ByteBuffer.wrap(data));
                            }
                        }
                        return null;
                    }));
                }
                long tornAt = (long) blocks * 4096;
                Future<?> whole = pool.submit(() -> {
                    start.await();
                    for (int v = 1; !stop.get(); v++) {
                        byte[] data = new byte[8192];
                        Arrays.fill(data, (byte) v);
                        overlay.write(tornAt, ByteBuffer.wrap(data));
                    }
                    return null;
                });
                List<Future<Integer>> readers = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    readers.add(pool.submit(() -> {
                        start.await();
                        int torn = 0;
                        ByteBuffer buf = ByteBuffer.allocate(8192);
                        while (!stop.get()) {
                            buf.clear();
                            overlay.read(tornAt, buf);
                            byte first = buf.get(0);
                            for (int i = 1; i < 8192; i++) {
                                if (buf.get(i) != first) {
                                    torn++;
                                    break;
                                }
                            }
                        }
                        return torn;
                    }));
                }
                start.countDown();
                for (Future<?> f : writers) {
                    f.get(60, TimeUnit.SECONDS);
                }
                stop.set(true);
                whole.get(60, TimeUnit.SECONDS);
                for (Future<Integer> f : readers) {
                    assertEquals(0, f.get(60, TimeUnit.SECONDS), "reads that saw half of a write");
                }
            } finally {
                pool.shutdownNow();
            }
            byte[] expected = new byte[blocks * 4096];
            for (int b = 0; b < blocks; b++) {
                for (int slot = 0; slot < 8; slot++) {
                    Arrays.fill(expected, b * 4096 + slot * 512, b * 4096 + slot * 512 + 512, (byte) (slot * 20 + 20));
                }
            }
            ByteBuffer actual = ByteBuffer.allocate(blocks * 4096);
            overlay.read(0, actual);
            assertArrayEquals(expected, actual.array(), "every writer's last bytes survive the others' read-modify-writes");
        }
        assertEquals(0, Files.size(baseFile) - ((long) 32 * 4096 + 8192), "base size unchanged");
    }
}
