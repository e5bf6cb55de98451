package org.secondsite.capture.scan.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;

/**
 * Measures the cost of a scan on an existing file or device, for each hash:
 * {@code java -cp <api>:<classes>:<test-classes>:slf4j-api.jar ...ScanCostMain disk.img [blockSize]}.
 * Runs a baseline and then three comparison scans per hash, and prints their ns per GiB.
 */
public final class ScanCostMain {
    private ScanCostMain() {
    }

    public static void main(String[] args) throws IOException {
        Path source = Path.of(args[0]);
        String blockSize = args.length > 1 ? args[1] : "65536";
        ChangeSink discard = new ChangeSink() {
            @Override
            public void accept(ChangeRecord change) {
                // counted by the scanner
            }

            @Override
            public void flush() {
                // nothing held
            }
        };
        for (String hash : new String[] {"xxh64", "sha256"}) {
            ScanSettings settings = ScanSettings.parse(Map.of("hash", hash, "blockSize", blockSize));
            try (BlockScanner scanner = new BlockScanner("cost", source, settings, discard, null)) {
                for (int i = 0; i < 4; i++) {
                    Map<String, Long> st = scanner.scan();
                    System.out.printf("%-6s scan %d: %d bytes in %d ms = %.3f s/GiB%n", hash, i, st.get("sizeBytes"),
                            st.get("lastScanMillis"), st.get("nanosPerGiB") / 1e9);
                }
            }
        }
    }
}
