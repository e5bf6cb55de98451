package org.secondsite.capture.nbd.internal;

import org.secondsite.nbd.internal.NbdTestClient;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.nbd.Export;
import org.secondsite.nbd.ExportOptions;
import org.secondsite.nbd.NbdServer;

/**
 * The export gives a write to the sink before writing the file. A reader of the session's source
 * (resync, dirty-region replay) must never see the file between the two: data it then puts in
 * the stream would be older than a change already in it.
 */
class SourceReadOrderTest {
    @TempDir
    Path dir;

    @Test
    void aSourceReadWaitsForAnAcceptedWriteToReachTheFile() throws Exception {
        Path file = dir.resolve("disk.img");
        Files.write(file, new byte[1 << 16]);
        CountDownLatch accepted = new CountDownLatch(1);
        CountDownLatch readerDone = new CountDownLatch(1);
        ChangeSink sink = new ChangeSink() {
            @Override
            public void accept(ChangeRecord change) throws IOException {
                accepted.countDown();
                try {
                    // give a reader every chance to read between acceptance and the file write
                    readerDone.await(2, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void flush() {
            }
        };
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 7);
        try (NbdExport export = NbdExport.open("d", file, sink); NbdServer server = NbdServer.start()) {
            SourceDevice source = new SourceDevice(file, export.size(), export.health(), export.orderLock());
            Export served = server.export("d", export, ExportOptions.WRITABLE.withObserver(export.observer(),
                    export.orderLock()));
            try (NbdTestClient client = NbdTestClient.open(server.address(), served.name())) {
                CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
                    try {
                        assertTrue(accepted.await(30, TimeUnit.SECONDS), "the write was never accepted");
                        ByteBuffer b = ByteBuffer.allocate(4096);
                        source.read(8192, b);
                        readerDone.countDown();
                        return b.array();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertEquals(0, client.writeSync(8192, data), "the write through the server");
                assertArrayEquals(data, read.get(30, TimeUnit.SECONDS),
                        "the source read saw the file before the accepted write reached it");
            } finally {
                source.close();
            }
        }
    }
}
