package org.secondsite.capture.nbd.internal;

import org.secondsite.nbd.internal.NbdTestClient;

import org.secondsite.nbd.NbdProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.ChangeRecord;

/**
 * Several connections racing on the same few blocks, with pipelined writes, zeroes and trims: the
 * source must equal the sink's stream replayed in order (the per-export ordering invariant), and a
 * write issued after another write's reply was seen comes after it in the stream.
 */
class ConcurrentConnectionsTest {
    private static final int SIZE = 1 << 20;
    private static final int BLOCKS = 8;
    private static final int CLIENTS = 4;
    private static final int ROUNDS = 150;
    private static final int PIPELINE = 16;

    @TempDir
    Path dir;

    @Test
    void racingConnectionsOnTheSameBlocksKeepSourceAndStreamIdentical() throws Exception {
        try (TestDisk disk = TestDisk.zeros(dir, SIZE)) {
            disk.sink.checkSourceAtEachAccept(disk.file);
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    long seed = c;
                    Callable<Integer> client = () -> hammer(disk, seed);
                    results.add(pool.submit(client));
                }
                int writes = 0;
                for (Future<Integer> f : results) {
                    writes += f.get(60, TimeUnit.SECONDS);
                }
                assertEquals(writes, disk.session.statistics().get("writes"));
            } finally {
                pool.shutdownNow();
            }
            assertEquals(0, disk.sink.sourceMismatches(),
                    "records that reached the sink before the previous one was applied to the source");
            disk.assertSinkMatchesSource();
        }
    }

    private static Integer hammer(TestDisk disk, long seed) throws Exception {
        Random random = new Random(seed);
        int writes = 0;
        try (NbdTestClient c = NbdTestClient.open(disk.address(), "disk0")) {
            for (int round = 0; round < ROUNDS; round++) {
                for (int i = 0; i < PIPELINE; i++) {
                    long offset = random.nextInt(BLOCKS) * 4096L + random.nextInt(2) * 2048L;
                    int kind = random.nextInt(10);
                    if (kind == 0) {
                        c.request(0, NbdProtocol.CMD_WRITE_ZEROES, i, offset, 4096);
                    } else if (kind == 1) {
                        c.request(0, NbdProtocol.CMD_TRIM, i, offset, 4096);
                    } else {
                        byte[] data = new byte[4096];
                        random.nextBytes(data);
                        c.write(i, offset, data, 0);
                        writes++;
                    }
                }
                for (int i = 0; i < PIPELINE; i++) {
                    assertEquals(0, c.readReply().error());
                }
            }
            c.disconnect();
        }
        return writes;
    }

    @Test
    void aWriteIssuedAfterAnotherWasAcknowledgedFollowsItInTheStream() throws Exception {
        try (TestDisk disk = TestDisk.zeros(dir, SIZE);
                NbdTestClient a = NbdTestClient.open(disk.address(), "disk0");
                NbdTestClient b = NbdTestClient.open(disk.address(), "disk0")) {
            byte[] expected = new byte[SIZE];
            for (int i = 0; i < 200; i++) {
                NbdTestClient first = i % 2 == 0 ? a : b;
                NbdTestClient second = i % 2 == 0 ? b : a;
                byte[] x = TestDisk.random(i, 4096);
                byte[] y = TestDisk.random(1000 + i, 4096);
                assertEquals(0, first.writeSync(0, x));
                assertEquals(0, second.writeSync(0, y));
                System.arraycopy(y, 0, expected, 0, 4096);
            }
            List<ChangeRecord> records = disk.sink.records();
            assertEquals(400, records.size());
            for (int i = 0; i < 200; i++) {
                assertEquals(ChangeKind.WRITE, records.get(2 * i).kind());
                assertEquals(java.nio.ByteBuffer.wrap(TestDisk.random(i, 4096)), records.get(2 * i).data(), "record " + 2 * i);
                assertEquals(java.nio.ByteBuffer.wrap(TestDisk.random(1000 + i, 4096)), records.get(2 * i + 1).data());
            }
            disk.assertContent(expected);
        }
    }
}
