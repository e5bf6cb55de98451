package org.secondsite.capture.scan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;

/**
 * Whatever is written between scans (anywhere, any length, also past the end), replaying the emitted
 * records onto the baseline image gives the source, and records never exceed 4 MiB nor overlap within a scan.
 */
class ScanPropertyTest {

    record Write(long offset, int length, long seed) {
    }

    @Provide
    Arbitrary<Write> writes() {
        return Combinators.combine(Arbitraries.longs().between(0, 600_000), Arbitraries.integers().between(1, 70_000),
                Arbitraries.longs()).as(Write::new);
    }

    @Property(tries = 40)
    void replayOfTheEmittedRecordsReproducesTheSource(@ForAll @IntRange(min = 0, max = 500_000) int initialSize,
            @ForAll @Size(max = 3) List<@Size(max = 6) List<@net.jqwik.api.From("writes") Write>> rounds,
            @ForAll("blockSizes") int blockSize) throws IOException {
        Path dir = Files.createTempDirectory("scanprop");
        try {
            Path src = dir.resolve("src.img");
            byte[] init = new byte[initialSize];
            new Random(initialSize).nextBytes(init);
            Files.write(src, init);
            Path replica = dir.resolve("replica.img");
            Files.copy(src, replica);
            CollectingSink sink = new CollectingSink();
            ScanCaptureSession s = (ScanCaptureSession) new ScanCaptureDriver().start(new CaptureSpec(DiskId.of("p"), src,
                    Map.of("interval", "PT1H", "blockSize", Integer.toString(blockSize))), sink);
            try {
                for (List<Write> round : rounds) {
                    try (FileChannel ch = FileChannel.open(src, StandardOpenOption.WRITE)) {
                        for (Write w : round) {
                            byte[] b = new byte[w.length()];
                            new Random(w.seed()).nextBytes(b);
                            ch.write(ByteBuffer.wrap(b), w.offset());
                        }
                    }
                    s.scanNow();
                    List<ChangeRecord> records = sink.drain();
                    long previousEnd = -1;
                    for (ChangeRecord r : records) {
                        assertTrue(r.length() <= BlockScanner.MAX_RUN, r.toString());
                        assertTrue(r.offset() >= previousEnd, "ascending, not overlapping: " + records);
                        assertEquals(0, r.offset() % blockSize, "block aligned: " + r);
                        previousEnd = r.end();
                    }
                    CollectingSink.replay(records, replica);
                    assertEquals(CollectingSink.sha256(src), CollectingSink.sha256(replica));
                }
            } finally {
                s.close();
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    @Provide
    Arbitrary<Integer> blockSizes() {
        return Arbitraries.of(4096, 8192, 65536);
    }
}
