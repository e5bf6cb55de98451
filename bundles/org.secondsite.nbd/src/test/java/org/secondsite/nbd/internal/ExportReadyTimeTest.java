package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.nbd.Export;
import org.secondsite.nbd.ExportOptions;
import org.secondsite.nbd.NbdServer;
import org.secondsite.nbd.OverlayDevice;

/**
 * Measures (P5) the time from {@link NbdServer#export} to the first successful read by a real client, for
 * 1 GiB and 10 GiB sparse file-backed devices, read-only and through a writable overlay. Prints the numbers
 * (median of 3; "P5 ..." lines); asserts only that every read returned the device's bytes. No thresholds:
 * the machine is shared and noisy.
 */
class ExportReadyTimeTest {
    @TempDir
    Path dir;

    @Test
    void exportToFirstReadIsFlatInSize() throws Exception {
        Tools.assumeTool("qemu-io");
        Tools.assumeTool("nbdinfo");
        try (NbdServer server = NbdServer.start()) {
            for (long gib : new long[] {1, 10}) {
                Path file = FileDevice.sparse(dir.resolve(gib + "g.img"), gib << 30);
                try (FileDevice device = new FileDevice(file, true)) {
                    measure(server, device, gib, false);
                    measure(server, device, gib, true);
                }
            }
        }
    }

    private void measure(NbdServer server, FileDevice base, long gib, boolean overlay) throws Exception {
        List<Double> javaClient = new ArrayList<>();
        List<Double> qemu = new ArrayList<>();
        List<Double> nbdinfo = new ArrayList<>();
        List<Double> exportCall = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String name = gib + "g-" + (overlay ? "overlay" : "ro") + "-" + i;
            // 1. our client: export, connect, READ 4 KiB at the end of the device
            long t0 = System.nanoTime();
            BlockDevice device = overlay ? OverlayDevice.create(base, dir.resolve(name + ".scratch")) : base;
            Export e = server.export(name + "-j", device, overlay ? ExportOptions.WRITABLE : ExportOptions.READ_ONLY);
            long t1 = System.nanoTime();
            try (NbdTestClient c = NbdTestClient.open(server.address(), e.name())) {
                assertArrayEquals(new byte[4096], c.readSync((gib << 30) - 4096, 4096));
            }
            long t2 = System.nanoTime();
            exportCall.add((t1 - t0) / 1e6);
            javaClient.add((t2 - t0) / 1e6);
            e.close();

            // 2. qemu-io (process start included): export, then read with pattern check
            t0 = System.nanoTime();
            e = server.export(name + "-q", device, overlay ? ExportOptions.WRITABLE : ExportOptions.READ_ONLY);
            String out = Tools.run(60, "qemu-io", "-r", "-f", "raw", "-c", "read -P 0 " + ((gib << 30) - 65536) + " 64k",
                    e.uri());
            t2 = System.nanoTime();
            assertFalse(out.contains("Pattern verification failed") || out.toLowerCase().contains("error"), out);
            qemu.add((t2 - t0) / 1e6);
            e.close();

            // 3. nbdinfo (handshake and size only; process start included)
            t0 = System.nanoTime();
            e = server.export(name + "-i", device, overlay ? ExportOptions.WRITABLE : ExportOptions.READ_ONLY);
            Tools.run(60, "nbdinfo", "--size", e.uri());
            t2 = System.nanoTime();
            nbdinfo.add((t2 - t0) / 1e6);
            e.close();
            if (overlay) {
                device.close();
            }
        }
        System.out.printf(Locale.ROOT, "P5 %2d GiB %-9s export() %.2f ms | first read: test client %.1f ms, "
                + "qemu-io %.1f ms, nbdinfo --size %.1f ms (median of 3, process start included for tools)%n",
                gib, overlay ? "overlay" : "read-only", median(exportCall), median(javaClient), median(qemu), median(nbdinfo));
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }
}
