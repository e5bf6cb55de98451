package org.secondsite.agent.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;

/** When a resync is owed and what it waits for, without a process server (no transport). */
class ResyncTriggerTest {
    static final DiskId DISK = DiskId.of("d0");

    @TempDir
    Path dir;

    private Agent agent() throws Exception {
        AgentOptions o = AgentOptions.defaults(new InetSocketAddress("127.0.0.1", 9), dir);
        return new Agent(o, () -> "agent-1", name -> null, () -> null, name -> null, Clock.systemUTC());
    }

    private static String message(Agent a) {
        return a.resyncProgress(DISK).map(ResyncProgress::message).orElse("none");
    }

    @Test
    void aNewDiskOwesItsInitialReplicationWhichWaitsForItsSourceThenTheLink() throws Exception {
        try (Agent a = agent()) {
            a.protect(DISK, null, 1 << 20);
            ResyncProgress p = a.resyncProgress(DISK).orElseThrow();
            assertEquals("initial replication", p.reason());
            assertEquals(ResyncProgress.Phase.COMPARING, p.phase());
            assertEquals(1 << 20, p.totalBytes());
            await().atMost(Duration.ofSeconds(10)).until(() -> message(a).contains("waiting for the disk's source"));
            a.attachSource(DISK, new Zeros(1 << 20));
            await().atMost(Duration.ofSeconds(10)).until(() -> message(a).contains("waiting for the connection"));
            ResyncProgress inStatus = a.disks().get(0).resync();
            assertEquals("initial replication", inStatus.reason(), "the disk's status carries its resync");
            assertEquals(0, inStatus.doneBytes());
        }
    }

    @Test
    void anOwedResyncRunsAgainAfterARestartAndADoneOneDoesNot() throws Exception {
        try (Agent a = agent()) {
            a.protect(DISK, null, 1 << 20);
            a.protect(DiskId.of("d1"), null, 1 << 20);
        }
        new ResyncState(dir).done(DiskId.of("d1"), "initial replication");
        try (Agent a = agent()) {
            a.protect(DISK, null, 1 << 20);
            a.protect(DiskId.of("d1"), null, 1 << 20);
            assertEquals("initial replication (continued)",
                    a.resyncProgress(DISK).orElseThrow().reason());
            assertEquals(Optional.empty(), a.resyncProgress(DiskId.of("d1")));
            a.requestResync(DiskId.of("d1"), "operator request");
            assertEquals("operator request", a.resyncProgress(DiskId.of("d1")).orElseThrow().reason());
            assertEquals(Optional.of("operator request"), new ResyncState(dir).pending(DiskId.of("d1")));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> a.requestResync(DiskId.of("nope"), "x"));
            assertTrue(e.getMessage().contains("not protected"), e.getMessage());
            a.unprotect(DISK);
            assertEquals(Optional.empty(), a.resyncProgress(DISK));
            assertEquals(Optional.of("initial replication"), new ResyncState(dir).pending(DISK),
                    "an unprotected disk keeps the resync it owes (a configuration deactivated at a stop)");
            a.protect(DISK, null, 1 << 20);
            assertEquals("initial replication (continued)",
                    a.resyncProgress(DISK).orElseThrow().reason());
        }
    }

    /** A source of zeros. */
    static final class Zeros implements BlockDevice {
        private final long size;

        Zeros(long size) {
            this.size = size;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            while (dst.hasRemaining()) {
                dst.put((byte) 0);
            }
        }

        @Override
        public void write(long offset, ByteBuffer src) throws java.io.IOException {
            throw new java.io.IOException("a read-only source: the resync only reads it");
        }

        @Override
        public void zero(long offset, long length) throws java.io.IOException {
            throw new java.io.IOException("a read-only source: the resync only reads it");
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean isReadOnly() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
