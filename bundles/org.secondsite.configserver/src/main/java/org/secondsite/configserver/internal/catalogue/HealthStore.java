package org.secondsite.configserver.internal.catalogue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.secondsite.configserver.internal.ConfigServerException;

/**
 * The latest heartbeat of each component and the latest figures of each of its disks. A heartbeat
 * overwrites the previous one in one short transaction of bound statements, so these tables hold one
 * row per component and per disk whatever the uptime.
 */
public final class HealthStore {
    /**
     * What the catalogue holds for one component.
     *
     * @param heartbeat the latest heartbeat stored
     * @param receivedAt when the configuration server received it (its clock)
     */
    public record Latest(Heartbeat heartbeat, Instant receivedAt) {
    }

    /**
     * A registered component as the alert rules see it.
     *
     * @param componentId its id
     * @param role its role
     * @param registeredAt when it registered
     * @param lastSeen its last heartbeat (server clock), or null if it never sent one
     * @param spoolFreePercent the spool free space it last reported, or null
     */
    public record ComponentState(String componentId, String role, Instant registeredAt, Instant lastSeen,
                                 Double spoolFreePercent) {
    }

    /**
     * A disk a registered component reported, as the alert rules see it.
     *
     * @param componentId the reporting component
     * @param diskId the disk
     * @param rpoSeconds its last reported RPO
     * @param resyncRequired whether it needs a resync
     * @param rpoThresholdSeconds the RPO threshold of its policy (its consistency group's, else its
     *        machine's), or null when the catalogue has no policy for it
     */
    public record DiskState(String componentId, String diskId, long rpoSeconds, boolean resyncRequired,
                            Integer rpoThresholdSeconds) {
    }

    /** Every registered component and every disk they report. */
    public record Snapshot(List<ComponentState> components, List<DiskState> disks) {
    }

    private final Catalogue catalogue;

    public HealthStore(Catalogue catalogue) {
        this.catalogue = catalogue;
    }

