package org.secondsite.capture.scan.internal;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The driver's options from {@link org.secondsite.api.capture.CaptureSpec#options()}.
 *
 * @param blockSize bytes per hashed block ({@code blockSize}, a power of two from 4096 to 4 MiB, default 65536)
 * @param interval delay between the end of a scan and the start of the next ({@code interval}, ISO-8601
 *        duration such as {@code PT30S} or whole seconds, at least 1 s, at most 1 day, default 60 s)
 * @param hash block fingerprint ({@code hash}: {@code xxh64} (default) or {@code sha256})
 * @param initialFull whether the first scan emits every block ({@code initialFull}, default false)
 * @param stateDir where the hash table is persisted ({@code stateDir}, default none: memory only)
 */
record ScanSettings(int blockSize, Duration interval, BlockHash hash, boolean initialFull, Path stateDir) {
    static final String BLOCK_SIZE = "blockSize";
    static final String INTERVAL = "interval";
    static final String HASH = "hash";
    static final String INITIAL_FULL = "initialFull";
    static final String STATE_DIR = "stateDir";
    static final int MIN_BLOCK = 4096;
    static final int MAX_BLOCK = 4 << 20;
    static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    static final Duration MAX_INTERVAL = Duration.ofDays(1);
    private static final Set<String> KNOWN = Set.of(BLOCK_SIZE, INTERVAL, HASH, INITIAL_FULL, STATE_DIR);

    /** @throws IllegalArgumentException naming the key and what was expected, for unknown keys or bad values */
    static ScanSettings parse(Map<String, String> options) {
        for (String key : options.keySet()) {
            if (!KNOWN.contains(key)) {
                throw new IllegalArgumentException("unknown option '" + key + "' for capture driver scan; known options: "
                        + new TreeSet<>(KNOWN));
            }
        }
        int blockSize = parseBlockSize(options.getOrDefault(BLOCK_SIZE, "65536"));
        Duration interval = parseInterval(options.getOrDefault(INTERVAL, "60"));
        String hashValue = options.getOrDefault(HASH, "xxh64").trim();
        BlockHash hash = BlockHash.byOption(hashValue);
        if (hash == null) {
            throw new IllegalArgumentException("option hash='" + hashValue + "' must be xxh64 or sha256");
        }
        String full = options.getOrDefault(INITIAL_FULL, "false").trim();
        if (!full.equals("true") && !full.equals("false")) {
            throw new IllegalArgumentException("option initialFull='" + full + "' must be true or false");
        }
        Path stateDir = null;
        String dir = options.get(STATE_DIR);
        if (dir != null) {
            if (dir.isBlank()) {
                throw new IllegalArgumentException("option stateDir is empty: give a directory, or leave the option out "
                        + "to keep the hash table in memory only");
            }
            try {
                stateDir = Path.of(dir.trim());
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("option stateDir='" + dir + "' is not a valid path: " + e.getMessage(), e);
            }
        }
        return new ScanSettings(blockSize, interval, hash, Boolean.parseBoolean(full), stateDir);
    }

    private static int parseBlockSize(String value) {
        try {
            long n = Long.parseLong(value.trim());
            if (n >= MIN_BLOCK && n <= MAX_BLOCK && Long.bitCount(n) == 1) {
                return (int) n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("option blockSize='" + value + "' must be a power of two from " + MIN_BLOCK
                + " to " + MAX_BLOCK + " bytes (e.g. 65536)");
    }

    private static Duration parseInterval(String value) {
        String v = value.trim();
        Duration d = null;
        try {
            if (v.startsWith("P") || v.startsWith("p")) {
                d = Duration.parse(v);
            } else {
                d = Duration.ofSeconds(Long.parseLong(v));
            }
        } catch (DateTimeParseException | NumberFormatException | ArithmeticException e) {
            // reported below
        }
        if (d == null || d.compareTo(MIN_INTERVAL) < 0 || d.compareTo(MAX_INTERVAL) > 0) {
            throw new IllegalArgumentException("option interval='" + value + "' must be an ISO-8601 duration (e.g. PT30S, "
                    + "PT5M) or whole seconds, from 1 second to 1 day");
        }
        return d;
    }
}
