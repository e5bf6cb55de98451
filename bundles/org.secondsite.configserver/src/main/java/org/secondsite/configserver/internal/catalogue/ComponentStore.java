package org.secondsite.configserver.internal.catalogue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.Page;

/** Components and revoked certificates in the catalogue. Every statement uses bound parameters. */
public final class ComponentStore {
    private static final String COLUMNS = "id, role, site_id, address, certificate_serial, certificate_expires, state, "
            + "registered_at, removed_at, last_heartbeat, metrics";

    private final Catalogue catalogue;
    private final Rows<Component> rows;

    public ComponentStore(Catalogue catalogue) {
        this.catalogue = catalogue;
        this.rows = new Rows<>(catalogue, "components", COLUMNS, ComponentStore::read);
    }

    public Optional<Component> find(String id) throws SQLException {
        return rows.find(id);
    }

    /** Components ordered by id, removed ones included (their state says so). */
    public Page<Component> list(int offset, int limit) throws SQLException {
        return rows.page(offset, limit);
    }

    /**
     * Records a registration: a new component, or a removed one registering again (with a new
     * certificate). Creates its site if the catalogue does not know it yet.
     *
     * @throws ConfigServerException (conflict) if a component with this id is registered now
     */
    public void register(Component component) throws SQLException {
        try (Connection c = catalogue.connection()) {
            c.setAutoCommit(false);
            try {
                if (component.site() != null) {
                    ensureSite(c, component.site(), component.registeredAt());
                }
                String state = null;
                try (PreparedStatement ps = c.prepareStatement("SELECT state FROM components WHERE id = ? FOR UPDATE")) {
                    ps.setString(1, component.id());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            state = rs.getString(1);
                        }
                    }
                }
                if (Component.REGISTERED.equals(state)) {
                    throw ConfigServerException.conflict("component '" + component.id() + "' is already registered; "
                            + "an administrator must remove it (dr:component-remove) before it registers again");
                }
                String sql = state == null
                        ? "INSERT INTO components (role, site_id, address, certificate_serial, certificate_expires, state, "
                                + "registered_at, removed_at, last_heartbeat, metrics, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        : "UPDATE components SET role = ?, site_id = ?, address = ?, certificate_serial = ?, "
                                + "certificate_expires = ?, state = ?, registered_at = ?, removed_at = ?, last_heartbeat = ?, "
                                + "metrics = ? WHERE id = ?";
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setString(1, component.role());
                    ps.setString(2, component.site());
                    ps.setString(3, component.address());
                    ps.setString(4, component.certificateSerial());
                    Sql.setInstant(ps, 5, component.certificateExpires());
                    ps.setString(6, Component.REGISTERED);
                    Sql.setInstant(ps, 7, component.registeredAt());
                    Sql.setInstant(ps, 8, null);
                    Sql.setInstant(ps, 9, null);
                    ps.setString(10, null);
                    ps.setString(11, component.id());
                    ps.executeUpdate();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                if (e instanceof SQLException s && Sql.isDuplicateKey(s)) {
                    throw ConfigServerException.conflict("component '" + component.id() + "' registered concurrently");
                }
                throw e;
            }
        }
    }

    /**
     * Marks a registered component removed and revokes its certificate, in one transaction.
     *
     * @return the component as it was before removal
     * @throws ConfigServerException (not found) if no registered component has this id
     */
    public Component remove(String id, Instant now) throws SQLException {
        try (Connection c = catalogue.connection()) {
            c.setAutoCommit(false);
            try {
                Component before;
                try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                        + " FROM components WHERE id = ? FOR UPDATE")) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw ConfigServerException.notFound("no component '" + id + "'");
                        }
                        before = read(rs);
                    }
                }
                if (!Component.REGISTERED.equals(before.state())) {
                    throw ConfigServerException.notFound("component '" + id + "' is already removed");
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE components SET state = ?, removed_at = ? WHERE id = ?")) {
                    ps.setString(1, Component.REMOVED);
                    Sql.setInstant(ps, 2, now);
                    ps.setString(3, id);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO revoked_certificates (serial, component_id, revoked_at) VALUES (?, ?, ?)")) {
                    ps.setString(1, before.certificateSerial());
                    ps.setString(2, id);
                    Sql.setInstant(ps, 3, now);
                    ps.executeUpdate();
                }
                c.commit();
                return before;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** Revokes a certificate that was signed but never recorded for its component. */
    public void revokeUnrecorded(String serial, String componentId, Instant now) throws SQLException {
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO revoked_certificates (serial, component_id, revoked_at) VALUES (?, ?, ?)")) {
            ps.setString(1, serial);
            ps.setString(2, componentId);
            Sql.setInstant(ps, 3, now);
            ps.executeUpdate();
        }
    }

    /** Serial numbers (hexadecimal) of every revoked certificate. */
    public List<String> revokedSerials() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("SELECT serial FROM revoked_certificates ORDER BY serial");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static void ensureSite(Connection c, String site, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM sites WHERE id = ?")) {
            ps.setString(1, site);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO sites (id, name, created_at) VALUES (?, ?, ?)")) {
            ps.setString(1, site);
            ps.setString(2, site);
            Sql.setInstant(ps, 3, now);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (!Sql.isDuplicateKey(e)) { // created by a concurrent registration: fine
                throw e;
            }
        }
    }

    private static Component read(ResultSet rs) throws SQLException {
        return new Component(rs.getString("id"), rs.getString("role"), rs.getString("site_id"), rs.getString("address"),
                rs.getString("certificate_serial"), Sql.instant(rs, "certificate_expires"), rs.getString("state"),
                Sql.instant(rs, "registered_at"), Sql.instant(rs, "removed_at"), Sql.instant(rs, "last_heartbeat"),
                rs.getString("metrics"));
    }
}
