package org.secondsite.configserver.internal.catalogue;

import java.time.Instant;

/**
 * An event of the configuration server. An alert is an event raised when a condition starts
 * (severity {@code warning} or {@code critical}) and cleared when it ends; its clearing is recorded
 * as an {@code info} event of its own. Operators acknowledge alerts.
 *
 * @param id its number, increasing with time
 * @param kind what happened, e.g. {@code rpo-exceeded}, {@code spool-low}, {@code heartbeat-missing}
 * @param severity {@code info}, {@code warning} or {@code critical}
 * @param source the component concerned, or null
 * @param subject what it is about: a component id, or {@code <component>/<disk>}
 * @param message what an operator reads
 * @param alert whether it is an alert (raised and cleared) rather than a plain event
 * @param raisedAt when it happened, or when the alert was raised
 * @param clearedAt when the alert was cleared; null while it is active, and for plain events
 * @param acknowledgedBy who acknowledged the alert, or null
 * @param acknowledgedAt when, or null
 */
public record Event(long id, String kind, String severity, String source, String subject, String message,
                    boolean alert, Instant raisedAt, Instant clearedAt, String acknowledgedBy,
                    Instant acknowledgedAt) {
    public static final String INFO = "info";
    public static final String WARNING = "warning";
    public static final String CRITICAL = "critical";

    /** An alert not cleared yet. */
    public boolean active() {
        return alert && clearedAt == null;
    }
}
