package org.secondsite.wire;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Realistic disk-write content for tests: a mix of text-like blocks (log lines, config),
 * binary-like blocks (structured records with small integers and repeated headers) and a
 * few zero-filled stretches; neither all zeros nor incompressible noise.
 */
final class MixedData {
    private static final String[] WORDS = {"replication", "disk", "sector", "INFO", "WARN", "error", "GET", "/api/v1/",
        "user=", "session", "200", "OK", "timeout", "commit", "journal", "vm-042", "process-server", "\n", " ", "=", ":"};

    private MixedData() {
    }

    static byte[] generate(Random random, int length) {
        byte[] out = new byte[length];
        int pos = 0;
        while (pos < length) {
            int chunk = Math.min(length - pos, 256 + random.nextInt(4096));
            switch (random.nextInt(4)) {
                case 0, 1 -> {
                    StringBuilder sb = new StringBuilder(chunk + 32);
                    while (sb.length() < chunk) {
                        sb.append(WORDS[random.nextInt(WORDS.length)]);
                        if (random.nextInt(8) == 0) {
                            sb.append(random.nextInt(100_000));
                        }
                    }
                    System.arraycopy(sb.toString().getBytes(StandardCharsets.US_ASCII), 0, out, pos, chunk);
                }
                case 2 -> {
                    for (int i = 0; i < chunk; i++) {
                        out[pos + i] = switch (i % 16) {
                            case 0, 1, 2, 3 -> (byte) (0xCA + (i % 4));
                            case 4, 5 -> (byte) (i >>> 4);
                            default -> (byte) (random.nextInt(16) == 0 ? random.nextInt(256) : i % 7);
                        };
                    }
                }
                default -> {
                    if (random.nextBoolean()) {
                        // zero-filled stretch (already zero)
                    } else {
                        for (int i = 0; i < chunk; i++) {
                            out[pos + i] = (byte) random.nextInt(256);
                        }
                    }
                }
            }
            pos += chunk;
        }
        return out;
    }
}
