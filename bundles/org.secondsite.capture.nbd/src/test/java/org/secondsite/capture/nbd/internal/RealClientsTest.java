package org.secondsite.capture.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interoperability with NBD clients nobody here wrote: qemu-io, qemu-img, nbdcopy, nbdinfo. Each
 * test is skipped, with the reason, when its tool is missing, and ends comparing the source file
 * with the expected image and with the sink's change stream replayed onto a zero image.
 */
class RealClientsTest {
    private static final int SIZE = 64 << 20;

    @TempDir
    Path dir;

    @Test
    void qemuIoWritesPatternsAndReadsThemBack() throws Exception {
        Tools.assumeTool("qemu-io");
        try (TestDisk disk = TestDisk.zeros(dir, SIZE)) {
            byte[] expected = new byte[SIZE];
            List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
            // {offset, length, pattern}: aligned, unaligned, overlapping, large (beyond the inline payload)
            long[][] writes = {{0, 65536, 0xab}, {4096 + 17, 3000, 0x11}, {1 << 20, 4 << 20, 0x5a},
                    {(1 << 20) + 4096, 8192, 0x77}, {SIZE - 512, 512, 0xee}, {12345, 1, 0x01}};
            for (long[] w : writes) {
                cmd.addAll(List.of("-c", "write -P " + w[2] + " " + w[0] + " " + w[1]));
                Arrays.fill(expected, (int) w[0], (int) (w[0] + w[1]), (byte) w[2]);
            }
            cmd.addAll(List.of("-c", "write -f -P 0x42 " + (8 << 20) + " 64k")); // FUA
            Arrays.fill(expected, 8 << 20, (8 << 20) + 65536, (byte) 0x42);
            cmd.addAll(List.of("-c", "write -z " + (2 << 20) + " 1M")); // WRITE_ZEROES over written data
            Arrays.fill(expected, 2 << 20, 3 << 20, (byte) 0);
            cmd.addAll(List.of("-c", "flush"));
            // Read back: every region with its pattern.
            cmd.addAll(List.of("-c", "read -P 0xab 0 4096", "-c", "read -P 0x11 4113 3000",
                    "-c", "read -P 0x5a " + (1 << 20) + " 4096", "-c", "read -P 0x77 " + ((1 << 20) + 4096) + " 8192",
                    "-c", "read -P 0x0 " + (2 << 20) + " 1M", "-c", "read -P 0x5a " + (3 << 20) + " 2M",
                    "-c", "read -P 0xee " + (SIZE - 512) + " 512", "-c", "read -P 0x42 " + (8 << 20) + " 64k",
                    "-c", "read -v 12344 3"));
            cmd.add(disk.uri());
            String out = Tools.run(60, cmd);
            assertFalse(out.contains("Pattern verification failed"), out);
            assertFalse(out.toLowerCase().contains("error"), out);
            assertTrue(out.contains(":  ab 01 ab "), "read -v hex dump of bytes 12344..12346:\n" + out);
            assertTrue(disk.sink.flushes() >= 2, "FUA write and flush reached the sink");
            disk.assertContent(expected);
        }
    }

    @Test
    void qemuImgConvertCopiesAnImageInAndOut() throws Exception {
        Tools.assumeTool("qemu-img");
        Path in = image(dir.resolve("in.img"), 21);
        Path in2 = image(dir.resolve("in2.img"), 22);
        Path out = dir.resolve("out.img");
        try (TestDisk disk = TestDisk.zeros(dir, SIZE)) {
            Tools.run(60, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in.toString(), disk.uri());
            disk.assertContent(Files.readAllBytes(in));
            // A second image over the first: its zero regions must overwrite data.
            Tools.run(60, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in2.toString(), disk.uri());
            Tools.run(60, "qemu-img", "convert", "-f", "raw", "-O", "raw", disk.uri(), out.toString());
            assertEquals(TestDisk.sha256(Files.readAllBytes(in2)), TestDisk.sha256(Files.readAllBytes(out)), "copied out");
            disk.assertContent(Files.readAllBytes(in2));
        }
    }

    @Test
    void nbdcopyCopiesAnImageInAndOutOverSeveralConnections() throws Exception {
        Tools.assumeTool("nbdcopy");
        Path in = image(dir.resolve("in.img"), 31);
        Path in2 = image(dir.resolve("in2.img"), 32);
        Path out = dir.resolve("out.img");
        try (TestDisk disk = TestDisk.zeros(dir, SIZE)) {
            Tools.run(60, "nbdcopy", "--connections=4", in.toString(), disk.uri());
            disk.assertContent(Files.readAllBytes(in));
            Tools.run(60, "nbdcopy", "--connections=4", "--flush", in2.toString(), disk.uri());
            Files.createFile(out);
            Tools.run(60, "nbdcopy", disk.uri(), out.toString());
            assertEquals(TestDisk.sha256(Files.readAllBytes(in2)), TestDisk.sha256(Files.readAllBytes(out)), "copied out");
            assertTrue(disk.session.statistics().get("connectionsTotal") >= 5, disk.session.statistics().toString());
            disk.assertContent(Files.readAllBytes(in2));
        }
    }

    @Test
    void nbdinfoListsTheExportAndShowsItsProperties() throws Exception {
        Tools.assumeTool("nbdinfo");
        try (TestDisk disk = TestDisk.zeros(dir, "web01:disk0", SIZE, Map.of())) {
            String list = Tools.run(30, "nbdinfo", "--list", disk.uri());
            assertTrue(list.contains("export=\"web01:disk0\""), list);
            String info = Tools.run(30, "nbdinfo", disk.uri());
            for (String line : List.of("export-size: " + SIZE, "can_flush: true", "can_fua: true", "can_trim: true",
                    "can_zero: true", "can_multi_conn: true", "is_read_only: false", "block_size_minimum: 1",
                    "block_size_preferred: 4096", "block_size_maximum: 33554432", "description: SecondSite capture")) {
                assertTrue(info.contains(line), "missing '" + line + "' in:\n" + info);
            }
            String size = Tools.run(30, "nbdinfo", "--size", disk.uri());
            assertEquals(String.valueOf(SIZE), size.trim());
            assertEquals(0, disk.sink.accepted());
            disk.assertContent(new byte[SIZE]);
        }
    }

    /** A 64 MiB raw image: random data with zero regions, some of them holes. */
    static Path image(Path file, long seed) throws IOException {
        byte[] data = TestDisk.random(seed, SIZE);
        Arrays.fill(data, 4 << 20, 12 << 20, (byte) 0);
        Arrays.fill(data, (int) (seed % 7 + 20) << 20, (int) (seed % 7 + 22) << 20, (byte) 0);
        Arrays.fill(data, SIZE - (1 << 20), SIZE, (byte) 0);
        Files.write(file, data);
        assertArrayEquals(data, Files.readAllBytes(file));
        return file;
    }
}
