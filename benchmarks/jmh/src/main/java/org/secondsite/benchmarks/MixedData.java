package org.secondsite.benchmarks;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Realistic disk-write content: text-like blocks (log lines, key=value config), binary-like
 * blocks (fixed-layout records with headers, small integers and a little entropy) and some
 * already-compressed stretches; neither zeros nor pure noise. Deterministic for a seed.
 */
public final class MixedData {
    private static final String[] WORDS = {"2025-03-01T10:00:00Z", "INFO", "WARN", "ERROR", "replication", "disk",
        "vm-042:disk0", "batch", "seq=", "acknowledged", "in", "ms", "user=admin", "GET", "/api/v1/groups/web-tier",
        "HTTP/1.1", "200", "404", "timeout=30s", "journal", "commit", "\n", " ", "=", ":"};

    private MixedData() {
    }

    public static byte[] generate(long seed, int length) {
        Random random = new Random(seed);
        byte[] out = new byte[length];
        int pos = 0;
        while (pos < length) {
            int chunk = Math.min(length - pos, 1024 + random.nextInt(15 * 1024));
            int kind = random.nextInt(10);
            if (kind < 4) {
                StringBuilder sb = new StringBuilder(chunk + 64);
                while (sb.length() < chunk) {
                    sb.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
                    if (random.nextInt(4) == 0) {
                        sb.append(random.nextInt(1_000_000)).append(' ');
                    }
                }
                System.arraycopy(sb.toString().getBytes(StandardCharsets.US_ASCII), 0, out, pos, chunk);
            } else if (kind < 8) {
                int base = random.nextInt();
                for (int i = 0; i < chunk; i++) {
                    int field = i % 64;
                    out[pos + i] = (byte) (field < 8 ? "RECORD01".charAt(field)
                            : field < 16 ? (base + i / 64) >>> (8 * (field & 3))
                            : field < 40 ? (random.nextInt(8) == 0 ? random.nextInt(256) : field)
                            : 0);
                }
            } else if (kind == 8) {
                for (int i = 0; i < chunk; i++) {
                    out[pos + i] = (byte) random.nextInt(256);
                }
            } else {
                // a sparse stretch: mostly zeros with a few values, like a half-filled page
                for (int i = 0; i < chunk; i += 1 + random.nextInt(64)) {
                    out[pos + i] = (byte) random.nextInt(256);
                }
            }
            pos += chunk;
        }
        return out;
    }
}
