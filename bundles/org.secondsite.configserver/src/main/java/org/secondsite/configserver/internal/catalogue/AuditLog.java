package org.secondsite.configserver.internal.catalogue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The audit log: who did what to what, and how it ended. Append-only. */
public final class AuditLog {
    /**
     * One entry.
     *
     * @param at when
     * @param actor the user (REST, shell) or {@code component:<id>@<address>} for a registration
     * @param action e.g. {@code policy.create}, {@code component.remove}, {@code registration}
     * @param target the object acted on
     * @param outcome {@code ok}, or {@code refused: <reason>} / {@code failed: <reason>}
     */
    public record Entry(Instant at, String actor, String action, String target, String outcome) {
    }

    private final Catalogue catalogue;

    public AuditLog(Catalogue catalogue) {
        this.catalogue = catalogue;
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
                     "SELECT occurred_at, actor, action, target, outcome FROM audit_log ORDER BY id DESC FETCH FIRST ? ROWS ONLY")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Entry(Sql.instant(rs, "occurred_at"), rs.getString("actor"), rs.getString("action"),
                            rs.getString("target"), rs.getString("outcome")));
                }
            }
        }
        return out;
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }
}
