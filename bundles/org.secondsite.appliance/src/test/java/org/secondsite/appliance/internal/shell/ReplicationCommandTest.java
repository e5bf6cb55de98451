package org.secondsite.appliance.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.replication.ResyncProgress.Phase;

class ReplicationCommandTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void aResyncFitsInOneCell() {
        assertEquals("-", ReplicationCommand.resync(null));
        long gib = 1L << 30;
        assertEquals("comparing 25.0% of 4.0 GiB, sent 3.0 MiB, ETA 30 s",
                ReplicationCommand.resync(new ResyncProgress(Phase.COMPARING, "initial replication", 4 * gib, gib,
                        3 << 20, T0, T0.plusSeconds(10), "")));
        assertEquals("comparing 0.0% of 4.0 GiB, sent 0 B - waiting for the connection to the process server",
                ReplicationCommand.resync(new ResyncProgress(Phase.COMPARING, "initial replication", 4 * gib, 0, 0, T0,
                        T0, "waiting for the connection to the process server")));
        assertEquals("done (operator request), sent 12.0 KiB",
                ReplicationCommand.resync(new ResyncProgress(Phase.DONE, "operator request", 4 * gib, 4 * gib,
                        12 << 10, T0, T0.plusSeconds(3), "consistent from sequence 9")));
        assertEquals("failed (operator request): the master target cannot answer: disk gone",
                ReplicationCommand.resync(new ResyncProgress(Phase.FAILED, "operator request", 4 * gib, gib, 0, T0,
                        T0.plusSeconds(3), "the master target cannot answer: disk gone")));
    }
}
