package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.replication.ResyncProgress.Phase;

class ReplicationResourceTest {
    @Test
    void aResyncBecomesItsJsonRecord() {
        assertNull(ReplicationResource.Resync.of(null));
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        ReplicationResource.Resync r = ReplicationResource.Resync.of(new ResyncProgress(Phase.COMPARING,
                "initial replication", 1000, 250, 40, t0, t0.plusSeconds(10), ""));
        assertEquals(new ReplicationResource.Resync("comparing", "initial replication", 25.0, 1000, 250, 40,
                "2026-01-01T00:00:00Z", "2026-01-01T00:00:10Z", 30L, ""), r);
        assertNull(ReplicationResource.Resync.of(new ResyncProgress(Phase.DONE, "x", 1000, 1000, 0, t0,
                t0.plusSeconds(1), "")).etaSeconds());
    }
}
