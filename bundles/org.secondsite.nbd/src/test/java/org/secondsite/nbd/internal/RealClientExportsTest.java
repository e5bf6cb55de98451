package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.secondsite.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.nbd.Export;
import org.secondsite.nbd.ExportOptions;
import org.secondsite.nbd.NbdServer;
import org.secondsite.nbd.OverlayDevice;

/**
 * The server with NBD clients nobody here wrote (qemu-io, nbdcopy, nbdinfo; each test is skipped, with
 * the reason, when its tool is missing) and with the permissive test client for what real clients do
 * not send: a read-only export, a writable overlay export over a read-only base, name errors, and
 * closing an export under a connected client.
 */
class RealClientExportsTest {
    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;

    /** Random bytes with a zero region (4..6 MiB), written to {@code name}. */
    private Path baseFile(String name, byte[] content) throws IOException {
        new Random(name.hashCode()).nextBytes(content);
        Arrays.fill(content, 4 << 20, 6 << 20, (byte) 0);
        Path file = dir.resolve(name);
        Files.write(file, content);
        return file;
    }

    @Test
    void readOnlyExportServesTheDeviceAndRefusesWritesWithEperm() throws Exception {
        Tools.assumeTool("nbdcopy");
        Tools.assumeTool("qemu-io");
        byte[] content = new byte[SIZE];
        Path file = baseFile("base.img", content);
        try (FileDevice device = new FileDevice(file, true); NbdServer server = NbdServer.start()) {
            Export export = server.export("point-1", device, ExportOptions.READ_ONLY.withDescription("a recovery point"));
            assertTrue(export.isReadOnly());

            Path copy = dir.resolve("copy.img");
            Tools.run(60, "nbdcopy", export.uri(), copy.toString());
            assertEquals(ServedDisk.sha256(content), ServedDisk.sha256(Files.readAllBytes(copy)),
                    "nbdcopy of the read-only export vs the device (SHA-256)");

            String info = Tools.run(30, "nbdinfo", export.uri());
            assertTrue(info.contains("is_read_only: true"), info);
            assertTrue(info.contains("a recovery point"), info);

            // qemu-io sees the read-only flag and refuses to write before sending anything.
            Tools.Result q = Tools.attempt(30, "qemu-io", "-f", "raw", "-c", "write -P 0xaa 0 4k", export.uri());
            assertNotEquals(0, q.exit(), q.output());
            assertTrue(q.output().contains("Permission denied"), q.output());

            // A client that writes anyway gets EPERM for every change, and the device is untouched.
            try (NbdTestClient c = NbdTestClient.open(server.address(), "point-1")) {
                assertEquals(FLAG_READ_ONLY, c.transmissionFlags & FLAG_READ_ONLY, "NBD_FLAG_READ_ONLY advertised");
                assertEquals(0, c.transmissionFlags & (FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FUA));
                assertEquals(EPERM, c.writeSync(4096, new byte[8192]));
                c.request(0, CMD_TRIM, 5, 0, 65536);
                assertEquals(EPERM, c.readReply().error());
                c.request(0, CMD_WRITE_ZEROES, 6, 0, 65536);
                assertEquals(EPERM, c.readReply().error());
                c.request(0, CMD_FLUSH, 7, 0, 0);
                assertEquals(0, c.readReply().error(), "FLUSH of a read-only export succeeds");
                assertArrayEquals(Arrays.copyOfRange(content, 4096, 4096 + 8192), c.readSync(4096, 8192));
                c.disconnect();
            }
            assertEquals(0, device.changes.sum(), "no change reached the device");
            assertEquals(3, export.statistics().get("rejectedRequests"));
        }
        assertEquals(ServedDisk.sha256(content), ServedDisk.sha256(Files.readAllBytes(file)), "device file unchanged");
    }

