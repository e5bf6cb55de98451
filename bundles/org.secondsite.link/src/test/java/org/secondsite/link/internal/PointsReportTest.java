package org.secondsite.link.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.PointKind;
import org.secondsite.api.model.RecoveryPoint;

/** Which recovery points each heartbeat of a master target carries. */
class PointsReportTest {
    static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    static RecoveryPoint point(String id, long second) {
        return new RecoveryPoint(id, GroupId.of("web01"), T0.plusSeconds(second), PointKind.CRASH_CONSISTENT, null);
    }

    static List<String> ids(PointsReport.Report r) {
        return r.items().stream().map(RecoveryPoint::id).toList();
    }

    @Test
    void newPointsGoOnceOldestFirstAndABacklogIsCaughtUpOverSeveralHeartbeats() {
        PointsReport report = new PointsReport();
        List<RecoveryPoint> listed = new ArrayList<>();
        for (int i = 0; i < PointsReport.MAX_ITEMS + 10; i++) {
            listed.add(point("p" + i, i));
        }
        PointsReport.Report first = report.next(listed);
        assertEquals(T0, first.oldest());
        assertEquals(PointsReport.MAX_ITEMS, first.items().size());
        assertEquals("p0", first.items().get(0).id());
        // Not confirmed (the heartbeat failed): the same points go again
        assertEquals(ids(first), ids(report.next(listed)));
        report.confirmed(first);
        PointsReport.Report second = report.next(listed);
        assertEquals(10, second.items().size());
        assertEquals("p" + PointsReport.MAX_ITEMS, second.items().get(0).id());
        report.confirmed(second);
        assertEquals(List.of(), ids(report.next(listed)));
    }

    @Test
    void aPointListedLateWithinTheOverlapStillGoesAndNothingListedSaysSo() {
        PointsReport report = new PointsReport();
        report.confirmed(report.next(List.of(point("a", 0), point("c", 600))));
        PointsReport.Report late = report.next(List.of(point("a", 0), point("b", 590), point("c", 600)));
        assertEquals(List.of("b"), ids(late), "b is 10 s older than c but was not listed before");
        report.confirmed(late);
        assertEquals(List.of(), ids(report.next(List.of(point("a", 0), point("b", 590), point("c", 600)))));
        PointsReport.Report none = report.next(List.of());
        assertNull(none.oldest());
        assertEquals(List.of(), none.items());
    }
}
