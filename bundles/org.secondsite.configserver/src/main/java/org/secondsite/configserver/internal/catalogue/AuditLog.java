package org.secondsite.configserver.internal.catalogue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.secondsite.configserver.internal.Page;

/** The audit log: who did what to what, and how it ended. Append-only. */
public final class AuditLog {
    /**
     * One entry.
     *
     * @param id its number, increasing with time
     * @param at when
     * @param actor the user (REST, shell) or {@code component:<id>@<address>} for a registration
     * @param action e.g. {@code policy.create}, {@code component.remove}, {@code registration}
     * @param target the object acted on
     * @param outcome {@code ok}, or {@code refused: <reason>} / {@code failed: <reason>}
     */
    public record Entry(long id, Instant at, String actor, String action, String target, String outcome) {
    }

    private static final String COLUMNS = "id, occurred_at, actor, action, target, outcome";

    private final Catalogue catalogue;
    private final Rows<Entry> rows;

    public AuditLog(Catalogue catalogue) {
        this.catalogue = catalogue;
        this.rows = new Rows<>(catalogue, "audit_log", COLUMNS, AuditLog::read);
    }

    public void record(Instant at, String actor, String action, String target, String outcome) throws SQLException {
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO audit_log (occurred_at, actor, action, target, outcome) VALUES (?, ?, ?, ?, ?)")) {
            Sql.setInstant(ps, 1, at);
            ps.setString(2, clip(actor == null ? "unknown" : actor, 128));
            ps.setString(3, clip(action, 64));
            ps.setString(4, clip(target == null ? "" : target, 255));
            ps.setString(5, clip(outcome, 512));
            ps.executeUpdate();
        }
    }

    /** The newest {@code limit} entries, newest first. */
    public List<Entry> recent(int limit) throws SQLException {
        List<Entry> out = new ArrayList<>();
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT " + COLUMNS + " FROM audit_log ORDER BY id DESC FETCH FIRST ? ROWS ONLY")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(read(rs));
                }
            }
        }
        return out;
    }

    /** A page of entries, newest first; only {@code actor}'s when it is not null. */
    public Page<Entry> page(String actor, int offset, int limit) throws SQLException {
        return actor == null ? rows.page(offset, limit, null, "id DESC")
                : rows.page(offset, limit, "actor = ?", "id DESC", actor);
    }

    private static Entry read(ResultSet rs) throws SQLException {
        return new Entry(rs.getLong("id"), Sql.instant(rs, "occurred_at"), rs.getString("actor"),
                rs.getString("action"), rs.getString("target"), rs.getString("outcome"));
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }
}
