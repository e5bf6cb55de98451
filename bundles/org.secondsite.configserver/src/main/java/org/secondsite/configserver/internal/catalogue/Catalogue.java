package org.secondsite.configserver.internal.catalogue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import org.apache.derby.jdbc.EmbeddedDataSource;

/**
 * The configuration server's catalogue: an embedded Derby database in one directory, brought to
 * the current schema when opened (see {@link Migrations}) and shut down cleanly when closed, so
 * the next open (after a restart or a bundle update) finds every committed row.
 */
public final class Catalogue implements AutoCloseable {
    private final Path directory;
    private final EmbeddedDataSource dataSource;
    private final int schemaVersion;
    private final List<Integer> appliedNow;

    private Catalogue(Path directory, EmbeddedDataSource dataSource, int schemaVersion, List<Integer> appliedNow) {
        this.directory = directory;
        this.dataSource = dataSource;
        this.schemaVersion = schemaVersion;
        this.appliedNow = appliedNow;
    }

    /**
     * Opens (creating it if missing) the catalogue in {@code directory} and applies the pending
     * migrations.
     *
     * @throws SQLException if Derby cannot open it, a migration fails, or the catalogue's schema is
     *         newer than {@code migrations} know (the database is shut down again before throwing)
     */
    public static Catalogue open(Path directory, Migrations migrations) throws SQLException {
        try {
            Files.createDirectories(directory.toAbsolutePath().getParent());
        } catch (java.io.IOException e) {
            throw new SQLException("cannot create the parent folder of the catalogue " + directory + ": " + e, e);
        }
        EmbeddedDataSource ds = new EmbeddedDataSource();
        ds.setDatabaseName(directory.toAbsolutePath().toString());
        ds.setCreateDatabase("create");
        List<Integer> applied;
        int version;
        try (Connection c = ds.getConnection()) {
            applied = migrations.migrate(c, directory.toString());
            version = Migrations.currentVersion(c);
        } catch (SQLException e) {
            shutdown(directory);
            throw e;
        }
        ds.setCreateDatabase(null);
        return new Catalogue(directory, ds, version, List.copyOf(applied));
    }

    /** A new connection in auto-commit mode; the caller closes it. */
    public Connection connection() throws SQLException {
        return dataSource.getConnection();
    }

    /** The schema version after opening. */
    public int schemaVersion() {
        return schemaVersion;
    }

    /** Migrations applied by {@link #open} (empty if the catalogue was current). */
    public List<Integer> appliedNow() {
        return appliedNow;
    }

    public Path directory() {
        return directory;
    }

    /** Shuts the database down (committed data is on disk; open connections become unusable). */
    @Override
    public void close() throws SQLException {
        shutdown(directory);
    }

    /**
     * Stops the whole Derby engine of this class loader (its threads and caches). For the OSGi
     * component's deactivation: Derby is embedded in this bundle, so no one else uses this engine,
     * and a bundle update must not leave the old engine running.
     */
    public static void shutdownEngine() throws SQLException {
        EmbeddedDataSource ds = new EmbeddedDataSource();
        ds.setDatabaseName("");
        ds.setShutdownDatabase("shutdown");
        try (Connection ignored = ds.getConnection()) {
            throw new SQLException("Derby did not confirm the engine shutdown");
        } catch (SQLException e) {
            if (!"XJ015".equals(e.getSQLState())) { // XJ015: Derby system shut down
                throw e;
            }
        }
    }

    private static void shutdown(Path directory) throws SQLException {
        EmbeddedDataSource ds = new EmbeddedDataSource();
        ds.setDatabaseName(directory.toAbsolutePath().toString());
        ds.setShutdownDatabase("shutdown");
        try (Connection ignored = ds.getConnection()) {
            throw new SQLException("Derby did not confirm the shutdown of " + directory);
        } catch (SQLException e) {
            // 08006: database shut down (success); XJ004: it was not booted (nothing to do).
            if (!"08006".equals(e.getSQLState()) && !"XJ004".equals(e.getSQLState())) {
                throw e;
            }
        }
    }
}
