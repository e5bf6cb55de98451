package org.secondsite.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * Realistic mixed test data: class files and resources from the running JDK's module image
 * (binary with embedded strings) interleaved with generated log text. Neither zeros nor noise.
 */
public final class TestData {
    private static final String[] WORDS = {"INFO", "WARN", "replication", "of", "disk", "vm-042:disk0", "batch", "seq=",
        "acknowledged", "in", "ms", "user=admin", "GET /api/v1/groups", "200", "\n"};

    private TestData() {
    }

    public static byte[] mixed(int length, long seed) {
        Random random = new Random(seed);
        byte[] out = new byte[length];
        Path modules = Path.of(System.getProperty("java.home"), "lib", "modules");
        try (FileChannel ch = FileChannel.open(modules, StandardOpenOption.READ)) {
            int pos = 0;
            while (pos < length) {
                int chunk = Math.min(length - pos, 4096 + random.nextInt(28672));
                if (random.nextInt(3) == 0) {
                    StringBuilder sb = new StringBuilder(chunk + 64);
                    while (sb.length() < chunk) {
                        sb.append(WORDS[random.nextInt(WORDS.length)]).append(' ').append(random.nextInt(10_000)).append(' ');
                    }
                    System.arraycopy(sb.toString().getBytes(StandardCharsets.US_ASCII), 0, out, pos, chunk);
                } else {
                    long at = (long) (random.nextDouble() * (ch.size() - chunk));
                    ByteBuffer dst = ByteBuffer.wrap(out, pos, chunk);
                    while (dst.hasRemaining()) {
                        if (ch.read(dst, at + dst.position() - pos) < 0) {
                            throw new IOException("short read from " + modules);
                        }
                    }
                }
                pos += chunk;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
