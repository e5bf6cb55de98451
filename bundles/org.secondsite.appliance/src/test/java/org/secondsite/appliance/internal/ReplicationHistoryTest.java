package org.secondsite.appliance.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

import org.junit.jupiter.api.Test;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor.Stage;
import org.secondsite.appliance.internal.rest.ReplicationHistoryResource;

class ReplicationHistoryTest {
    private Instant now = Instant.parse("2026-03-01T12:00:00Z");
    private final List<ReplicationOverview.Row> rows = new ArrayList<>();
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };
    private final ReplicationHistory history = new ReplicationHistory(() -> rows, clock, false);

    private void row(String disk, Stage stage, long backlog, Duration lag, double in, double out) {
        rows.add(new ReplicationOverview.Row(new DiskReplicationStatus(DiskId.of(disk), stage, "replicating", "", 1, 1,
                backlog, lag == null ? null : now.minus(lag), null, 0, 0), in, out));
    }

    @Test
    void aSampleHoldsTheWorstLagTheTotalBacklogTheCaptureRateAndTheApplyRate() {
        row("disk0", Stage.AGENT, 100, Duration.ofSeconds(3), 5000, 4000);
        row("disk0", Stage.PROCESS_SERVER, 50, Duration.ofSeconds(7), 4000, 3000);
        row("disk0", Stage.MASTER_TARGET, 0, null, 3000, 2000);
        row("disk1", Stage.AGENT, 0, null, 0, 0);
        history.sample();
        List<HistoryBuffer.Sample> s = history.history("disk0", Duration.ofHours(1));
        assertEquals(List.of(new HistoryBuffer.Sample(now, 7000, 150, 5000, 2000)), s);
        assertEquals(java.util.Set.of("disk0", "disk1"), history.disks());
        assertEquals(0, history.history("disk1", Duration.ofHours(1)).get(0).rpoMillis());
    }

    @Test
    void theWindowSelectsRecentSamplesAndTheResourceAnswersColumns() {
        for (int i = 0; i < 30; i++) {
            rows.clear();
            row("disk0", Stage.AGENT, i, Duration.ofMillis(i * 100L), i, i);
            history.sample();
            now = now.plusSeconds(ReplicationHistory.INTERVAL_SECONDS);
        }
        // Samples at -300 s .. -10 s: a 1-minute window (after -60 s) holds the last five.
        assertEquals(5, history.history("disk0", Duration.ofMinutes(1)).size());
        ReplicationHistoryResource resource = new ReplicationHistoryResource(history);
        ReplicationHistoryResource.History h = resource.get("disk0", "PT2M");
        assertEquals("PT2M", h.window());
        assertEquals(11, h.epochSeconds().size());
        assertEquals(2900L, h.rpoMillis().get(10));
        assertEquals(now.minusSeconds(10).getEpochSecond(), h.epochSeconds().get(10));
        assertEquals(30, resource.get("disk0", null).rpoMillis().size());
    }

    @Test
    void badQueriesAreRefusedNamingTheParameter() {
        row("disk0", Stage.AGENT, 0, null, 0, 0);
        history.sample();
        ReplicationHistoryResource resource = new ReplicationHistoryResource(history);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.get(null, "PT1H")).getMessage()
                .startsWith("query parameter 'disk': required"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.get("bad disk/..", "PT1H"))
                .getMessage().startsWith("query parameter 'disk':"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.get("disk0", "1 hour")).getMessage()
                .contains("not an ISO-8601 duration"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.get("disk0", "P2D")).getMessage()
                .contains("must be from PT1M to P1D"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.get("disk0", "PT10S")).getMessage()
                .contains("must be from PT1M to P1D"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resource.get("disk0", "P".repeat(500)))
                .getMessage().length() < 200);
        assertTrue(assertThrows(NoSuchElementException.class, () -> resource.get("disk9", "PT1H")).getMessage()
                .contains("disks with a history: [disk0]"));
    }
}
