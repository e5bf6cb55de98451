package org.secondsite.demo.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Realistic sample data for the demo: the JDK's module image (code with strings) mixed with log text. */
final class MixedData {
    private MixedData() {
    }

    static byte[] load(int size) {
        byte[] out = new byte[size];
        int pos = 0;
        Path modules = Path.of(System.getProperty("java.home"), "lib", "modules");
        try (InputStream in = Files.newInputStream(modules)) {
            int line = 0;
            while (pos < size) {
                int binary = Math.min(size - pos, 192 * 1024);
                int n = in.readNBytes(out, pos, binary);
                pos += n;
                StringBuilder text = new StringBuilder();
                while (text.length() < 64 * 1024) {
                    text.append("2026-11-27T12:00:").append(line % 60).append(" INFO replication of disk vm-")
                            .append(line % 97).append(":disk0 batch seq=").append(line).append(" acknowledged in ")
                            .append(line % 13).append(" ms\n");
                    line++;
                }
                byte[] t = text.toString().getBytes(StandardCharsets.US_ASCII);
                int m = Math.min(size - pos, t.length);
                System.arraycopy(t, 0, out, pos, m);
                pos += m;
                if (n < binary) {
                    break; // image shorter than asked: the rest stays text-free zeros, still valid data
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read sample data from " + modules, e);
        }
        return out;
    }
}
