package org.secondsite.configserver.internal.catalogue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.Page;

/** Events and alerts in the catalogue. Every statement uses bound parameters. */
public final class EventStore {
    private static final String COLUMNS = "id, kind, severity, source, subject, message, alert, raised_at, cleared_at, "
            + "acknowledged_by, acknowledged_at";
    private static final String ACTIVE = "alert = TRUE AND cleared_at IS NULL";

    private final Catalogue catalogue;
    private final Rows<Event> rows;

    public EventStore(Catalogue catalogue) {
        this.catalogue = catalogue;
        this.rows = new Rows<>(catalogue, "events", COLUMNS, EventStore::read);
    }

    public Optional<Event> find(long id) throws SQLException {
        return rows.find(id);
    }

    /** Every event (alerts and plain events), newest first. */
    public Page<Event> events(int offset, int limit) throws SQLException {
        return rows.page(offset, limit, null, "id DESC");
    }

    /** Alerts newest first: only the active ones, or all. */
    public Page<Event> alerts(boolean activeOnly, int offset, int limit) throws SQLException {
        return rows.page(offset, limit, activeOnly ? ACTIVE : "alert = TRUE", "id DESC");
    }

    /** Every active alert (one per condition that holds now: bounded by the catalogue's components and disks). */
    public List<Event> activeAlerts() throws SQLException {
        List<Event> out = new ArrayList<>();
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM events WHERE " + ACTIVE
                     + " ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(read(rs));
            }
        }
        return out;
    }

    /** Records a new alert (or, with {@code alert} false, a plain event). */
    public Event raise(String kind, String severity, String source, String subject, String message, boolean alert,
                       Instant now) throws SQLException {
        try (Connection c = catalogue.connection()) {
            return insert(c, kind, severity, source, subject, message, alert, now);
        }
    }

    /**
     * Clears an active alert and records the clearing as an {@code info} event with {@code message},
     * in one transaction.
     *
     * @return whether it was active (false: cleared already, nothing recorded)
     */
    public boolean clear(Event alert, String message, Instant now) throws SQLException {
        try (Connection c = catalogue.connection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE events SET cleared_at = ? WHERE id = ? AND " + ACTIVE)) {
                    Sql.setInstant(ps, 1, now);
                    ps.setLong(2, alert.id());
                    if (ps.executeUpdate() == 0) {
                        c.rollback();
                        return false;
                    }
                }
                insert(c, alert.kind(), Event.INFO, alert.source(), alert.subject(), message, false, now);
                c.commit();
                return true;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * Records who acknowledged an alert (active or cleared).
     *
     * @return the alert acknowledged
     * @throws ConfigServerException (not found) if no alert has this id, (conflict) if it was
     *         acknowledged already
     */
    public Event acknowledge(long id, String actor, Instant now) throws SQLException {
        try (Connection c = catalogue.connection()) {
            c.setAutoCommit(false);
            try {
                Event before;
                try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                        + " FROM events WHERE id = ? AND alert = TRUE FOR UPDATE")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw ConfigServerException.notFound("no alert " + id);
                        }
                        before = read(rs);
                    }
                }
                if (before.acknowledgedBy() != null) {
                    throw ConfigServerException.conflict("alert " + id + " was acknowledged already by '"
                            + before.acknowledgedBy() + "' at " + before.acknowledgedAt());
                }
                String by = clip(actor == null ? "unknown" : actor, 128);
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE events SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?")) {
                    ps.setString(1, by);
                    Sql.setInstant(ps, 2, now);
                    ps.setLong(3, id);
                    ps.executeUpdate();
                }
                c.commit();
                return new Event(before.id(), before.kind(), before.severity(), before.source(), before.subject(),
                        before.message(), true, before.raisedAt(), before.clearedAt(), by, now);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * Deletes plain events and cleared alerts raised before {@code before}; active alerts stay.
     *
     * @return how many were deleted
     */
    public int prune(Instant before) throws SQLException {
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement(
                     "DELETE FROM events WHERE raised_at < ? AND (alert = FALSE OR cleared_at IS NOT NULL)")) {
            Sql.setInstant(ps, 1, before);
            return ps.executeUpdate();
        }
    }

    private static Event insert(Connection c, String kind, String severity, String source, String subject,
                                String message, boolean alert, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (kind, severity, source, subject, message, "
                + "alert, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
            String k = clip(kind, 64);
            String src = source == null ? null : clip(source, 64);
            String subj = subject == null ? null : clip(subject, 255);
            String msg = clip(message, 2000);
            ps.setString(1, k);
            ps.setString(2, severity);
            ps.setString(3, src);
            ps.setString(4, subj);
            ps.setString(5, msg);
            ps.setBoolean(6, alert);
            Sql.setInstant(ps, 7, now);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                if (!keys.next()) {
                    throw new SQLException("Derby returned no id for the new event");
                }
                return new Event(keys.getLong(1), k, severity, src, subj, msg, alert, now, null, null, null);
            }
        }
    }

    private static Event read(ResultSet rs) throws SQLException {
        return new Event(rs.getLong("id"), rs.getString("kind"), rs.getString("severity"), rs.getString("source"),
                rs.getString("subject"), rs.getString("message"), rs.getBoolean("alert"), Sql.instant(rs, "raised_at"),
                Sql.instant(rs, "cleared_at"), rs.getString("acknowledged_by"), Sql.instant(rs, "acknowledged_at"));
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }
}
