package org.secondsite.demo.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor.Stage;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.capture.nbd.internal.NbdCaptureDriver;

/**
 * The demo against the real nbd capture driver; "replication" is a sink that applies each
 * captured change to an in-memory replica, so the hash comparison checks the demo's own
 * NBD client and bookkeeping end to end.
 */
class DemoRunTest {

    @TempDir
    Path dir;

    private CaptureSession session;

    @AfterEach
    void stop() throws IOException {
        if (session != null) {
            session.close();
        }
    }

    @Test
    void writesThroughNbdAndFindsTheReplicaEqual() throws Exception {
        byte[] replica = new byte[(int) DemoRun.DISK_SIZE];
        AtomicLong sequence = new AtomicLong();
        ChangeSink sink = new ChangeSink() {
            @Override
            public void accept(ChangeRecord change) {
                if (change.hasData()) {
                    change.data().get(replica, (int) change.offset(), change.length());
                }
                sequence.incrementAndGet();
            }

            @Override
            public void flush() {
            }
        };
        InetSocketAddress nbd = new InetSocketAddress("127.0.0.1", freePort());
        List<String> printed = new ArrayList<>();
        DemoRun.Appliance fake = new DemoRun.Appliance() {
            @Override
            public void protect(Path source, InetSocketAddress at) throws IOException {
                session = new NbdCaptureDriver().start(new CaptureSpec(DemoRun.DISK, source,
                        Map.of("listen", at.getHostString() + ":" + at.getPort())), sink);
            }

            @Override
            public List<DiskReplicationStatus> replication() {
                long s = sequence.get();
                return List.of(status(Stage.AGENT, s), status(Stage.MASTER_TARGET, s));
            }

            @Override
            public Optional<BlockDevice> replica() {
                return Optional.of(new InMemoryDevice(replica));
            }
        };
        boolean same = new DemoRun(fake, printed::add, dir, nbd, () -> MixedData.load(8 << 20)).run(24L << 20);
        assertTrue(same, String.join("\n", printed));
        assertTrue(printed.stream().anyMatch(l -> l.contains("the replica equals the source")));
        assertEquals(24, sequence.get(), "one change record per 1 MiB write");
        assertFalse(DemoRun.sha256(dir.resolve("demo-disk0.img")).equals(DemoRun.sha256(new InMemoryDevice(
                new byte[(int) DemoRun.DISK_SIZE]))), "the demo really wrote data");
    }

    private static DiskReplicationStatus status(Stage stage, long seq) {
        return new DiskReplicationStatus(DemoRun.DISK, stage, "replicating", "", seq, seq, 0, null,
                stage == Stage.MASTER_TARGET ? Instant.now() : null, 0, 0);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A replica held in memory. */
    private record InMemoryDevice(byte[] bytes) implements BlockDevice {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            dst.put(bytes, (int) offset, dst.remaining());
        }

        @Override
        public void write(long offset, ByteBuffer src) {
            src.get(bytes, (int) offset, src.remaining());
        }

        @Override
        public void zero(long offset, long length) {
            java.util.Arrays.fill(bytes, (int) offset, (int) (offset + length), (byte) 0);
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean isReadOnly() {
            return false;
        }

        @Override
        public void close() {
        }
    }
}