    @Test
    void writableOverlayExportShowsWritesAndLeavesTheBaseUnchanged() throws Exception {
        Tools.assumeTool("qemu-io");
        Tools.assumeTool("nbdcopy");
        byte[] content = new byte[SIZE];
        Path file = baseFile("base.img", content);
        String baseHash = ServedDisk.sha256(content);
        byte[] expected = content.clone();
        Path scratch = dir.resolve("test-failover.scratch");
        try (FileDevice base = new FileDevice(file, true); NbdServer server = NbdServer.start()) {
            OverlayDevice overlay = OverlayDevice.create(base, scratch);
            Export export = server.export("test-failover", overlay, ExportOptions.WRITABLE);
            assertFalse(export.isReadOnly());
            List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
            // {offset, length, pattern}: aligned, unaligned inside a block, across blocks, into the zero region
            long[][] writes = {{0, 65536, 0xab}, {4096 + 17, 3000, 0x11}, {(1 << 20) - 100, 9000, 0x5a},
                    {(4 << 20) + 512, 512, 0x77}, {SIZE - 4096, 4096, 0xee}};
            for (long[] w : writes) {
                cmd.addAll(List.of("-c", "write -P " + w[2] + " " + w[0] + " " + w[1]));
                Arrays.fill(expected, (int) w[0], (int) (w[0] + w[1]), (byte) w[2]);
            }
            cmd.addAll(List.of("-c", "write -z " + (2 << 20) + " 1M")); // WRITE_ZEROES
            Arrays.fill(expected, 2 << 20, 3 << 20, (byte) 0);
            cmd.addAll(List.of("-c", "flush", "-c", "read -P 0xab 0 4096", "-c", "read -P 0x11 4113 3000",
                    "-c", "read -P 0x5a " + ((1 << 20) - 100) + " 9000", "-c", "read -P 0x0 " + (2 << 20) + " 1M",
                    "-c", "read -P 0x77 " + ((4 << 20) + 512) + " 512"));
            cmd.add(export.uri());
            String out = Tools.run(60, cmd);
            assertFalse(out.contains("Pattern verification failed"), out);
            assertFalse(out.toLowerCase().contains("error"), out);

            Path copy = dir.resolve("copy.img");
            Tools.run(60, "nbdcopy", export.uri(), copy.toString());
            assertEquals(ServedDisk.sha256(expected), ServedDisk.sha256(Files.readAllBytes(copy)),
                    "nbdcopy of the overlay export vs the expected image (SHA-256)");
            assertTrue(Files.exists(scratch));
            assertTrue(overlay.scratchBytes() > 0);

            export.close();
            overlay.close();
            assertFalse(Files.exists(scratch), "scratch deleted when the overlay is discarded");
        }
        assertEquals(baseHash, ServedDisk.sha256(Files.readAllBytes(file)), "base unchanged byte for byte");
    }

