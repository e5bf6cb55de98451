package org.secondsite.agent.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.ResyncProgress;

/** When a verification may start, what refuses it, and what cancels it; without a process server. */
class VerifyTriggerTest {
    static final DiskId DISK = DiskId.of("d0");
    static final DiskId NEW = DiskId.of("d1");

    @TempDir
    Path dir;

    private Agent agent() throws Exception {
        AgentOptions o = AgentOptions.defaults(new InetSocketAddress("127.0.0.1", 9), dir);
        return new Agent(o, () -> "agent-1", name -> null, () -> null, name -> null, Clock.systemUTC());
    }

    @Test
    void aVerificationShowsAsProgressAndARequestedResyncCancelsIt() throws Exception {
        new ResyncState(dir).done(DISK, "initial replication");
        try (Agent a = agent()) {
            a.protect(DISK, null, 1 << 20);
            a.attachSource(DISK, new ResyncTriggerTest.Zeros(1 << 20));
            assertEquals(Optional.empty(), a.resyncProgress(DISK), "the replica is consistent: nothing runs");
            a.verify(DISK, VerifyReport.Mode.VERIFY);
            ResyncProgress p = a.resyncProgress(DISK).orElseThrow();
            assertEquals("verification", p.reason());
            assertEquals(ResyncProgress.Phase.COMPARING, p.phase());
            assertEquals(1 << 20, p.totalBytes());
            await().atMost(Duration.ofSeconds(10)).until(() -> a.resyncProgress(DISK).orElseThrow().message()
                    .contains("waiting for the connection"));
            assertEquals("verification", a.disks().get(0).resync().reason(), "dr:replication shows it");

            IllegalStateException twice = assertThrows(IllegalStateException.class,
                    () -> a.verify(DISK, VerifyReport.Mode.VERIFY));
            assertEquals("a verification of disk d0 is running already (verification)", twice.getMessage());

            a.requestResync(DISK, "operator request");
            assertEquals("operator request", a.resyncProgress(DISK).orElseThrow().reason(), "the resync takes its place");
            await().atMost(Duration.ofSeconds(10)).until(() -> a.verifyReport(DISK).isPresent());
            VerifyReport r = a.verifyReport(DISK).orElseThrow();
            assertEquals(VerifyReport.Outcome.CANCELLED, r.outcome());
            assertEquals("a resync was requested (operator request)", r.reason());
            assertEquals(Optional.of("operator request"), new ResyncState(dir).pending(DISK),
                    "a verification never records a resync as done");

            IllegalStateException busy = assertThrows(IllegalStateException.class,
                    () -> a.verify(DISK, VerifyReport.Mode.VERIFY));
            assertTrue(busy.getMessage().startsWith("a resync of disk d0 is running (operator request, 0.0 %); "
                    + "verify once it is done"), busy.getMessage());
        }
    }

    @Test
    void badRequestsAreRefusedClearly() throws Exception {
        new ResyncState(dir).done(DISK, "initial replication");
        try (Agent a = agent()) {
            a.protect(DISK, null, 1 << 20);
            IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                    () -> a.verify(DiskId.of("nope"), VerifyReport.Mode.VERIFY));
            assertEquals("disk nope is not protected by this agent", unknown.getMessage());

            IllegalStateException nothing = assertThrows(IllegalStateException.class,
                    () -> a.verify(DISK, VerifyReport.Mode.REPAIR));
            assertEquals("disk d0 has no completed verification with mismatched regions to repair", nothing.getMessage());

            a.protect(NEW, null, 1 << 20); // never protected before: its initial replication runs
            IllegalStateException running = assertThrows(IllegalStateException.class,
                    () -> a.verify(NEW, VerifyReport.Mode.VERIFY));
            assertTrue(running.getMessage().startsWith("a resync of disk d1 is running (initial replication"),
                    running.getMessage());
            a.unprotect(NEW); // the initial replication is still owed
        }
        try (Agent a = agent()) {
            a.protect(DISK, null, 1 << 20);
            a.verify(DISK, VerifyReport.Mode.VERIFY);
            a.unprotect(DISK); // cancels it; the report goes with the disk
            assertEquals(Optional.empty(), a.verifyReport(DISK));
            assertEquals(Optional.empty(), a.resyncProgress(DISK));
        }
    }
}
