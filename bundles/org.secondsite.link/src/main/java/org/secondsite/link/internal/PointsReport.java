package org.secondsite.link.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.secondsite.api.model.RecoveryPoint;

/**
 * Which of a master target's listed recovery points the next heartbeat carries, so that the
 * configuration server's catalogue mirrors them without the whole list going out every time: the
 * points not yet sent, oldest first, at most {@link #MAX_ITEMS} (a backlog, e.g. after a restart,
 * is caught up over several heartbeats), and the time of the oldest point still listed (the server
 * drops older ones: retention pruned them). A point listed late, with a time up to {@link #OVERLAP}
 * before the newest one sent, is still sent; the server ignores points it has.
 */
final class PointsReport {
    static final int MAX_ITEMS = 1000;
    static final Duration OVERLAP = Duration.ofMinutes(5);

    /** What one heartbeat carries. */
    record Report(Instant oldest, List<RecoveryPoint> items) {
    }

    /** Ids sent (and confirmed) with their times, only those within {@link #OVERLAP} of the newest. */
    private final Map<String, Instant> sent = new HashMap<>();
    private Instant newest;

    /** @param listed the points listed now, oldest first */
    Report next(List<RecoveryPoint> listed) {
        Instant floor = newest == null ? null : newest.minus(OVERLAP);
        List<RecoveryPoint> items = new ArrayList<>();
        for (RecoveryPoint p : listed) {
            if (items.size() == MAX_ITEMS) {
                break;
            }
            if ((floor == null || !p.time().isBefore(floor)) && !sent.containsKey(p.id())) {
                items.add(p);
            }
        }
        return new Report(listed.isEmpty() ? null : listed.get(0).time(), List.copyOf(items));
    }

    /** The server accepted the heartbeat that carried {@code r}. */
    void confirmed(Report r) {
        for (RecoveryPoint p : r.items()) {
            sent.put(p.id(), p.time());
            if (newest == null || p.time().isAfter(newest)) {
                newest = p.time();
            }
        }
        if (newest != null) {
            Instant floor = newest.minus(OVERLAP);
            sent.values().removeIf(t -> t.isBefore(floor));
        }
    }
}