    @Test
    void exportNameClashAndUnknownNamesAreClearErrors() throws Exception {
        Tools.assumeTool("nbdinfo");
        Path file = FileDevice.sparse(dir.resolve("d.img"), 1 << 20);
        try (FileDevice device = new FileDevice(file, true); NbdServer server = NbdServer.start()) {
            server.export("alpha", device, ExportOptions.READ_ONLY);
            IllegalArgumentException clash = assertThrows(IllegalArgumentException.class,
                    () -> server.export("alpha", device, ExportOptions.READ_ONLY));
            assertEquals("export 'alpha' already exists", clash.getMessage());
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> server.export("no spaces", device, ExportOptions.READ_ONLY));
            assertTrue(bad.getMessage().contains("'no spaces' is invalid"), bad.getMessage());
            assertThrows(IllegalArgumentException.class, () -> server.export("x".repeat(129), device, ExportOptions.READ_ONLY));
            IllegalArgumentException writable = assertThrows(IllegalArgumentException.class,
                    () -> server.export("beta", device, ExportOptions.WRITABLE));
            assertTrue(writable.getMessage().contains("read-only"), writable.getMessage());
            server.export("beta", device, ExportOptions.READ_ONLY);

            String list = Tools.run(30, "nbdinfo", "--list", "nbd://127.0.0.1:" + server.address().getPort());
            assertTrue(list.contains("alpha") && list.contains("beta"), list);

            Tools.Result unknown = Tools.attempt(30, "nbdinfo",
                    "nbd://127.0.0.1:" + server.address().getPort() + "/nope");
            assertNotEquals(0, unknown.exit(), unknown.output());
            // nbdinfo shows NBD_REP_ERR_UNKNOWN as ENOENT, not the server's text: that is checked below
            assertTrue(unknown.output().contains("No such file or directory") && unknown.output().contains("nope"),
                    unknown.output());

            try (NbdTestClient c = new NbdTestClient(server.address())) {
                c.greet(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
                c.option(OPT_GO, NbdTestClient.infoData("nope"));
                NbdTestClient.OptionReply r = c.readOptionReply();
                assertEquals(REP_ERR_UNKNOWN, r.type());
                assertEquals("unknown export 'nope'; this server exports 'alpha', 'beta'", r.text());
            }

            try (NbdTestClient c = new NbdTestClient(server.address())) {
                c.greet(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
                c.option(OPT_GO, NbdTestClient.infoData(""));
                NbdTestClient.OptionReply r = c.readOptionReply();
                assertEquals(REP_ERR_UNKNOWN, r.type(), "an empty name with two exports is unknown");
                assertTrue(r.text().contains("'alpha', 'beta'"), r.text());
            }
        }
    }

    @Test
    void closingAnExportDisconnectsItsClientsOnly() throws Exception {
        Path file = FileDevice.sparse(dir.resolve("d.img"), 1 << 20);
        try (FileDevice device = new FileDevice(file, true); NbdServer server = NbdServer.start()) {
            Export x = server.export("x", device, ExportOptions.READ_ONLY);
            Export y = server.export("y", device, ExportOptions.READ_ONLY);
            try (NbdTestClient cx = NbdTestClient.open(server.address(), "x");
                    NbdTestClient cy = NbdTestClient.open(server.address(), "y")) {
                assertArrayEquals(new byte[4096], cx.readSync(0, 4096));
                assertEquals(1, x.statistics().get("connections"));
                x.close();
                assertTrue(x.isClosed());
                assertEquals(0, x.statistics().get("connections"), "closed when close() returns");
                assertTrue(cx.closedByServer(), "the client of the closed export is disconnected");
                assertArrayEquals(new byte[4096], cy.readSync(0, 4096), "the other export's client goes on");
                assertTrue(server.find("x").isEmpty());
                try (NbdTestClient again = new NbdTestClient(server.address())) {
                    again.greet(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
                    again.option(OPT_GO, NbdTestClient.infoData("x"));
                    assertEquals(REP_ERR_UNKNOWN, again.readOptionReply().type(), "a closed export is unknown");
                }
                Export x2 = server.export("x", device, ExportOptions.READ_ONLY);
                try (NbdTestClient c2 = NbdTestClient.open(server.address(), "x")) {
                    assertArrayEquals(new byte[4096], c2.readSync(0, 4096), "the name is free again");
                }
                assertEquals(List.of("x", "y"), server.exports().stream().map(Export::name).toList());
                x2.close();
            }
        }
    }

    @Test
    void anEmptyNameSelectsTheOnlyExport() throws Exception {
        Tools.assumeTool("qemu-io");
        byte[] content = new byte[SIZE];
        Path file = baseFile("only.img", content);
        try (FileDevice device = new FileDevice(file, true); NbdServer server = NbdServer.start()) {
            server.export("only", device, ExportOptions.READ_ONLY);
            String out = Tools.run(30, "qemu-io", "-r", "-f", "raw", "-c", "read -v 0 16",
                    "nbd://127.0.0.1:" + server.address().getPort());
            String hex = String.format("%02x %02x", content[0] & 0xff, content[1] & 0xff);
            assertTrue(out.contains(hex), hex + " in\n" + out);
        }
    }
}
