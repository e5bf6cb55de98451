package org.secondsite.configserver.internal.catalogue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.Page;

/** Replication policies in the catalogue. Every statement uses bound parameters. */
public final class PolicyStore {
    private static final String COLUMNS = "id, rpo_threshold_seconds, checkpoint_interval_seconds, "
            + "retention_window_seconds, retention_space_bytes, app_consistency_schedule, compressor, "
            + "bandwidth_schedule, created_at, updated_at";

    private final Catalogue catalogue;
    private final Rows<Policy> rows;

    public PolicyStore(Catalogue catalogue) {
        this.catalogue = catalogue;
        this.rows = new Rows<>(catalogue, "policies", COLUMNS, PolicyStore::read);
    }

    public Optional<Policy> find(String id) throws SQLException {
        return rows.find(id);
    }

    /** Policies ordered by id. */
    public Page<Policy> list(int offset, int limit) throws SQLException {
        return rows.page(offset, limit);
    }

    /**
     * Stores a new policy (validated first).
     *
     * @return the stored policy with its times
     * @throws ConfigServerException (invalid) naming a bad field, (conflict) if the id exists
     */
    public Policy create(Policy policy, Instant now) throws SQLException {
        policy.validate();
        Policy stored = policy.withTimes(now, now);
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO policies (rpo_threshold_seconds, "
                     + "checkpoint_interval_seconds, retention_window_seconds, retention_space_bytes, "
                     + "app_consistency_schedule, compressor, bandwidth_schedule, updated_at, created_at, id) "
                     + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            bind(ps, stored);
            Sql.setInstant(ps, 9, now);
            ps.setString(10, stored.id());
            ps.executeUpdate();
            return stored;
        } catch (SQLException e) {
            if (Sql.isDuplicateKey(e)) {
                throw ConfigServerException.conflict("policy '" + policy.id() + "' exists already");
            }
            throw e;
        }
    }

    /**
     * Replaces every field of an existing policy (validated first).
     *
     * @throws ConfigServerException (invalid) naming a bad field, (not found) if there is no such policy
     */
    public Policy update(Policy policy, Instant now) throws SQLException {
        policy.validate();
        try (Connection c = catalogue.connection()) {
            c.setAutoCommit(false);
            try {
                Instant created;
                try (PreparedStatement ps = c.prepareStatement("SELECT created_at FROM policies WHERE id = ? FOR UPDATE")) {
                    ps.setString(1, policy.id());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw ConfigServerException.notFound("no policy '" + policy.id() + "'");
                        }
                        created = Sql.instant(rs, "created_at");
                    }
                }
                Policy stored = policy.withTimes(created, now);
                try (PreparedStatement ps = c.prepareStatement("UPDATE policies SET rpo_threshold_seconds = ?, "
                        + "checkpoint_interval_seconds = ?, retention_window_seconds = ?, retention_space_bytes = ?, "
                        + "app_consistency_schedule = ?, compressor = ?, bandwidth_schedule = ?, updated_at = ? "
                        + "WHERE id = ?")) {
                    bind(ps, stored);
                    ps.setString(9, stored.id());
                    ps.executeUpdate();
                }
                c.commit();
                return stored;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * Deletes a policy.
     *
     * @throws ConfigServerException (not found) if there is no such policy, (conflict) if a machine or
     *         consistency group still uses it
     */
    public void delete(String id) throws SQLException {
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM policies WHERE id = ?")) {
            ps.setString(1, id);
            if (ps.executeUpdate() == 0) {
                throw ConfigServerException.notFound("no policy '" + id + "'");
            }
        } catch (SQLException e) {
            if (Sql.isReferenced(e)) {
                throw ConfigServerException.conflict("policy '" + id + "' is used by a protected machine or a "
                        + "consistency group; assign them another policy first");
            }
            throw e;
        }
    }

    private static void bind(PreparedStatement ps, Policy p) throws SQLException {
        ps.setInt(1, p.rpoThresholdSeconds());
        ps.setInt(2, p.checkpointIntervalSeconds());
        ps.setLong(3, p.retentionWindowSeconds());
        ps.setLong(4, p.retentionSpaceBytes());
        ps.setString(5, p.appConsistencySchedule());
        ps.setString(6, p.compressor());
        ps.setString(7, p.bandwidthSchedule());
        Sql.setInstant(ps, 8, p.updatedAt());
    }

    private static Policy read(ResultSet rs) throws SQLException {
        return new Policy(rs.getString("id"), rs.getInt("rpo_threshold_seconds"),
                rs.getInt("checkpoint_interval_seconds"), rs.getLong("retention_window_seconds"),
                rs.getLong("retention_space_bytes"), rs.getString("app_consistency_schedule"),
                rs.getString("compressor"), rs.getString("bandwidth_schedule"), Sql.instant(rs, "created_at"),
                Sql.instant(rs, "updated_at"));
    }
}
