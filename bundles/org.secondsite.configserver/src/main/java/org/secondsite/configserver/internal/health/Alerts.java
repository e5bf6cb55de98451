package org.secondsite.configserver.internal.health;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.secondsite.configserver.internal.catalogue.Event;
import org.secondsite.configserver.internal.catalogue.EventStore;
import org.secondsite.configserver.internal.catalogue.HealthStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises and clears alerts: each evaluation compares the conditions that hold now (from the
 * catalogue's latest heartbeats, see {@link AlertRules}) with the active alerts. A condition without
 * an active alert raises one; an active alert whose condition ended (or whose component was removed)
 * is cleared, with an {@code info} event; a change of severity (spool warning to critical) clears the
 * old alert and raises a new one. A condition that keeps holding raises nothing more. Events older
 * than the retention are deleted (active alerts stay). A scheduler calls {@link #evaluate()} every
 * minute; tests call it with a clock they move.
 */
public final class Alerts {
    /** What one evaluation did. */
    public record Outcome(List<Event> raised, List<Event> cleared, int pruned) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(Alerts.class);

    private final EventStore events;
    private final HealthStore health;
    private final AlertRules rules;
    private final Duration retention;
    private final Clock clock;

    public Alerts(EventStore events, HealthStore health, AlertThresholds thresholds, Duration retention, Clock clock) {
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("event retention must be positive, was " + retention);
        }
        this.events = events;
        this.health = health;
        this.rules = new AlertRules(thresholds);
        this.retention = retention;
        this.clock = clock;
    }

    public AlertThresholds thresholds() {
        return rules.thresholds();
    }

    /** One evaluation; serialised, so that concurrent calls cannot raise an alert twice. */
    public synchronized Outcome evaluate() throws SQLException {
        Instant now = clock.instant();
        Map<AlertRules.Key, AlertRules.Condition> holding = rules.evaluate(health.snapshot(), now);
        Map<AlertRules.Key, Event> active = new HashMap<>();
        List<Event> cleared = new ArrayList<>();
        for (Event a : events.activeAlerts()) {
            AlertRules.Key key = new AlertRules.Key(a.kind(), a.subject());
            AlertRules.Condition c = holding.get(key);
            if (c != null && c.severity().equals(a.severity()) && !active.containsKey(key)) {
                active.put(key, a);
                continue;
            }
            String why = c == null ? "the condition ended" : c.severity().equals(a.severity())
                    ? "a duplicate of an active alert" : "its severity is now " + c.severity();
            if (events.clear(a, "Cleared alert " + a.id() + " (" + why + "): " + a.message(), now)) {
                cleared.add(a);
                LOG.info("Alert {} cleared ({}): {}", a.id(), why, a.message());
            }
        }
        List<Event> raised = new ArrayList<>();
        for (AlertRules.Condition c : holding.values()) {
            if (!active.containsKey(c.key())) {
                Event e = events.raise(c.kind(), c.severity(), c.source(), c.subject(), c.message(), true, now);
                raised.add(e);
                LOG.warn("Alert {} raised ({}): {}", e.id(), e.severity(), e.message());
            }
        }
        int pruned = events.prune(now.minus(retention));
        return new Outcome(raised, cleared, pruned);
    }
}