    /**
     * Stores a (validated) heartbeat received at {@code receivedAt}: the component's last-seen time
     * always; its figures unless the catalogue holds a heartbeat with a later {@code time} (an
     * out-of-order delivery), in which case they are dropped.
     *
     * @return whether the figures were stored
     * @throws ConfigServerException (not found) if no registered component has this id
     */
    public boolean record(Heartbeat hb, Instant receivedAt) throws SQLException {
        try (Connection c = catalogue.connection()) {
            c.setAutoCommit(false);
            try {
                // Locks the component's row: heartbeats of one component are stored one at a time.
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE components SET last_heartbeat = ? WHERE id = ? AND state = ?")) {
                    Sql.setInstant(ps, 1, receivedAt);
                    ps.setString(2, hb.componentId());
                    ps.setString(3, Component.REGISTERED);
                    if (ps.executeUpdate() == 0) {
                        throw ConfigServerException.notFound("no registered component '" + hb.componentId() + "'");
                    }
                }
                boolean stored = storeFigures(c, hb, receivedAt);
                if (stored) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM disk_health WHERE component_id = ?")) {
                        ps.setString(1, hb.componentId());
                        ps.executeUpdate();
                    }
                    if (!hb.disks().isEmpty()) {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO disk_health (component_id, disk_id, "
                                + "rpo_seconds, backlog_bytes, throughput_bytes_per_second, state, resync_required, "
                                + "resync_percent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                            for (Heartbeat.Disk d : hb.disks()) {
                                ps.setString(1, hb.componentId());
                                ps.setString(2, d.diskId());
                                ps.setLong(3, d.rpoSeconds());
                                ps.setLong(4, d.backlogBytes());
                                ps.setLong(5, d.throughputBytesPerSecond());
                                ps.setString(6, d.state());
                                ps.setBoolean(7, d.resyncRequired());
                                ps.setObject(8, d.resyncPercent(), java.sql.Types.INTEGER);
                                ps.addBatch();
                            }
                            ps.executeBatch();
                        }
                    }
                }
                c.commit();
                return stored;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** Overwrites the component's row unless it holds a later heartbeat; inserts it if missing. */
    private static boolean storeFigures(Connection c, Heartbeat hb, Instant receivedAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE component_health SET reported_at = ?, received_at = ?, "
                + "backlog_bytes = ?, spool_free_percent = ?, cpu_load = ?, memory_used_bytes = ? "
                + "WHERE component_id = ? AND reported_at <= ?")) {
            bindFigures(ps, hb, receivedAt);
            ps.setString(7, hb.componentId());
            Sql.setInstant(ps, 8, hb.time());
            if (ps.executeUpdate() == 1) {
                return true;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM component_health WHERE component_id = ?")) {
            ps.setString(1, hb.componentId());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return false; // a later heartbeat is stored
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO component_health (reported_at, received_at, "
                + "backlog_bytes, spool_free_percent, cpu_load, memory_used_bytes, component_id) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            bindFigures(ps, hb, receivedAt);
            ps.setString(7, hb.componentId());
            ps.executeUpdate();
        }
        return true;
    }

    private static void bindFigures(PreparedStatement ps, Heartbeat hb, Instant receivedAt) throws SQLException {
        Sql.setInstant(ps, 1, hb.time());
        Sql.setInstant(ps, 2, receivedAt);
        ps.setLong(3, hb.backlogBytes());
        setDouble(ps, 4, hb.spoolFreePercent());
        setDouble(ps, 5, hb.cpuLoad());
        if (hb.memoryUsedBytes() == null) {
            ps.setNull(6, Types.BIGINT);
        } else {
            ps.setLong(6, hb.memoryUsedBytes());
        }
    }

    private static void setDouble(PreparedStatement ps, int index, Double value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.DOUBLE);
        } else {
            ps.setDouble(index, value);
        }
    }

    /** The latest heartbeat stored for a component, with its disks ordered by id. */
    public Optional<Latest> latest(String componentId) throws SQLException {
        try (Connection c = catalogue.connection()) {
            Instant time;
            Instant received;
            long backlog;
            Double spool;
            Double cpu;
            Long memory;
            try (PreparedStatement ps = c.prepareStatement("SELECT reported_at, received_at, backlog_bytes, "
                    + "spool_free_percent, cpu_load, memory_used_bytes FROM component_health WHERE component_id = ?")) {
                ps.setString(1, componentId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    time = Sql.instant(rs, "reported_at");
                    received = Sql.instant(rs, "received_at");
                    backlog = rs.getLong("backlog_bytes");
                    spool = rs.getObject("spool_free_percent") == null ? null : rs.getDouble("spool_free_percent");
                    cpu = rs.getObject("cpu_load") == null ? null : rs.getDouble("cpu_load");
                    memory = rs.getObject("memory_used_bytes") == null ? null : rs.getLong("memory_used_bytes");
                }
            }
            List<Heartbeat.Disk> disks = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT disk_id, rpo_seconds, backlog_bytes, "
                    + "throughput_bytes_per_second, state, resync_required, resync_percent FROM disk_health "
                    + "WHERE component_id = ? "
                    + "ORDER BY disk_id")) {
                ps.setString(1, componentId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        int p = rs.getInt(7);
                        Integer percent = rs.wasNull() ? null : p;
                        disks.add(new Heartbeat.Disk(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4),
                                rs.getString(5), rs.getBoolean(6), percent));
                    }
                }
            }
            return Optional.of(new Latest(new Heartbeat(componentId, time, backlog, spool, cpu, memory, disks),
                    received));
        }
    }

    /** What the alert rules evaluate: every registered component, and the disks they reported. */
    public Snapshot snapshot() throws SQLException {
        List<ComponentState> components = new ArrayList<>();
        List<DiskState> disks = new ArrayList<>();
        try (Connection c = catalogue.connection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT c.id, c.role, c.registered_at, c.last_heartbeat, "
                    + "h.spool_free_percent FROM components c LEFT JOIN component_health h ON h.component_id = c.id "
                    + "WHERE c.state = ?")) {
                ps.setString(1, Component.REGISTERED);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        double value = rs.getDouble(5);
                        Double spool = rs.wasNull() ? null : value;
                        components.add(new ComponentState(rs.getString(1), rs.getString(2),
                                Sql.instant(rs, "registered_at"), Sql.instant(rs, "last_heartbeat"), spool));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT dh.component_id, dh.disk_id, dh.rpo_seconds, "
                    + "dh.resync_required, COALESCE(gp.rpo_threshold_seconds, mp.rpo_threshold_seconds) "
                    + "FROM disk_health dh JOIN components c ON c.id = dh.component_id "
                    + "LEFT JOIN disks d ON d.id = dh.disk_id "
                    + "LEFT JOIN machines m ON m.id = d.machine_id "
                    + "LEFT JOIN policies mp ON mp.id = m.policy_id "
                    + "LEFT JOIN consistency_groups g ON g.id = m.group_id "
                    + "LEFT JOIN policies gp ON gp.id = g.policy_id "
                    + "WHERE c.state = ?")) {
                ps.setString(1, Component.REGISTERED);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        int value = rs.getInt(5);
                        Integer threshold = rs.wasNull() ? null : value;
                        disks.add(new DiskState(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getBoolean(4),
                                threshold));
                    }
                }
            }
        }
        return new Snapshot(components, disks);
    }
}
