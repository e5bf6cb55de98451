package org.secondsite.configserver.internal.catalogue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Versioned schema migrations: scripts {@code migrations/V1.sql}, {@code V2.sql}, ... next to
 * this class, applied in order, each in one transaction together with its row in
 * {@code schema_version}. A catalogue whose schema is newer than the newest script is refused:
 * this code would misread it.
 */
public final class Migrations {
    /** One script: its number, first-line description and statements. */
    public record Migration(int version, String description, List<String> statements) {
    }

    static final String RESOURCE_PATTERN = "migrations/V%d.sql";
    /** Scripts are few and small; a larger one is a packaging mistake. */
    private static final int MAX_SCRIPT_BYTES = 1 << 20;

    private final List<Migration> migrations;

    private Migrations(List<Migration> migrations) {
        this.migrations = List.copyOf(migrations);
    }

    /** The scripts shipped with this bundle. */
    public static Migrations bundled() {
        List<Migration> list = new ArrayList<>();
        for (int v = 1;; v++) {
            String name = String.format(RESOURCE_PATTERN, v);
            try (InputStream in = Migrations.class.getResourceAsStream(name)) {
                if (in == null) {
                    break;
                }
                byte[] bytes = in.readNBytes(MAX_SCRIPT_BYTES + 1);
                if (bytes.length > MAX_SCRIPT_BYTES) {
                    throw new IllegalStateException("migration " + name + " is larger than " + MAX_SCRIPT_BYTES + " bytes");
                }
                list.add(parse(v, new String(bytes, StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new IllegalStateException("cannot read migration " + name, e);
            }
        }
        return new Migrations(list);
    }

    /** Migrations from explicit scripts (tests). */
    public static Migrations of(List<Migration> migrations) {
        for (int i = 0; i < migrations.size(); i++) {
            if (migrations.get(i).version() != i + 1) {
                throw new IllegalArgumentException("migrations must be numbered 1, 2, 3 ... in order; found "
                        + migrations.get(i).version() + " at position " + (i + 1));
            }
        }
        return new Migrations(migrations);
    }

    /**
     * Parses a script: the first line, a {@code --} comment, is its description; other
     * {@code --} lines are comments; a statement ends with {@code ;} at the end of a line.
     */
    public static Migration parse(int version, String script) {
        List<String> statements = new ArrayList<>();
        String description = "";
        StringBuilder current = new StringBuilder();
        boolean first = true;
        for (String line : script.split("\r?\n")) {
            String t = line.trim();
            if (t.startsWith("--")) {
                if (first) {
                    description = t.substring(2).trim();
                }
                first = false;
                continue;
            }
            first = false;
            if (t.isEmpty()) {
                continue;
            }
            if (current.length() > 0) {
                current.append('\n');
            }
            if (t.endsWith(";")) {
                current.append(line, 0, line.lastIndexOf(';'));
                statements.add(current.toString().trim());
                current.setLength(0);
            } else {
                current.append(line);
            }
        }
        if (!current.toString().isBlank()) {
            throw new IllegalArgumentException("migration V" + version + " ends with a statement without ';': "
                    + current.toString().trim());
        }
        return new Migration(version, description, statements);
    }

    /** The newest schema version these scripts produce. */
    public int latest() {
        return migrations.size();
    }

    /** The schema version of the catalogue behind {@code c}: 0 for an empty database. */
    public static int currentVersion(Connection c) throws SQLException {
        DatabaseMetaData meta = c.getMetaData();
        try (ResultSet rs = meta.getTables(null, null, "SCHEMA_VERSION", new String[] {"TABLE"})) {
            if (!rs.next()) {
                return 0;
            }
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT MAX(version) FROM schema_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    /**
     * Brings the catalogue to {@link #latest()}.
     *
     * @return the versions applied now (empty when it was current)
     * @throws SQLException if a script fails (that script's changes are rolled back, earlier ones
     *         stay) or the catalogue is newer than these scripts
     */
    public List<Integer> migrate(Connection c, String where) throws SQLException {
        int current = currentVersion(c);
        if (current > latest()) {
            throw new SQLException("the catalogue " + where + " has schema version " + current
                    + ", newer than version " + latest() + " that this configuration server knows: it was written by a "
                    + "newer SecondSite. Run that version, or restore a backup of the catalogue made for this one.",
                    "XSS01");
        }
        boolean autoCommit = c.getAutoCommit();
        List<Integer> applied = new ArrayList<>();
        try {
            c.setAutoCommit(false);
            if (current == 0) {
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY, "
                            + "description VARCHAR(200) NOT NULL, applied_at TIMESTAMP NOT NULL)");
                }
                c.commit();
            }
            for (Migration m : migrations.subList(current, latest())) {
                try (Statement st = c.createStatement()) {
                    for (String sql : m.statements()) {
                        st.executeUpdate(sql);
                    }
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                        ps.setInt(1, m.version());
                        String d = m.description();
                        ps.setString(2, d.length() > 200 ? d.substring(0, 200) : d);
                        Sql.setInstant(ps, 3, Instant.now());
                        ps.executeUpdate();
                    }
                    c.commit();
                    applied.add(m.version());
                } catch (SQLException e) {
                    c.rollback();
                    throw new SQLException("migration V" + m.version() + " (" + m.description() + ") failed and was "
                            + "rolled back: " + e.getMessage(), e.getSQLState(), e);
                }
            }
        } finally {
            c.setAutoCommit(autoCommit);
        }
        return applied;
    }
}
